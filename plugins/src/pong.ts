// pong: companion of ping for reentrancy and trap-propagation tests.
//
// export bounce():    input = decimal id X; calls X's `ping` with the same input
//                     (so a `ping` plugin X then calls itself: refused by the host).
//                     A malformed input fails with "pong: input must be a decimal plugin id".
// export call_trap(): registers `trap` and calls trap.trap; the callee's trap must
//                     surface as a failure of this call.

import { callPluginBlock, pingPluginNamedByInput, registerPlugin } from "./lib/ipc";
import { inputToBlock, outputBlock } from "./lib/mem";

export function bounce(): i32 {
  return pingPluginNamedByInput("pong");
}

export function call_trap(): i32 {
  const id = registerPlugin("trap");
  outputBlock(callPluginBlock(id, "trap", inputToBlock(), true));
  return 0;
}
