import * as fs from 'node:fs';
import { PluginError } from '../errors';

interface Entry {
  mtimeMs: number;
  size: number;
  module: WebAssembly.Module;
}

/** Compiled modules by file; a file that changed on disk is compiled again. */
export class ModuleCache {
  private readonly entries = new Map<string, Entry>();

  load(file: string, label: string): WebAssembly.Module {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new PluginError(`${label}: cannot read ${file}`);
    }
    const cached = this.entries.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.module;
    const module = compile(fs.readFileSync(file), label, file);
    this.entries.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, module });
    return module;
  }

  clear(): void {
    this.entries.clear();
  }
}

export function compile(bytes: Uint8Array, label: string, file: string): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
    throw new PluginError(`${label}: ${file} is not a valid WebAssembly module (${reason})`);
  }
}
