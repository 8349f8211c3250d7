// links: math
//
// linked_main: the main module of a two-module plugin. It imports `add` and `mul` from a module
// named "math" (math_lib.wasm, linked by the manifest or `--link math=…`).
// export compute(): input "<a> <b>" (decimal); outputs "<a+b> <a*b>", e.g. "2 40" -> "42 80".

import { inputString, outputString, setError } from "./lib/mem";

// @ts-ignore: decorator
@external("math", "add")
declare function add(a: i32, b: i32): i32;

// @ts-ignore: decorator
@external("math", "mul")
declare function mul(a: i32, b: i32): i32;

export function compute(): i32 {
  const parts = inputString().split(" ");
  if (parts.length != 2) {
    setError('compute: input must be "<a> <b>"');
    return 1;
  }
  const a = I32.parseInt(parts[0]);
  const b = I32.parseInt(parts[1]);
  outputString(add(a, b).toString() + " " + mul(a, b).toString());
  return 0;
}
