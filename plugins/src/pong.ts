// pong: companion of ping for reentrancy and trap-propagation tests.
//
// export bounce():    input = decimal id X; calls X's `ping` with the same input
//                     (so a `ping` plugin X then calls itself: refused by the host).
//                     A malformed input fails with "pong: input must be a decimal plugin id".
// export call_trap(): registers `trap` and calls trap.trap; the callee's trap must
//                     surface as a failure of this call.

import { call_plugin, registerPlugin, callPluginBlock } from "./lib/ipc";
import { free, inputDecimal, inputToBlock, outputBlock, setError, writeString } from "./lib/mem";

export function bounce(): i32 {
  const id = inputDecimal();
  if (id < 0) {
    setError("pong: input must be a decimal plugin id");
    return 1;
  }
  const func = writeString("ping");
  const input = inputToBlock();
  const out = call_plugin(<u64>id, func, input);
  free(func);
  free(input);
  outputBlock(out);
  return 0;
}

export function call_trap(): i32 {
  const id = registerPlugin("trap");
  outputBlock(callPluginBlock(id, "trap", inputToBlock(), true));
  return 0;
}
