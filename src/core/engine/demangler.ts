import * as glue from 'gecko-profiler-demangle/index_bg.js';
import demanglerWasm from 'gecko-profiler-demangle/index_bg.wasm';
import { demangle as demangleOwn } from '../model/demangle';

// The Firefox profiler's demangler (Rust legacy and v0, C++ Itanium, MSVC): a wasm-bindgen module
// for bundlers, so it is instantiated here by hand from its bytes (bundled) and its JS glue.

interface Glue {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  __wbindgen_init_externref_table(): void;
  demangle_any(name: string): string;
}

let library: Glue | null | undefined;

function load(): Glue | null {
  try {
    const g = glue as unknown as Glue;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(demanglerWasm), { './index_bg.js': { __wbindgen_init_externref_table: () => g.__wbindgen_init_externref_table() } });
    g.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return g;
  } catch {
    // the library is an aid: without it, the project's own Rust legacy demangler still runs
    return null;
  }
}

/** A name-section name demangled (Rust legacy and v0, C++); names in no known scheme come back as they are. */
export function demangle(name: string): string {
  library ??= load();
  if (library) {
    try {
      const out = library.demangle_any(name);
      if (out !== name) return out.replace(/::h[0-9a-f]{16}$/, '');
    } catch {
      // a name the library chokes on: the own demangler, or the name as it is
    }
  }
  return demangleOwn(name);
}
