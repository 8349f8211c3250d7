// ping: calls back into a plugin by id (reentrancy test).
//
// export ping(): input = decimal id of a plugin (e.g. "3"); calls that plugin's
//   `ping` with the same input and outputs its output. Given its own id, or the id
//   of a plugin already on the call stack, the host must refuse the call (an Extism
//   plugin is not reentrant), so the call fails with the host's error. A malformed
//   input fails with "ping: input must be a decimal plugin id".

import { call_plugin } from "./lib/ipc";
import { free, inputDecimal, inputToBlock, outputBlock, setError, writeString } from "./lib/mem";

export function ping(): i32 {
  const id = inputDecimal();
  if (id < 0) {
    setError("ping: input must be a decimal plugin id");
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
