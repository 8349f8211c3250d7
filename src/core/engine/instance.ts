import type { HostFunctionTable, PluginInstance, PluginMemory } from '../model/engine';
import { internalError, IpcError, keepRemedy, PluginError } from '../model/errors';
import { ExtismMemory } from './extismMemory';
import type { FuelMeter } from './fuelMeter';
import { FUEL_MODULE } from './fuelRewrite';
import { assemblyScriptAbort, guarded, MAX_ERROR_BYTES } from './hostCallGuard';
import { createKernel, Kernel, KernelExports, KERNEL_FUNCTIONS, splitMergedExports } from './kernel';
import { KERNEL_EXPORT, KERNEL_MODULE } from './kernelMerge';
import { pluginEntry } from './pluginEntry';
import { claimFrames, FramedError, STACK_TRACE_LIMIT } from './pluginStack';
import { WasiEnvironment, WasiExit } from './wasi';

const USER_MODULES = new Set(['extism:host/user', 'env']);
/** The main module's key among the modules' WASI environments: not a name a linked module can have. */
const MAIN = '\0main';

export interface InstanceOptions {
  /** Pages of Extism memory; the module's own memory was capped at the same when compiled. */
  maxPages: number;
  /** WASI for one instantiation, when granted; a module that imports WASI without it fails to load. */
  wasi: (() => WasiEnvironment) | null;
  /** What to tell a person who must grant WASI. */
  wasiHint: string;
  /** The plugin's name, for the grant a failure names as its remedy. */
  pluginName: string;
  /** Modules linked in by name (from a manifest's other `wasm` entries, or `--link`). */
  linked: ReadonlyMap<string, WebAssembly.Module>;
  /** The main module's file, for messages. */
  source: string;
  /**
   * The main module with the kernel merged in (kernelMerge.ts), used instead of `module` and a
   * kernel instance of its own; null for the separate kernel.
   */
  merged: WebAssembly.Module | null;
  /** The fuel a metered module imports (its only import from `extism-ipc:fuel`). */
  fuel: FuelMeter;
}

/**
 * One plugin module instantiated against its own kernel. Not reentrant: the runtime makes sure a
 * call never enters an instance that is already running.
 */
export class WasmInstance implements PluginInstance {
  // the parts of one instantiation: all rebuilt when a command module's `_start` has run
  private k!: KernelExports;
  private exportsByName!: Record<string, unknown>;
  /** The export looked up last: a caller calls the same one again and again. */
  private lastExport: string | null = null;
  private lastExportValue: unknown;
  /** How many parameters it takes (an Extism export takes none). */
  private lastExportParams = 0;
  private mem!: ExtismMemory;
  /** WASI of each module that imports it, bound to that module's own memory: all from the same grant. */
  private readonly wasiByModule = new Map<string, { env: WasiEnvironment; imports: Record<string, WebAssembly.ImportValue> }>();
  private readonly linkedInstances = new Map<string, Record<string, unknown>>();
  private readonly linking = new Set<string>();
  /** A command's `_start` ran: a command runs once, so the next call gets a fresh instance. */
  private spent = false;
  /** The export running (or last run): an instance runs one at a time. */
  private func = '(initialization)';
  /** What a host function's unexpected failure names: the plugin and the export running. */
  private readonly calling = (): string => `${this.label}.${this.func}`;

  private readonly maxPages: number;
  private readonly linked: ReadonlyMap<string, WebAssembly.Module>;
  private readonly table: HostFunctionTable;

  constructor(
    readonly label: string,
    private readonly module: WebAssembly.Module,
    private readonly options: InstanceOptions,
    host: (memory: PluginMemory) => HostFunctionTable,
  ) {
    this.maxPages = options.maxPages;
    this.linked = options.linked;
    // the host functions reach memory through this object, so they outlive a rebuild
    this.table = host(this);
    this.build();
  }

  /** Fails the allocation that would pass the memory limit, naming it. */
  private readonly outOfMemory = (requested: bigint): never => {
    const maxPages = this.maxPages;
    throw new PluginError(
      `${this.label}: out of memory: allocating ${requested} bytes would pass the limit of ${maxPages} pages ` +
        `(${maxPages * 64} KiB) of Extism memory`,
    );
  };

  /** Instantiates the modules against a new kernel and starts them; vars and config live host-side. */
  private build(): void {
    this.linkedInstances.clear();
    this.linking.clear();
    this.wasiByModule.clear();
    const merged = this.options.merged;
    if (merged) {
      // the kernel is the module's own: Extism memory and the host's side come out as its exports
      const instance = new WebAssembly.Instance(merged, this.imports(merged, this.table, this.options.wasiHint, 'main'));
      const { kernel, start, own } = splitMergedExports(instance.exports, KERNEL_EXPORT);
      this.useKernel(kernel);
      this.exportsByName = own;
      start?.();
    } else {
      this.useKernel(createKernel(this.maxPages, this.outOfMemory));
      const instance = new WebAssembly.Instance(this.module, this.imports(this.module, this.table, this.options.wasiHint, 'main'));
      this.exportsByName = instance.exports as Record<string, unknown>;
    }
    this.lastExport = null;
    this.wasiByModule.get(MAIN)?.env.bind(this.exportsByName.memory, this.label);
    this.spent = false;
    this.initialize();
  }

  private useKernel(kernel: Kernel): void {
    this.k = kernel.exports;
    this.mem = new ExtismMemory(kernel, this.calling);
  }

  /**
   * As Extism's native runtime starts a module: a reactor's `_initialize`, then Haskell's `hs_init`.
   * A command's `_start` is never run here: it is the program, run only when it is called.
   */
  private initialize(): void {
    const { _initialize: init, hs_init: hsInit } = this.exportsByName;
    this.func = '(initialization)';
    // as natively, an `_initialize` that takes parameters is not a reactor's, and is not run;
    // `hs_init` gets (0, 0) whatever it declares, but i64s cannot be given numbers
    try {
      if (typeof init === 'function' && init.length === 0) init();
      if (typeof hsInit === 'function') hsInit(0, 0);
    } catch (error) {
      if (error instanceof WasiExit && error.code === 0) return;
      if (isBoundaryTypeError(error)) throw new PluginError(`${this.label}: its export hs_init does not take (i32, i32), as Haskell's does (${error.message})`);
      throw this.failure('(initialization)', error);
    }
  }

  private imports(module: WebAssembly.Module, table: HostFunctionTable, wasiHint: string, from: string): WebAssembly.Imports {
    // module and import names are the module's data: no prototype to reach through them
    const imports: Record<string, Record<string, WebAssembly.ImportValue>> = Object.create(null);
    const kernelExports = this.k as unknown as Record<string, WebAssembly.ImportValue>;
    for (const imp of WebAssembly.Module.imports(module)) {
      let value: WebAssembly.ImportValue | undefined;
      if (imp.module === FUEL_MODULE) value = this.options.fuel.global;
      else if (imp.module === KERNEL_MODULE && module === this.options.merged) {
        value = imp.name === 'out_of_memory' ? this.outOfMemory : undefined;
      } else if (this.linked.has(imp.module)) {
        if (this.linking.has(imp.module)) value = this.trampoline(imp, from);
        else {
          const exports = this.linkedInstance(imp.module, table, wasiHint, from);
          value = Object.hasOwn(exports, imp.name) ? exports[imp.name] : undefined;
        }
        if (value === undefined) throw new PluginError(`${this.label}: linked module "${imp.module}" has no export "${imp.name}" (imported by ${from})`);
      } else if (imp.kind === 'function' && imp.module !== 'extism:host/env' && table.imports && Object.hasOwn(table.imports, imp.module) && Object.hasOwn(table.imports[imp.module], imp.name)) {
        value = guarded(table.imports[imp.module], imp.name, this.calling);
      } else if (imp.kind === 'function') {
        if (imp.module === 'extism:host/env') {
          value = KERNEL_FUNCTIONS.has(imp.name) ? kernelExports[imp.name] : guarded(table.env, imp.name, this.calling);
        } else if (USER_MODULES.has(imp.module)) {
          value = guarded(table.user, imp.name, this.calling) ?? (imp.module === 'env' && imp.name === 'abort' ? this.abort : undefined);
        } else if (imp.module === 'wasi_snapshot_preview1') {
          const isMain = from === 'main' && (module === this.module || module === this.options.merged);
          const wasi = this.wasiFor(isMain ? MAIN : from);
          const who = isMain ? this.label : `${this.label}: linked module "${from}"`;
          if (!wasi) throw new PluginError(`${who} imports WASI (wasi_snapshot_preview1.${imp.name}), which is not granted; ${wasiHint}`, { kind: 'grantWasi', plugin: this.options.pluginName });
          value = Object.hasOwn(wasi, imp.name) ? wasi[imp.name] : undefined;
        }
      }
      if (value === undefined) {
        throw new PluginError(`${this.label} imports ${imp.kind} "${imp.module}"."${imp.name}", which this host does not offer`);
      }
      (imports[imp.module] ??= Object.create(null) as Record<string, WebAssembly.ImportValue>)[imp.name] = value;
    }
    return imports;
  }

  /** The WASI imports of one module (made on its first WASI import), or null when WASI is not granted. */
  private wasiFor(key: string): Record<string, WebAssembly.ImportValue> | null {
    const made = this.wasiByModule.get(key);
    if (made) return made.imports;
    if (!this.options.wasi) return null;
    const env = this.options.wasi();
    const imports = env.imports() as Record<string, WebAssembly.ImportValue>;
    this.wasiByModule.set(key, { env, imports });
    return imports;
  }

  /** A linked module's exports: instantiated once per plugin instance, with the same host functions. */
  private linkedInstance(name: string, table: HostFunctionTable, wasiHint: string, from: string): Record<string, unknown> {
    const done = this.linkedInstances.get(name);
    if (done) return done;
    this.linking.add(name);
    const module = this.linked.get(name) as WebAssembly.Module;
    const exports = new WebAssembly.Instance(module, this.imports(module, table, wasiHint, name)).exports as Record<string, unknown>;
    this.linking.delete(name);
    this.wasiByModule.get(name)?.env.bind(exports.memory, `${this.label}: linked module "${name}"`);
    const init = exports._initialize;
    if (typeof init === 'function' && init.length === 0) init();
    this.linkedInstances.set(name, exports);
    return exports;
  }

  /**
   * An import from a module still being instantiated, as modules that import each other have (the
   * JS SDK links them so too): a function that calls the export once its instance exists.
   */
  private trampoline(imp: WebAssembly.ModuleImportDescriptor, from: string): WebAssembly.ImportValue | undefined {
    const name = imp.module;
    const target = WebAssembly.Module.exports(this.linked.get(name) as WebAssembly.Module).find((e) => e.name === imp.name);
    if (!target) return undefined;
    if (imp.kind !== 'function' || target.kind !== 'function') {
      throw new PluginError(
        `${this.label}: modules "${from}" and "${name}" import each other, and "${name}"."${imp.name}" is a ${target.kind}: ` +
          'only functions can be imported around a cycle',
      );
    }
    const instances = this.linkedInstances;
    let fn: ((...args: unknown[]) => unknown) | undefined;
    return (...args: unknown[]) => {
      fn ??= instances.get(name)?.[imp.name] as ((...args: unknown[]) => unknown) | undefined;
      if (!fn) throw new PluginError(`${this.label}: linked module "${from}" called "${name}"."${imp.name}" before "${name}" was instantiated (they import each other)`);
      return fn(...args);
    };
  }

  /** AssemblyScript's `env.abort(message, file, line, column)`: strings live in the plugin's own memory. */
  private readonly abort = assemblyScriptAbort(() => this.exportsByName.memory, () => this.label);

  exportNames(): string[] {
    return Object.keys(this.exportsByName).filter((n) => typeof this.exportsByName[n] === 'function');
  }

  private exported(name: string): unknown {
    if (name !== this.lastExport) {
      const value = this.exportsByName[name];
      this.lastExportValue = value;
      this.lastExportParams = typeof value === 'function' ? value.length : 0;
      this.lastExport = name;
    }
    return this.lastExportValue;
  }

  hasExport(name: string): boolean {
    return typeof this.exported(name) === 'function';
  }

  /** The bytes of an Extism memory block, as a view valid until the plugin runs again. */
  readBlock(offs: bigint, what: string): Uint8Array {
    return this.mem.block(offs, what);
  }

  readString(offs: bigint, what: string): string {
    return this.mem.string(offs, what);
  }

  /** Copies bytes into a new Extism memory block of this plugin; returns its offset. */
  writeBlock(data: Uint8Array, what: string): bigint {
    return this.mem.write(data, what);
  }

  alloc(length: bigint, what: string): bigint {
    return this.mem.alloc(length, what);
  }

  blockLength(offs: bigint): bigint {
    return offs === 0n ? 0n : this.k.length(offs);
  }

  setError(offs: bigint): void {
    this.k.error_set(offs);
  }

  /**
   * Runs an export with the input; returns the output as a view into this plugin's memory, valid
   * until its next call, so a nested call copies it once, straight into its caller's memory.
   */
  call(func: string, input: Uint8Array): Uint8Array {
    if (this.spent) this.rebuild();
    const fn = this.exported(func) as () => number | undefined;
    if (this.lastExportParams !== 0) throw this.notAnExtismExport(func, `takes ${params(this.lastExportParams)}`);
    this.func = func;
    // as in Extism, whatever `_start` did, the program has run: the next call starts afresh
    this.spent = func === '_start';
    const mem = this.mem;
    mem.begin(input);
    let rc: number | undefined;
    // a failure's error keeps the frames of every plugin on the stack, nested ones included
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_TRACE_LIMIT;
    try {
      // only while a call is debugged does an export run through the debugger's entry
      rc = pluginEntry.through === null ? fn() : (pluginEntry.through(fn) as number | undefined);
    } catch (error) {
      if (!(error instanceof WasiExit && error.code === 0)) throw this.failure(func, error);
      rc = 0;
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
      if (this.wasiByModule.size) for (const wasi of this.wasiByModule.values()) wasi.env.flush();
    }
    if (rc !== undefined && typeof rc !== 'number') throw this.notAnExtismExport(func, `returned ${describeResult(rc)}`);
    const output = mem.callOutput();
    if (output === null) return this.outputOrError(func, rc);
    if (rc !== undefined && rc !== 0) throw this.errorCode(func, rc);
    return output;
  }

  /**
   * An export that cannot be an Extism function (it takes parameters, or returns an i64, a float or
   * several values): the module is most likely a library, and a module without memory surely is.
   */
  private notAnExtismExport(func: string, what: string): PluginError {
    const shape = 'an Extism export takes no parameters and returns an i32 or nothing';
    const link = 'link it into the plugin that imports it: --link NAME=PATH, or an entry with a "name" in a manifest\'s "wasm" list';
    if (this.exportsByName.memory instanceof WebAssembly.Memory) {
      return new PluginError(`${this.label}.${func} ${what}: ${shape}. If its module is a library, ${link}`);
    }
    const file = this.options.source || 'its module';
    return new PluginError(
      `${this.label}: ${file} is not an Extism plugin on its own: it exports no memory, and its export "${func}" ${what} (${shape}). ` +
        `It is a library: ${link}`,
    );
  }

  /** The end of a call whose error or output the kernel did not pass: the error, or what is wrong with the output. */
  private outputOrError(func: string, rc: number | undefined): Uint8Array {
    const k = this.k;
    const err = k.error_get();
    if (err !== 0n) throw new PluginError(`${this.label}.${func} failed: ${this.errorText(err)}`);
    if (rc !== undefined && rc !== 0) throw this.errorCode(func, rc);
    return this.mem.output(k.output_offset(), k.output_length());
  }

  /** An export's non-zero result: an error code, or a float, which no Extism export returns. */
  private errorCode(func: string, rc: number): PluginError {
    if (!Number.isInteger(rc)) return this.notAnExtismExport(func, `returned a float (${rc})`);
    return new PluginError(`${this.label}.${func} returned error code ${rc}`);
  }

  /** A fresh instance after a command's `_start`; a start-up that fails now fails this call, naming why. */
  private rebuild(): void {
    try {
      this.build();
    } catch (error) {
      this.spent = true;
      const reason = error instanceof IpcError ? error.message : this.failure('(initialization)', error).message;
      throw keepRemedy(new PluginError(`${this.label}: could not start a fresh instance after its _start ran: ${reason}`), error);
    }
  }

  /** When a plugin fails with its own memory full, say so: the trap alone rarely does. */
  private memoryAtLimit(): string {
    const memory = this.exportsByName.memory;
    if (!(memory instanceof WebAssembly.Memory)) return '';
    const pages = memory.buffer.byteLength / 65536;
    return pages >= this.maxPages ? ` (its memory is at the limit of ${this.maxPages} pages, memory.max_pages)` : '';
  }

  /** The plugin's error message, cut at 64 KiB as a log message is. */
  private errorText(offs: bigint): string {
    let bytes: Uint8Array;
    try {
      bytes = this.mem.block(offs, 'error_set');
    } catch {
      return `(error_set(0x${offs.toString(16)}) is not an Extism memory block)`;
    }
    const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, MAX_ERROR_BYTES)).toString('utf8');
    const cut = bytes.byteLength - MAX_ERROR_BYTES;
    return cut > 0 ? `${shown}… (${cut} more bytes cut)` : shown;
  }

  claimFrames(failure: FramedError, stack: object): void {
    claimFrames(failure, stack, { label: this.label, module: this.module, linked: this.linked.values() });
  }

  /** What a call that threw fails with, carrying this plugin's frames of the stack. */
  private failure(func: string, error: unknown): Error {
    const result = this.failureOf(func, error);
    claimFrames(result, error, { label: this.label, module: this.module, linked: this.linked.values() });
    return result;
  }

  private failureOf(func: string, error: unknown): Error {
    const outOfFuel = this.options.fuel.ranOut(this.label, func, error);
    if (outOfFuel) return outOfFuel;
    if (isBoundaryTypeError(error)) return this.notAnExtismExport(func, `cannot be called with no arguments (${error.message})`);
    if (error instanceof IpcError) return error;
    if (error instanceof WasiExit) return new PluginError(`${this.label}.${func} exited with code ${error.code}`);
    const err = this.k.error_get();
    const atLimit = this.memoryAtLimit();
    if (err !== 0n) return new PluginError(`${this.label}.${func} failed: ${this.errorText(err)}${atLimit}`);
    if (error instanceof WebAssembly.RuntimeError) return new PluginError(`${this.label}.${func} trapped: ${error.message}${atLimit}`);
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return new PluginError(`${this.label}.${func}: call stack exhausted`);
    }
    return internalError(`${this.label}.${func}`, error);
  }
}

function params(n: number): string {
  return `${n} parameter${n === 1 ? '' : 's'}`;
}

/** A value an export returned that no i32 converts to: an i64 (a bigint) or several values (an array). */
function describeResult(rc: unknown): string {
  if (typeof rc === 'bigint') return `an i64 (${rc})`;
  if (Array.isArray(rc)) return `${rc.length} values`;
  return `a ${typeof rc}`;
}

/**
 * The TypeError V8 throws where JavaScript meets a wasm signature it cannot convert to (an i64
 * parameter or result given a number, a v128): the module's shape, not a fault of the host.
 */
function isBoundaryTypeError(error: unknown): error is TypeError {
  return error instanceof TypeError && /BigInt|type incompatibility|v128/i.test(error.message);
}
