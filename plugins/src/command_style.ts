// asc-options: --exportStart _start
//
// command_style: a module whose start-up code is exported as `_start` (a WASI-style command)
// instead of running from the wasm start section, as modules from several toolchains are.
// The host must call `_start` once at load, as Extism's SDKs do, before any export.
// export ready(): outputs "initialized 42" when the start-up code ran, "not initialized 0" if not.

import { outputString } from "./lib/mem";

function compute(): i32 {
  return 6 * 7;
}

const answer: i32 = compute();

export function ready(): i32 {
  outputString(answer == 42 ? "initialized 42" : "not initialized " + answer.toString());
  return 0;
}
