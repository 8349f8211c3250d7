// What a module is, as plain data: what the overview of a `.wasm` shows. The engine reads it from the
// bytes (engine/moduleSummary.ts); the rules here (which PDK built it, who serves each import) work on
// names only, so they are the same for a file on disk and a live plugin.
import { EXTISM_ENV, importName, OWN_FUNCTIONS, OWN_MODULES, ServedImport } from './userHostFunctions';
import type { Binding } from './bindings';

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface ModuleImport {
  module: string;
  name: string;
  kind: ExternKind;
  /** A function import's type, `(i64) -> i64`, or null. */
  type: string | null;
}

export interface ModuleExport {
  name: string;
  kind: ExternKind;
}

export interface ModuleMemory {
  /** In 64 KiB pages. */
  initial: number;
  maximum: number | null;
  shared: boolean;
  memory64: boolean;
  /** `module.name` when the memory is imported, else null. */
  imported: string | null;
  /** The names it is exported under (none: the host cannot see it). */
  exportedAs: string[];
}

/** The `producers` custom section: field (`language`, `processed-by`, `sdk`) -> `name version` entries. */
export type Producers = Record<string, string[]>;

export interface CustomSection {
  name: string;
  size: number;
}

/** The toolchain a module was built with, as far as its names and custom sections tell. */
export interface PdkGuess {
  /** `Rust`, `Go`, `TinyGo`, `AssemblyScript`, `JavaScript`, `Haskell`, `C`, `C++`, `Zig`. */
  language: string;
  /** What gave it away, shown with the guess. */
  evidence: string[];
}

export interface ModuleSummary {
  /** The file's size in bytes. */
  size: number;
  imports: ModuleImport[];
  exports: ModuleExport[];
  /** Counted entries beyond those listed (a module with more imports or exports than the reader lists). */
  moreImports: number;
  moreExports: number;
  /** Functions the module defines (its code, not its imports). */
  functions: number;
  memories: ModuleMemory[];
  customSections: CustomSection[];
  /** A `name` section: traps and profiles name functions instead of numbering them. */
  hasNameSection: boolean;
  /** Its `.debug_*` sections (DWARF): breakpoints and source lines in a debugger. */
  dwarf: string[];
  /** `external_debug_info` or `sourceMappingURL`, when the debug information is elsewhere. */
  externalDebugInfo: string | null;
  producers: Producers | null;
  pdk: PdkGuess | null;
  /** Whether it imports anything from `extism:host/env` (an Extism plugin usually does). */
  usesExtism: boolean;
}

/** A module that could not be read: the file's size and why. */
export interface ModuleProblem {
  size: number;
  error: string;
}

export type ModuleSummaryResult = ({ ok: true } & ModuleSummary) | ({ ok: false } & ModuleProblem);

/** Names seen in the module that hint at its toolchain (the engine collects them, bounded). */
export interface ToolchainHints {
  imports: readonly { module: string; name: string }[];
  exports: readonly string[];
  producers: Producers | null;
  customSections: readonly string[];
  /** Some function names of the `name` section (the first few thousand). */
  functionNames: readonly string[];
}

const producer = (p: Producers | null, field: string, re: RegExp) => (p?.[field] ?? []).find((v) => re.test(v));

/**
 * Which PDK or compiler built a module. The `producers` section (rustc, clang, TinyGo, Zig write one)
 * is the best witness; without it, the runtime's own exports and imports and the function names tell.
 */
export function guessPdk(h: ToolchainHints): PdkGuess | null {
  const ev: string[] = [];
  const lang = producer(h.producers, 'language', /./);
  const by = (re: RegExp) => producer(h.producers, 'processed-by', re) ?? producer(h.producers, 'sdk', re);
  const fnHit = (re: RegExp) => h.functionNames.find((n) => re.test(n));
  const exportHit = (re: RegExp) => h.exports.find((n) => re.test(n));
  const importHit = (re: RegExp) => h.imports.find((i) => re.test(i.name) || re.test(i.module));
  const guess = (language: string, ...evidence: (string | undefined)[]): PdkGuess => ({ language, evidence: [...ev, ...evidence.filter((e): e is string => !!e)] });

  // the JS PDK: QuickJS behind `__invoke`, with `__arg_*` for typed host calls
  const invoke = exportHit(/^__invoke(_|$)|^__arg_start$/) ?? importHit(/^__invoke(_|$)/)?.name;
  if (invoke || h.customSections.some((s) => /quickjs|javy/i.test(s)) || fnHit(/^JS_(NewContext|Eval)|quickjs/i)) {
    return guess('JavaScript', 'JS PDK (QuickJS)', invoke && `export ${invoke}`, fnHit(/^JS_(NewContext|Eval)|quickjs/i));
  }
  const tinygo = by(/tinygo/i) ?? fnHit(/^tinygo_|^\(?\*?internal\/task\./);
  if (tinygo) return guess('TinyGo', tinygo);
  if (exportHit(/^hs_init$/) || by(/\bghc\b/i) || (lang && /haskell/i.test(lang))) return guess('Haskell', exportHit(/^hs_init$/) && 'export hs_init', by(/\bghc\b/i));
  const as = h.imports.find((i) => i.module === 'env' && i.name === 'abort') ? 'import env.abort' : undefined;
  const asExport = exportHit(/^__(new|pin|unpin|collect|rtti_base)$/);
  if (asExport || (as && !lang)) return guess('AssemblyScript', asExport && `export ${asExport}`, as);
  if ((lang && /^rust/i.test(lang)) || by(/rustc/i)) return guess('Rust', lang && `language ${lang}`, by(/rustc/i));
  const rustName = fnHit(/^__rust_|^_ZN\w*17h[0-9a-f]{16}E$|^_R[A-Z]|^(core|alloc|std)::/);
  if (rustName) return guess('Rust', rustName);
  const goName = fnHit(/^runtime\.|^go\.buildid$|^_rt0_wasm/);
  if (goName || h.imports.some((i) => i.module === 'gojs')) return guess('Go', goName ?? 'imports gojs');
  if ((lang && /^zig/i.test(lang)) || by(/^zig/i)) return guess('Zig', lang && `language ${lang}`, by(/^zig/i));
  if (lang && /^c\+\+/i.test(lang)) return guess('C++', `language ${lang}`, by(/clang/i));
  if ((lang && /^c\d*$/i.test(lang)) || by(/clang/i)) return guess('C', lang && `language ${lang}`, by(/clang/i));
  if (lang) return guess(lang.replace(/\s.*$/, ''), `language ${lang}`);
  return null;
}

/** Who serves a module's import in this host, and whether the plugin loads with it. */
export type ImportServer =
  | { kind: 'kernel' }
  | { kind: 'host'; what: string }
  | { kind: 'wasi'; granted: boolean }
  | { kind: 'linked'; module: string }
  | { kind: 'binding'; target: string }
  | { kind: 'hostFunction'; file: string }
  | { kind: 'nobody' };

/** What serving an import depends on beyond the module: the face knows it (settings, live plugin). */
export interface ImportContext {
  /** WASI granted (by the settings, or a live plugin's grants). */
  wasi: boolean;
  /** The bindings of this plugin's name. */
  bindings: readonly Binding[];
  /** What the host-function modules supply (`PluginHost.hostFunctions()`, or a live plugin's). */
  hostFunctions: readonly ServedImport[];
  /** Module names that a manifest or `--link` links (none for a lone `.wasm`). */
  linked?: readonly string[];
}

/** Who serves an import, in the order the loader and the instance look (runtime/loader.ts, engine/instance.ts). */
export function importServer(imp: { module: string; name: string; kind: ExternKind }, ctx: ImportContext): ImportServer {
  const { module, name } = imp;
  if (ctx.linked?.includes(module)) return { kind: 'linked', module };
  if (imp.kind !== 'function') return { kind: 'nobody' };
  if (module === EXTISM_ENV) return { kind: 'kernel' };
  const key = importName(module, name);
  const binding = ctx.bindings.find((b) => b.module === module && b.name === name);
  if (binding) return { kind: 'binding', target: `${binding.plugin}.${binding.func}` };
  const served = ctx.hostFunctions.find((s) => s.import === key);
  if (served) return { kind: 'hostFunction', file: served.file };
  if (OWN_MODULES.has(module) && OWN_FUNCTIONS.has(name)) return { kind: 'host', what: name };
  if (module === 'env' && name === 'abort') return { kind: 'host', what: 'abort' };
  if (module === 'wasi_snapshot_preview1') return { kind: 'wasi', granted: ctx.wasi };
  return { kind: 'nobody' };
}

/** Whether the plugin can load with this import served so. */
export function importServed(server: ImportServer): boolean {
  return server.kind !== 'nobody' && !(server.kind === 'wasi' && !server.granted);
}
