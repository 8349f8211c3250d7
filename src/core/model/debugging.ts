// What a face and the runtime say about debugging a call.

/**
 * The file the debugger sees for the step into a plugin's export. It is not one of the runtime's
 * skipped files: a debug session pauses there and steps on into the export.
 */
export const PLUGIN_ENTRY_FILE = 'extism-plugin-entry.js';

/**
 * A call made for a debugger: it pauses in the debugger at its export's entry (and at every plugin
 * export it reaches, with `everyEntry`), and no time limit runs out while it is paused.
 */
export interface DebugCallOptions {
  everyEntry: boolean;
}

/** Where a debugger reaches the runtime process, and the process to interrupt a debugged call in. */
export interface InspectorAddress {
  url: string;
  host: string;
  port: number;
  pid: number;
}
