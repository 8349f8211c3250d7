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
let entered = false;

/**
 * Until `enterDirectly`, the next export entered pauses in an attached debugger first, and so does
 * every one after it (a callee through call_plugin or a binding) when `everyEntry`.
 */
export function pauseOnEntry(everyEntry: boolean): void {
  const enter = (pause ??= vm.runInThisContext(PAUSE_SOURCE, { filename: PLUGIN_ENTRY_FILE }) as Enter);
  let first = true;
  entered = false;
  pluginEntry.through = (callExport) => {
    if (!first && !everyEntry) return callExport();
    if (!first) return enter(callExport);
    first = false;
    // set past the pause: a stop that reaches the call while it is paused there ends it before this
    return enter(() => {
      entered = true;
      return callExport();
    });
  };
}

/** Whether the debugged call (since `pauseOnEntry`) has gone on past its first entry pause into its export. */
export function enteredAnExport(): boolean {
  return entered;
}

export function enterDirectly(): void {
  pluginEntry.through = null;
}
