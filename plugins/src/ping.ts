// ping: calls back into a plugin by id (reentrancy test).
//
// export ping(): input = decimal id of a plugin (e.g. "3"); calls that plugin's
//   `ping` with the same input and outputs its output. Given its own id, or the id
//   of a plugin already on the call stack, the host must refuse the call (an Extism
//   plugin is not reentrant), so the call fails with the host's error. A malformed
//   input fails with "ping: input must be a decimal plugin id".

import { pingPluginNamedByInput } from "./lib/ipc";

export function ping(): i32 {
  return pingPluginNamedByInput("ping");
}
