// run: the seed scenario, written against the ORIGINAL seed ABI: register_plugin and
// call_plugin are imported from module `env` (as a plain `extern "C"` block would),
// not from `extism:host/user`.
//
// export run(): registers `count_vowels`, calls its `count_vowels` with
//   "Hello, World!" and outputs the callee's output unchanged, e.g. on a fresh callee:
//   {"count":3,"total":3,"vowels":"aeiouAEIOU"}
// It registers count_vowels once per instance of `run` and keeps the id, so calling `run`
// again reuses the same live count_vowels (whose running total then grows) instead of
// spawning a new one each time.

import { free, outputBlock, writeString } from "./lib/mem";

// @ts-ignore: decorator
@external("env", "register_plugin")
declare function register_plugin(name: u64): u64;

// @ts-ignore: decorator
@external("env", "call_plugin")
declare function call_plugin(id: u64, func: u64, input: u64): u64;

let counter: u64 = 0;

export function run(): i32 {
  if (counter == 0) {
    const name = writeString("count_vowels");
    counter = register_plugin(name);
    free(name);
  }
  const id = counter;

  const func = writeString("count_vowels");
  const input = writeString("Hello, World!");
  const out = call_plugin(id, func, input);
  free(func);
  free(input);

  outputBlock(out); // hand the callee's output block on as our output, no copy
  return 0;
}
