// run_bound: the seed scenario through a binding instead of register_plugin + call_plugin.
//
// It imports `extism:host/user.count_vowels(i64) -> i64` (an input block in, an output block
// out); the host binds that import to `count_vowels.count_vowels`, for example with the setting
//   "extismIpc.bindings": { "run_bound": { "extism:host/user.count_vowels": "count_vowels.count_vowels" } }
// or `extism-ipc call run_bound run --bind count_vowels=count_vowels.count_vowels`.
// The plugin knows no ids and no function names: the host loaded count_vowels as its child.
//
// export run(): calls the bound count_vowels with "Hello, World!" and outputs the callee's output
//   unchanged, e.g. on a fresh callee: {"count":3,"total":3,"vowels":"aeiouAEIOU"}

import { free, outputBlock, writeString } from "./lib/mem";

// @ts-ignore: decorator
@external("extism:host/user", "count_vowels")
declare function count_vowels(input: u64): u64;

export function run(): i32 {
  const input = writeString("Hello, World!");
  const out = count_vowels(input);
  free(input);
  outputBlock(out); // hand the callee's output block on as our output, no copy
  return 0;
}
