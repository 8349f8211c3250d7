import type { CompiledModule, FunctionImport, ModuleBytes } from '../model/engine';
import { PluginError } from '../model/errors';
import { functionImportTypes, importKey } from './importTypes';
import { limitMemory } from './memoryLimit';
import { recordModule } from './moduleSymbols';

interface Entry {
  stamp: string;
  module: WasmModule;
}

/** A compiled module and the imports it names. */
export class WasmModule implements CompiledModule {
  readonly imports: readonly string[];
  readonly functionImports: readonly FunctionImport[];

  private readonly types: Map<string, string>;

  /** `source` is the file it was read from (a manifest's, for inline `data`), for messages. */
  constructor(readonly module: WebAssembly.Module, bytes: Uint8Array, readonly source = '') {
    const imports = WebAssembly.Module.imports(module);
    this.imports = imports.map((i) => `${i.module}.${i.name}`);
    this.types = functionImportTypes(bytes);
    this.functionImports = imports.filter((i) => i.kind === 'function').map((i) => ({ module: i.module, name: i.name, type: this.importType(i.module, i.name) }));
  }

  importType(module: string, name: string): string | null {
    return this.types.get(importKey(module, name)) ?? null;
  }
}

/**
 * Compiled modules, by where they come from and the memory limit they were compiled with (the
 * limit is written into the module); a source whose stamp changed is compiled again.
 */
export class ModuleCache {
  private readonly entries = new Map<string, Entry>();

  get(source: ModuleBytes, maxPages: number, label: string): WasmModule {
    const key = `${source.key}|${maxPages}`;
    const cached = this.entries.get(key);
    if (cached && cached.stamp === source.stamp) return cached.module;
    const bytes = source.read();
    const module = new WasmModule(compile(bytes, maxPages, label, source.source), bytes, source.source);
    this.entries.set(key, { stamp: source.stamp, module });
    return module;
  }
}

/** Validates before anything reads the module's sections, then caps its memory and compiles it. */
function compile(bytes: Uint8Array, maxPages: number, label: string, file: string): WebAssembly.Module {
  if (!WebAssembly.validate(bytes)) {
    try {
      new WebAssembly.Module(bytes);
    } catch (error) {
      throw invalid(label, file, error);
    }
    throw invalid(label, file, 'refused by WebAssembly.validate');
  }
  const limited = limitMemory(bytes, maxPages);
  try {
    const module = new WebAssembly.Module(limited);
    recordModule(module, limited);
    return module;
  } catch (error) {
    throw invalid(label, file, error);
  }
}

function invalid(label: string, file: string, error: unknown): PluginError {
  const reason = error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
  return new PluginError(`${label}: ${file} is not a valid WebAssembly module (${reason})`);
}
