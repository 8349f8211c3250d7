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

/** Which build flag of a PDK keeps DWARF in the module. */
export function keepDebugInfo(language: string | undefined): string {
  switch (language) {
    case 'Rust':
      return 'Rust: build with `debug = true` in the release profile (or `-g` / a debug build).';
    case 'C':
    case 'C++':
      return `${language}: compile with \`-g\` and do not strip (no \`-s\`, no \`wasm-opt --strip-debug\`).`;
    case 'Go':
      return 'Go: build without `-ldflags=-w`.';
    case 'TinyGo':
      return 'TinyGo: build without `-no-debug`.';
    case 'Zig':
      return 'Zig: build with `-O Debug` or `-O ReleaseSafe`, not `-O ReleaseSmall` or `--strip`.';
    case 'JavaScript':
      return 'JavaScript (JS PDK): the script runs inside QuickJS; no build flag gives DWARF for it.';
    case 'AssemblyScript':
      return 'AssemblyScript: `--debug` keeps function names; it emits a source map, not DWARF.';
    default:
      return 'Build it with its compiler\'s debug-info flag (`-g` for C, C++, Zig and Rust).';
  }
}
