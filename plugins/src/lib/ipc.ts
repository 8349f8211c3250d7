// Binding for the Extism IPC host functions (DESIGN.md, "Host-function ABI"),
// imported from `extism:host/user`. Every pointer is an offset in this plugin's
// Extism memory; lengths come from the blocks. A refused or failed operation makes
// the host function throw, so the calling export traps: there is no error code to check.

import { free, inputDecimal, inputToBlock, length, outputBlock, readBlock, setError, writeBlock, writeBytes, writeString } from "./mem";

// @ts-ignore: decorator
@external("extism:host/user", "register_plugin")
export declare function register_plugin(name: u64): u64;

// @ts-ignore: decorator
@external("extism:host/user", "call_plugin")
export declare function call_plugin(id: u64, func: u64, input: u64): u64;

// @ts-ignore: decorator
@external("extism:host/user", "unregister_plugin")
export declare function unregister_plugin(id: u64): u64;

/** Loads the plugin `name` from the plugin directories; returns its id. */
export function registerPlugin(name: string): u64 {
  const nameBlock = writeString(name);
  const id = register_plugin(nameBlock);
  free(nameBlock);
  return id;
}

/** Calls export `func` of plugin `id` with `input`; returns the output bytes. */
export function callPlugin(id: u64, func: string, input: Uint8Array): Uint8Array {
  const out = callPluginBlock(id, func, writeBlock(input), true);
  const bytes = readBlock(out);
  if (out != 0) free(out);
  return bytes;
}

/** Calls export `func` of plugin `id` with the bytes already in Extism block
 *  `inputBlock`; returns the offset of the output block (in this plugin's memory),
 *  e.g. to hand it on with outputBlock() without copying. Frees `inputBlock` if
 *  `freeInput`. */
export function callPluginBlock(id: u64, func: string, inputBlock: u64, freeInput: bool = false): u64 {
  const funcBlock = writeString(func);
  const out = call_plugin(id, funcBlock, inputBlock);
  free(funcBlock);
  if (freeInput && inputBlock != 0) free(inputBlock);
  return out;
}

/** Ends plugin `id` (one this plugin spawned); returns the host's code (0 = ok). */
export function unregisterPlugin(id: u64): u64 {
  return unregister_plugin(id);
}

export { length, writeBytes };

/** Calls the `ping` export of the plugin whose decimal id is this call's input, with the same
 *  input, and outputs its output (the reentrancy tests' building block). */
export function pingPluginNamedByInput(who: string): i32 {
  const id = inputDecimal();
  if (id < 0) {
    setError(who + ": input must be a decimal plugin id");
    return 1;
  }
  outputBlock(callPluginBlock(<u64>id, "ping", inputToBlock(), true));
  return 0;
}
