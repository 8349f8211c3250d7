// What a face and the runtime say about debugging a call.

/**
 * The file the debugger sees for the step into a plugin's export. It is not one of the runtime's
 * skipped files: a debug session pauses there and steps on into the export.
 */
export const PLUGIN_ENTRY_FILE = 'extism-plugin-entry.js';

/**
 * The kernel's own wasm, as a debugger shows its frames: merged into a plugin's module, its functions
 * are named after their exports (`\0extism:kernel/<name>`, shown with `_` for the NUL) or, in a
 * module with a name section, `extism:host/env.<name>`; a kernel of its own (not merged) is the
 * module whose disassembly imports the host's `out_of_memory`, which no plugin imports from `host`.
 */
const KERNEL_FRAME = /(^|[$.\0_])extism:kernel\/|\$extism:host\/env\./;
const OWN_KERNEL_IMPORT = '(import "host" "out_of_memory")';

/** A debugger's frame is in the kernel by its function's name (merged kernel). */
export function isKernelFrameName(name: string): boolean {
  return KERNEL_FRAME.test(name);
}

/** A wasm module's disassembly (as js-debug shows it) is the kernel's own (not merged into a plugin). */
export function isKernelDisassembly(text: string): boolean {
  return text.includes(OWN_KERNEL_IMPORT);
}

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

/** How a debugged call that was stopped (its session ended) fails. */
export const DEBUG_CALL_STOPPED = 'debug session ended: the call was stopped';
/**
 * How a debugged call fails that was stopped before it entered its export: by a stop that was not
 * its own (a SIGINT Node's watchdog kept from the call before), unless its session ended.
 */
export const DEBUG_CALL_STOPPED_BEFORE_ENTRY = 'debugged call stopped before it entered its export';

export function isStoppedBeforeEntry(error: unknown): boolean {
  return error instanceof Error && error.message.includes(DEBUG_CALL_STOPPED_BEFORE_ENTRY);
}
