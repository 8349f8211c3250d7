// launcher: a plugin that does what its input says, so tests can drive register_plugin,
// call_plugin and unregister_plugin from inside a plugin with any arguments.
//
// export spawn():      input = a plugin name; registers it and outputs the new id as decimal text.
// export call():       input = "<id>:<function>:<payload>"; calls that export of that plugin with
//                      the payload and outputs its output.
// export spawn_call(): input = "<name>:<function>:<payload>"; registers the plugin, then calls it.
// export unregister(): input = a decimal id; unregisters it and outputs "0".
// export spawn_many(): see below.

import { call_plugin, register_plugin, unregister_plugin } from "./lib/ipc";
import { inputString, outputBlock, outputString, setError, writeString } from "./lib/mem";

function parse(s: string): string[] | null {
  const a = s.indexOf(":");
  if (a < 0) return null;
  const b = s.indexOf(":", a + 1);
  if (b < 0) return null;
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

function callWith(id: u64, func: string, payload: string): void {
  outputBlock(call_plugin(id, writeString(func), payload.length ? writeString(payload) : 0));
}

export function spawn(): i32 {
  outputString(register_plugin(writeString(inputString())).toString());
  return 0;
}

export function call(): i32 {
  const parts = parse(inputString());
  if (parts === null) {
    setError('launcher.call: input must be "<id>:<function>:<payload>"');
    return 1;
  }
  callWith(<u64>I64.parseInt(parts[0]), parts[1], parts[2]);
  return 0;
}

export function spawn_call(): i32 {
  const parts = parse(inputString());
  if (parts === null) {
    setError('launcher.spawn_call: input must be "<name>:<function>:<payload>"');
    return 1;
  }
  callWith(register_plugin(writeString(parts[0])), parts[1], parts[2]);
  return 0;
}

export function unregister(): i32 {
  outputString(unregister_plugin(<u64>I64.parseInt(inputString())).toString());
  return 0;
}

// export spawn_many(): input = "<name>:<k>"; registers the plugin and unregisters it again, k
//                      times (the benchmark's spawn cost); outputs the last id.
export function spawn_many(): i32 {
  const s = inputString();
  const colon = s.indexOf(":");
  if (colon < 0) {
    setError('launcher.spawn_many: input must be "<name>:<k>"');
    return 1;
  }
  const name = writeString(s.slice(0, colon));
  const k = I32.parseInt(s.slice(colon + 1));
  let id: u64 = 0;
  for (let i = 0; i < k; i++) {
    id = register_plugin(name);
    unregister_plugin(id);
  }
  outputString(id.toString());
  return 0;
}
