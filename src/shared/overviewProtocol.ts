// The messages between the extension and the plugin overview (the custom editor of a `.wasm`).
// Imported by both sides, so this file imports neither `vscode` nor the DOM: plain data only.

export interface OverviewExport {
  name: string;
  /** `function`, `memory`, `table`, `global`, `tag`. */
  kind: string;
  /** Added by the PDK's or compiler's runtime (`malloc`, `_initialize`, `__invoke`...), not the plugin's own. */
  runtime: boolean;
}

export interface OverviewImport {
  module: string;
  name: string;
  kind: string;
  /** A function import's type, `(i64) -> i64`, or null. */
  type: string | null;
  /** Who serves it: `Extism kernel`, `WASI (granted)`, `host functions kv.mjs`... */
  server: string;
  /** False when nobody serves it: the plugin will not load as things stand. */
  served: boolean;
  /** An `extism:host/env` import (memory, input, output, config, vars, logs, HTTP): listed folded. */
  kernel: boolean;
}

export interface OverviewMemory {
  initial: number;
  maximum: number | null;
  shared: boolean;
  memory64: boolean;
  imported: string | null;
  exportedAs: string[];
}

/** Everything the overview shows of a module that could be read. */
export interface OverviewData {
  /** The file's name and its path as the workspace shows it. */
  fileName: string;
  path: string;
  size: number;
  /** The live plugin loaded from this file, if any. */
  live: { id: number; name: string } | null;
  /** The plugin's own exports first, then the runtime's. */
  exports: OverviewExport[];
  moreExports: number;
  /** Whether the runtime's exports are listed open (the `extismIpc.showRuntimeExports` setting). */
  showRuntimeExports: boolean;
  /** The ones nobody serves first, then the others, then the kernel's. */
  imports: OverviewImport[];
  moreImports: number;
  functions: number;
  memories: OverviewMemory[];
  hasNameSection: boolean;
  dwarf: string[];
  externalDebugInfo: string | null;
  /** The `producers` section as [field, entries] pairs. */
  producers: [string, string[]][];
  pdk: { language: string; evidence: string[] } | null;
  customSections: { name: string; size: number }[];
  usesExtism: boolean;
  /**
   * How the runtime would reach the Extism kernel from this module: merged into it (its input and
   * output calls inlined), or an instance of its own and why; null when it calls no kernel function.
   */
  kernel: { merged: boolean; why: string } | null;
}

/** Extension -> webview. */
export type ToOverview =
  /** The module's overview (after `ready`, and again when the file or its live plugin changes). */
  | { type: 'overview'; data: OverviewData; reportRenders: boolean }
  /** The file could not be read as a module: why. */
  | { type: 'problem'; fileName: string; path: string; size: number | null; error: string; reportRenders: boolean };

/** Webview -> extension. */
export type FromOverview =
  /** The script loaded and listens: send the overview. */
  | { type: 'ready' }
  /** A Call button: register the plugin if it is not live, then call this export (asking for the input). */
  | { type: 'call'; name: string }
  /** The Register button. */
  | { type: 'register' }
  /** Reveal the live plugin in the Live Plugins tree. */
  | { type: 'reveal'; pluginId: number }
  /** What the view rendered; sent only when the extension asked for it (under test). */
  | { type: 'rendered'; exports: number; runtimeExports: number; imports: number; unserved: number; problem: string | null };
