// asc-options: --exportStart _start
//
// command_style: a command module. Its top-level code is exported as `_start` (the program, as a
// WASI command's `main`) instead of running from the wasm start section. As in Extism, the host
// never runs `_start` at load: a call to `_start` runs the program, and since a command runs once,
// the host gives it a fresh instance after each `_start` call (its vars live host-side and stay).
//
// export _start(): the program. Adds 1 to var `runs` (decimal text, missing = 0) and outputs
//   "run <runs>": "run 1", then "run 2" on the fresh instance the next `_start` call gets.
//   (AssemblyScript's exported start runs its body once per instance: a second `_start` on the
//   same instance would output nothing.)
// export ready(): outputs "started 42" when the program ran in this instance, "not started 0"
//   if not (so: "not started 0" after load, and again after a `_start` call, on the fresh instance).

import { Var } from "@extism/as-pdk";
import { outputBytes, outputString } from "./lib/mem";

function compute(): i32 {
  return 6 * 7;
}

const answer: i32 = compute();

const prev = Var.getString("runs");
const runs: i32 = (prev == null ? 0 : I32.parseInt(prev!)) + 1;
Var.set("runs", Uint8Array.wrap(String.UTF8.encode(runs.toString())));
outputString("run " + runs.toString());

// static bytes: before the program ran, AssemblyScript's heap is not set up, so `ready` allocates nothing
export function ready(): i32 {
  if (answer == 42) outputBytes(memory.data<u8>([115, 116, 97, 114, 116, 101, 100, 32, 52, 50]), 10); // "started 42"
  else outputBytes(memory.data<u8>([110, 111, 116, 32, 115, 116, 97, 114, 116, 101, 100, 32, 48]), 13); // "not started 0"
  return 0;
}
