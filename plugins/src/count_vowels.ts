// count_vowels: counts the vowels in the input bytes.
//
// export count_vowels(): input = any bytes (not decoded: the loop runs over bytes).
//   Vowel set: config key `vowels` (a set of bytes; missing or empty = "aeiouAEIOU").
//   Running total: var `total`, 8-byte little-endian u64 (a var of any other size
//   counts as 0).
//   Output: {"count":N,"total":T,"vowels":"<set>"} with no spaces, e.g. for
//   "Hello, World!" on a fresh instance: {"count":3,"total":3,"vowels":"aeiouAEIOU"}
//   and {"count":3,"total":6,...} on the next call.

import { Config, Var } from "@extism/as-pdk";
import { input_length, input_load_u64, input_load_u8, outputBytes } from "./lib/mem";
import { DEFAULT_VOWELS, countWord, fillTable, fillTableAscii, jsonMaxLength, writeJson, writeJsonAscii } from "./lib/vowels";

const table = memory.data(256);

export function count_vowels(): i32 {
  // Vowel set: raw bytes of the config value, never decoded.
  const cfg = Config.getMemory("vowels");
  let set: Uint8Array | null = null;
  if (cfg !== null) {
    set = cfg.toUint8Array();
    fillTable(table, set.dataStart, <usize>set.length);
  } else {
    fillTableAscii(table, DEFAULT_VOWELS);
  }

  // Stream the input 8 bytes per host call.
  const len = input_length();
  let count: u64 = 0;
  let i: u64 = 0;
  const n8 = len & ~(<u64>7);
  for (; i < n8; i += 8) count += <u64>countWord(table, input_load_u64(i));
  for (; i < len; i++) count += <u64>load<u8>(table + <usize>input_load_u8(i));

  // Running total in var `total` (u64 LE).
  let total = count;
  const prev = Var.get("total");
  if (prev !== null && prev.length == 8) total += load<u64>(prev.dataStart);
  const totalBytes = new Uint8Array(8);
  store<u64>(totalBytes.dataStart, total);
  Var.set("total", totalBytes);

  if (set !== null) {
    const buf = new Uint8Array(<i32>jsonMaxLength(<usize>set.length));
    const end = writeJson(buf.dataStart, count, total, set.dataStart, <usize>set.length);
    outputBytes(buf.dataStart, end - buf.dataStart);
  } else {
    const buf = new Uint8Array(<i32>jsonMaxLength(<usize>DEFAULT_VOWELS.length));
    const end = writeJsonAscii(buf.dataStart, count, total, DEFAULT_VOWELS);
    outputBytes(buf.dataStart, end - buf.dataStart);
  }
  return 0;
}
