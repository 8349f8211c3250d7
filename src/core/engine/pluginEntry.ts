import * as vm from 'node:vm';
import { PLUGIN_ENTRY_FILE } from '../model/debugging';

type Enter = (callExport: () => unknown) => unknown;

/** How an export is entered: directly (null, always outside a debug call) or through a pause. */
export const pluginEntry: { through: Enter | null } = { through: null };

const PAUSE_SOURCE = `(function extismPluginEntry(callExport) {
  debugger; // a debugged call enters a plugin's export: Step Into goes on into it
  return callExport();
})`;

let pause: Enter | undefined;

/**
 * Until `enterDirectly`, the next export entered pauses in an attached debugger first, and so does
 * every one after it (a callee through call_plugin or a binding) when `everyEntry`.
 */
export function pauseOnEntry(everyEntry: boolean): void {
  const enter = (pause ??= vm.runInThisContext(PAUSE_SOURCE, { filename: PLUGIN_ENTRY_FILE }) as Enter);
  let first = true;
  pluginEntry.through = (callExport) => {
    if (!first && !everyEntry) return callExport();
    first = false;
    return enter(callExport);
  };
}

export function enterDirectly(): void {
  pluginEntry.through = null;
}
