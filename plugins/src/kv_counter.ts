// host modules: example:math
//
// kv_counter: a plugin written against its host application's API, as Extism's own
// count_vowels_kvstore is. It imports functions no Extism host has: the host must supply them
// from a JS module (`extism-ipc call kv_counter count_vowels hello --host-functions
// plugins/host-functions/kv.mjs`, the setting extismIpc.hostFunctions, or a call file's
// "hostFunctions"); plugins/host-functions/kv.mjs is one:
//   extism:host/user.kv_read(key: i64) -> i64     the value stored under the key (a block; 0: none)
//   extism:host/user.kv_write(key: i64, value: i64)
//   example:math.mult(a: i64, b: i64) -> i64      numbers in, a number out: no memory
//   example:math.scale(x: f64, by: i32) -> f64
//
// export count_vowels(): counts the vowels of the input and adds them to the count the host keeps
//   under "count" (a decimal string); outputs {"count":N,"total":T}, e.g. for "Hello, World!" on a
//   fresh store {"count":3,"total":3}.
// export arith(): input "A B" (two integers); outputs "<mult(A, B)> <scale(A, B)>", e.g. "6 7" -> "42 42.0"
//   with kv.mjs, whose scale multiplies.

import { free, inputString, outputString, readBlock, writeString } from "./lib/mem";

// @ts-ignore: decorator
@external("extism:host/user", "kv_read")
declare function kv_read(key: u64): u64;

// @ts-ignore: decorator
@external("extism:host/user", "kv_write")
declare function kv_write(key: u64, value: u64): void;

// @ts-ignore: decorator
@external("example:math", "mult")
declare function mult(a: i64, b: i64): i64;

// @ts-ignore: decorator
@external("example:math", "scale")
declare function scale(x: f64, by: i32): f64;

function isVowel(c: i32): bool {
  return c == 97 || c == 101 || c == 105 || c == 111 || c == 117 || c == 65 || c == 69 || c == 73 || c == 79 || c == 85;
}

export function count_vowels(): i32 {
  const text = inputString();
  let count: i64 = 0;
  for (let i = 0; i < text.length; i++) if (isVowel(text.charCodeAt(i))) count++;

  const key = writeString("count");
  const stored = kv_read(key);
  let total = count;
  if (stored != 0) {
    const bytes = readBlock(stored);
    free(stored);
    total += I64.parseInt(String.UTF8.decode(bytes.buffer));
  }
  const value = writeString(total.toString());
  kv_write(key, value);
  free(key);
  free(value);
  outputString(`{"count":${count},"total":${total}}`);
  return 0;
}

export function arith(): i32 {
  const parts = inputString().split(" ");
  const a = I64.parseInt(parts[0]);
  const b = parts.length > 1 ? I64.parseInt(parts[1]) : 1;
  outputString(`${mult(a, b)} ${scale(<f64>a, <i32>b)}`);
  return 0;
}
