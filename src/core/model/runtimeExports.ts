// Which exports of a plugin are its own and which belong to the runtime its PDK or compiler links
// in (allocators, start-up, the JS PDK's dispatcher, asyncify): plain names in, plain names out.

/**
 * Runtime exports by exact name, with the toolchain that adds them:
 * - C libraries of every PDK built on wasi-libc or emscripten (C, Rust on WASI, TinyGo, Zig, Haskell):
 *   `malloc`, `free`, `calloc`, `realloc`, `_initialize`, `_start` (see `visibleExports`);
 * - Haskell (GHC's wasm backend): `hs_init`, `hs_exit`, and the RTS's `rts_*` (by prefix below);
 * - AssemblyScript: `__new`, `__pin`, `__unpin`, `__collect`, `__rtti_base`, `__setArgumentsLength`
 *   and the older runtime's `__alloc`, `__retain`, `__release`, `__free`, `__reset`;
 * - linkers (wasm-ld, rustc, zig): `memory`, `__data_end`, `__heap_base`, `__stack_pointer`,
 *   `__indirect_function_table`, `__wasm_call_ctors`; emscripten: `stackSave`, `stackRestore`,
 *   `stackAlloc`, `__errno_location`, `fflush`;
 * - the component model's canonical ABI (wit-bindgen): `cabi_realloc` (and `cabi_*` by prefix).
 */
const RUNTIME_NAMES: ReadonlySet<string> = new Set([
  'memory',
  'malloc',
  'free',
  'calloc',
  'realloc',
  'aligned_alloc',
  'posix_memalign',
  '_initialize',
  '_start',
  'hs_init',
  'hs_exit',
  'hs_free_fun_ptr',
  'hs_free_stable_ptr',
  'stackSave',
  'stackRestore',
  'stackAlloc',
  'fflush',
  'setThrew',
]);

/**
 * Runtime exports by prefix:
 * - `__`: every toolchain's internals (`__wasm_call_ctors`, `__data_end`, `__heap_base`, AssemblyScript's
 *   `__new`..., the JS PDK's `__invoke`, `__invoke_i32`..., `__arg_start`, `__arg_i32`...); an
 *   Extism export is called by name from a host, and no PDK's examples start one with `__`;
 * - `asyncify_`: Binaryen's asyncify (TinyGo, the JS PDK): `asyncify_start_unwind`...;
 * - `cabi_`: the canonical ABI's `cabi_realloc`, `cabi_post_*`;
 * - `emscripten_`, `_emscripten_`: emscripten's stack and thread helpers;
 * - `rts_`: GHC's runtime system.
 */
const RUNTIME_PREFIXES: readonly string[] = ['__', 'asyncify_', 'cabi_', 'emscripten_', '_emscripten_', 'rts_'];

/** Whether an export is the PDK's or compiler's runtime rather than the plugin's own. */
export function isRuntimeExport(name: string): boolean {
  return RUNTIME_NAMES.has(name) || RUNTIME_PREFIXES.some((p) => name.startsWith(p));
}

/** A plugin's exports split into its own (in their order) and its runtime's. */
export function splitExports(names: readonly string[]): { own: string[]; runtime: string[] } {
  const own: string[] = [];
  const runtime: string[] = [];
  for (const name of names) (isRuntimeExport(name) ? runtime : own).push(name);
  // a command module (a WASI program) has `_start` as its only entry: that is its own
  if (!own.length && runtime.includes('_start')) {
    own.push('_start');
    runtime.splice(runtime.indexOf('_start'), 1);
  }
  return { own, runtime };
}

/** The exports to show: the plugin's own first, then, when asked for, the runtime's. */
export function visibleExports(names: readonly string[], showRuntime = false): string[] {
  const { own, runtime } = splitExports(names);
  return showRuntime ? [...own, ...runtime] : own;
}
