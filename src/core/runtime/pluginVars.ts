import { PluginError } from '../model/errors';
import { describePlugin } from '../model/registry';

/** What a plugin's vars need: the store and its limit. */
export interface PluginVars {
  id: number;
  name: string;
  vars: Map<string, Uint8Array>;
  maxVarBytes: number;
}

function varBytes(vars: Map<string, Uint8Array>): number {
  let n = 0;
  for (const [k, v] of vars) n += k.length + v.byteLength;
  return n;
}

/** Sets a var within `max_var_bytes` (names count with their values); `who` names the call for the error. */
export function setPluginVar(plugin: PluginVars, name: string, bytes: Uint8Array, who: string): void {
  const old = plugin.vars.get(name);
  const total = varBytes(plugin.vars) - (old?.byteLength ?? 0) + bytes.byteLength + (old ? 0 : name.length);
  if (total > plugin.maxVarBytes) {
    throw new PluginError(`${who}: ${describePlugin(plugin)} vars would take ${total} bytes, over the limit of ${plugin.maxVarBytes} (max_var_bytes)`);
  }
  plugin.vars.set(name, bytes);
}
