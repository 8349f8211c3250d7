// relay: a round trip through call_plugin.
//
// export relay(): registers `echo` (once per instance; the id is kept in a global),
//   calls echo.echo with its own input and outputs the result: the input unchanged.

import { registerPlugin, callPluginBlock } from "./lib/ipc";
import { inputToBlock, outputBlock } from "./lib/mem";

let echoId: u64 = 0;

export function relay(): i32 {
  if (echoId == 0) echoId = registerPlugin("echo");
  outputBlock(callPluginBlock(echoId, "echo", inputToBlock(), true));
  return 0;
}
