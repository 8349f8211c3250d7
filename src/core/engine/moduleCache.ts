import * as fs from 'node:fs';
import type { CompiledModule } from '../model/engine';
import { PluginError } from '../model/errors';
import { limitMemory } from './memoryLimit';

interface Entry {
  stamp: string;
  module: WasmModule;
}

/** A compiled module and the imports it names. */
export class WasmModule implements CompiledModule {
  readonly imports: readonly string[];

  constructor(readonly module: WebAssembly.Module) {
    this.imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  }
}

/**
 * Compiled modules, by where they come from and the memory limit they were compiled with (the
 * limit is written into the module); a file that changed on disk is compiled again.
 */
export class ModuleCache {
  private readonly entries = new Map<string, Entry>();

  fromFile(file: string, maxPages: number, label: string): WasmModule {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new PluginError(`${label}: cannot read ${file}`);
    }
    return this.get(`${file}|${maxPages}`, `${stat.mtimeMs}:${stat.size}`, () => fs.readFileSync(file), maxPages, label, file);
  }

  /** A module whose bytes are already read (from a manifest); `stamp` tells one version from another. */
  fromBytes(key: string, stamp: string, bytes: Uint8Array, maxPages: number, label: string, source: string): WasmModule {
    return this.get(`${key}|${maxPages}`, stamp, () => bytes, maxPages, label, source);
  }

  private get(key: string, stamp: string, bytes: () => Uint8Array, maxPages: number, label: string, source: string): WasmModule {
    const cached = this.entries.get(key);
    if (cached && cached.stamp === stamp) return cached.module;
    const module = new WasmModule(compile(limitMemory(bytes(), maxPages, label), label, source));
    this.entries.set(key, { stamp, module });
    return module;
  }

}

function compile(bytes: Uint8Array, label: string, file: string): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
    throw new PluginError(`${label}: ${file} is not a valid WebAssembly module (${reason})`);
  }
}
