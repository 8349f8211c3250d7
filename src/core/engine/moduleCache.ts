import type { CompiledModule, FunctionImport, ModuleBytes } from '../model/engine';
import { PluginError } from '../model/errors';
import { FuelRefused } from './fuelOperators';
import { FUEL_MODULE, meterFuel } from './fuelRewrite';
import { functionImportTypes, importKey } from './importTypes';
import { kernelPath } from './kernelPath';
import { limitMemory } from './memoryLimit';
import { mergePlan } from './kernelPlan';
import { CodeFile, codeSection, customSection, PLACE_SECTIONS, recordModule } from './moduleSymbols';

interface Entry {
  stamp: string;
  module: WasmModule;
}

/** A compiled module and the imports it names. */
export class WasmModule implements CompiledModule {
  readonly imports: readonly string[];
  readonly functionImports: readonly FunctionImport[];

  private readonly types: Map<string, string>;
  private plain: WebAssembly.Module | null;
  /** The bytes the plain module is compiled from when first asked for (a merged one was compiled instead). */
  private limited: Uint8Array | null;
  private file: CodeFile | null;
  /** Why this module was not merged with the kernel where it could have been; told once. */
  private note: string | null;

  /** `source` is the file it was read from (a manifest's, for inline `data`), for messages. */
  constructor(compiled: Compiled, bytes: Uint8Array, readonly source = '') {
    this.plain = compiled.plain;
    this.limited = compiled.plain ? null : compiled.limited;
    this.file = compiled.plain ? null : compiled.file;
    this.merged = compiled.merged;
    this.note = compiled.note;
    // the fuel meter's import is the engine's business, not the plugin's
    const imports = (compiled.plain ? WebAssembly.Module.imports(compiled.plain) : compiled.imports).filter((i) => i.module !== FUEL_MODULE);
    this.imports = imports.map((i) => `${i.module}.${i.name}`);
    this.types = functionImportTypes(bytes);
    this.functionImports = imports.filter((i) => i.kind === 'function').map((i) => ({ module: i.module, name: i.name, type: this.importType(i.module, i.name) }));
  }

  /** The module with the kernel's functions merged in, or null (see kernelMerge.ts). */
  readonly merged: WebAssembly.Module | null;

  /** The module as the plugin wrote it (its memory capped), linked to a kernel instance of its own. */
  get module(): WebAssembly.Module {
    if (!this.plain) {
      this.plain = new WebAssembly.Module(this.limited as Uint8Array);
      recordModule(this.plain, this.limited as Uint8Array, this.file as CodeFile);
      this.limited = null;
      this.file = null;
    }
    return this.plain;
  }

  /** The modules compiled so far (merged, plain or both), as instances of it run them. */
  compiled(): WebAssembly.Module[] {
    return [this.merged, this.plain].filter((m): m is WebAssembly.Module => m !== null);
  }

  importType(module: string, name: string): string | null {
    return this.types.get(importKey(module, name)) ?? null;
  }

  /** Why this module runs with a kernel instance of its own on a runtime that merges: once, then null. */
  kernelNote(): string | null {
    const note = this.note;
    this.note = null;
    return note;
  }
}

interface Compiled {
  plain: WebAssembly.Module | null;
  merged: WebAssembly.Module | null;
  /** The module's imports as it declares them, when only the merged module was compiled. */
  imports: WebAssembly.ModuleImportDescriptor[];
  limited: Uint8Array;
  note: string | null;
  /** The file its frames tell places in, and how the plain module's code came from it (metered for fuel, or not). */
  file: CodeFile;
}

/**
 * Compiled modules, by where they come from, the memory limit they were compiled with (the limit is
 * written into the module) and whether they are metered for fuel; a source whose stamp changed is
 * compiled again. Only plugins loaded with fuel on pay for it.
 */
export class ModuleCache {
  private readonly entries = new Map<string, Entry>();

  get(source: ModuleBytes, maxPages: number, label: string, fuel = false): WasmModule {
    const key = `${source.key}|${maxPages}|${kernelPath().path}|${fuel ? 'fuel' : ''}`;
    const cached = this.entries.get(key);
    if (cached && cached.stamp === source.stamp) return cached.module;
    const bytes = source.read();
    const module = new WasmModule(compile(bytes, maxPages, label, source.source, fuel), bytes, source.source);
    this.entries.set(key, { stamp: source.stamp, module });
    return module;
  }
}

/**
 * Validates before anything reads the module's sections, then caps its memory, meters it when asked
 * and compiles it: with the kernel merged in where this V8 has multi-memory and the module allows
 * it, else as it is. The kernel's own functions are merged after metering, so they cost nothing.
 */
function compile(bytes: Uint8Array, maxPages: number, label: string, file: string, fuel: boolean): Compiled {
  if (!WebAssembly.validate(bytes)) {
    try {
      new WebAssembly.Module(bytes);
    } catch (error) {
      throw invalid(label, file, error);
    }
    throw invalid(label, file, 'refused by WebAssembly.validate');
  }
  let limited = limitMemory(bytes, maxPages);
  // frames name places in the file, through the code's moves: the fuel meter's charges, a merge
  const from: CodeFile = { codeStart: codeSection(bytes)?.start ?? 0, origins: [] };
  if (fuel) {
    try {
      const meter = meterFuel(limited);
      limited = meter.metered;
      from.origins = [meter.origin];
      // the meter leaves out what counts offsets into the code it moved: frames read the file's
      from.sections = placeSections(bytes);
    } catch (error) {
      if (!(error instanceof FuelRefused)) throw error;
      throw new PluginError(`${label}: ${file} cannot be metered for fuel: ${error.message}; run it without a fuel limit or count`);
    }
  }
  let note: string | null = null;
  if (kernelPath().path === 'merged') {
    const plan = mergePlan(limited, maxPages);
    if (plan.merged) {
      try {
        const merged = new WebAssembly.Module(plan.merged.merged);
        recordModule(merged, plan.merged.merged, { ...from, origins: [plan.merged.origin, ...from.origins] });
        return { plain: null, merged, imports: plan.merged.imports, limited, note, file: from };
      } catch (error) {
        note = `the module with the kernel merged in did not compile (${error instanceof Error ? error.message : String(error)})`;
      }
    } else note = plan.note;
  }
  try {
    const plain = new WebAssembly.Module(limited);
    recordModule(plain, limited, from);
    return { plain, merged: null, imports: [], limited, note, file: from };
  } catch (error) {
    throw invalid(label, file, error);
  }
}

/** Copies of the file's sections that places are read from (DWARF, producers), those it has. */
function placeSections(bytes: Uint8Array): Map<string, Uint8Array> {
  const kept = new Map<string, Uint8Array>();
  for (const name of PLACE_SECTIONS) {
    const found = customSection(bytes, name);
    if (found) kept.set(name, found.slice());
  }
  return kept;
}

function invalid(label: string, file: string, error: unknown): PluginError {
  const reason = error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
  return new PluginError(`${label}: ${file} is not a valid WebAssembly module (${reason})`);
}
