// badptr: passes invalid Extism offsets to the host functions; the host must refuse
// them (throw), not crash or read out of bounds.
//
// export bad_register(): register_plugin(0xFFFFFFF0).
// export bad_call():     call_plugin(1, 0xFFFFFFF0, 0).
// If the host does return, the export outputs the returned value as decimal text
// (so a test can see what happened) and returns 0.

import { call_plugin, register_plugin } from "./lib/ipc";
import { outputString } from "./lib/mem";

export function bad_register(): i32 {
  const r = register_plugin(0xfffffff0);
  outputString(r.toString());
  return 0;
}

export function bad_call(): i32 {
  const r = call_plugin(1, 0xfffffff0, 0);
  outputString(r.toString());
  return 0;
}
