import type { GrantedDirectory } from './allowedPaths';
import type { StackFrame } from './stackFrames';
// The engine interface: what the runtime needs from whatever executes Wasm. The runtime is written
// against these types only; engine/ implements them.

/**
 * Host functions offered to one plugin instance, by import module. A function gets as many of the
 * plugin's arguments as it declares (its `length`), or all of them when it declares none.
 */
export interface HostFunctionTable {
  /** `extism:host/env` functions the host implements (config, vars, logs, HTTP). */
  env: Record<string, (...args: never[]) => unknown>;
  /** `extism:host/user` functions; also offered under `env` for plain `extern "C"` imports. */
  user: Record<string, (...args: never[]) => unknown>;
  /**
   * Functions for imports of any module but `extism:host/env`, by module and name, tried before the
   * host's own: imports bound to other plugins' exports, and host functions the user supplies.
   */
  imports?: Record<string, Record<string, (...args: never[]) => unknown>>;
}

/** A function a module imports, with its type such as `(i64) -> i64` (null when it could not be read). */
export interface FunctionImport {
  readonly module: string;
  readonly name: string;
  readonly type: string | null;
}

/** A compiled module, opaque to the runtime beyond what it imports. */
export interface CompiledModule {
  /** `module.name` of every import. */
  readonly imports: readonly string[];
  readonly functionImports: readonly FunctionImport[];
  /** The type of a function import, such as `(i64) -> i64`; null if there is no such function import. */
  importType(module: string, name: string): string | null;
  /**
   * Why the module runs with a kernel instance of its own where the engine would merge the kernel
   * into it (a form the merger leaves alone): once per compiled module, then null.
   */
  kernelNote(): string | null;
}

/** Checked access to one plugin instance's Extism memory. */
export interface PluginMemory {
  /** The bytes of a block, as a view valid until the plugin runs again; 0 is the empty block. */
  readBlock(offs: bigint, what: string): Uint8Array;
  readString(offs: bigint, what: string): string;
  /** Copies bytes into a new block; returns its offset (0 for no bytes). `what` names the call, for errors. */
  writeBlock(data: Uint8Array, what: string): bigint;
  /** A new block of `length` bytes; 0 for none. */
  alloc(length: bigint, what: string): bigint;
  /** The length of the block at `offs`; 0 when there is none. */
  blockLength(offs: bigint): bigint;
  /** Sets the error of the call under way, as `error_set` does: the call fails with it when the plugin returns. */
  setError(offs: bigint): void;
}

/** A plugin module instantiated and started; not reentrant. */
export interface PluginInstance extends PluginMemory {
  exportNames(): string[];
  hasExport(name: string): boolean;
  /** Runs an export; the output is a view into the plugin's memory, valid until its next call. */
  call(func: string, input: Uint8Array): Uint8Array;
  /**
   * Adds this plugin's frames of `stack` (an error made while it ran) to `failure`, as a failure on
   * its way out of it would have: for a call stopped from outside, whose failure passed through no plugin.
   */
  claimFrames(failure: Error & { frames?: StackFrame[]; notes?: string[] }, stack: object): void;
}

export interface WasiGrant {
  /** The preopened directories, in order (the first is fd 3); read-only ones refuse every write. */
  directories: readonly GrantedDirectory[];
  onOutput(stream: 'stdout' | 'stderr', line: string): void;
}

export interface InstanceSpec {
  /** `plugin #3 (name)`, for messages. */
  label: string;
  /** The plugin's name, for what would fix a failure (the grant it lacks). */
  name: string;
  module: CompiledModule;
  /** Modules linked in by the name the plugin imports them under. */
  linked: ReadonlyMap<string, CompiledModule>;
  /** Pages of Extism memory; the modules were compiled with the same cap on their own memory. */
  maxPages: number;
  /** WASI, when granted; a module that imports it without a grant fails to load. */
  wasi: WasiGrant | null;
  /** What to tell a person who must grant WASI. */
  wasiHint: string;
}

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  maxResponseBytes: number;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A module's bytes as the runtime hands them to the engine, with what tells one version from another. */
export interface ModuleBytes {
  /** Where the bytes come from: a file, or `<manifest>#<module name>`. */
  key: string;
  /** Tells one version of the source from another (such as mtime:size); same key and stamp, same module. */
  stamp: string;
  /** The file named in messages. */
  source: string;
  /** The bytes, read (within the size limit) only when no module of this key and stamp is compiled. */
  read(): Uint8Array;
}

/**
 * The fuel that metered plugins draw on: one tank for a top-level call and every call under it.
 * Only modules compiled with `fuel` are metered.
 */
export interface FuelCounter {
  /** Fills the tank for a top-level call: `limit` units, or no limit for 0. */
  reset(limit: number): void;
  /** Units left; what a call spent is the difference of two readings. */
  left(): number;
}

export interface Engine {
  /**
   * Compiles a module, its own memory capped at `maxPages`, after validating it; compiled once per
   * key, stamp, limit and `fuel` (whether it is rewritten to count the fuel it spends). An invalid
   * module is a PluginError naming `source` and the reason.
   */
  compile(bytes: ModuleBytes, maxPages: number, label: string, fuel: boolean): CompiledModule;
  /** The fuel metered modules spend. */
  readonly fuel: FuelCounter;
  instantiate(spec: InstanceSpec, hostFunctions: (memory: PluginMemory) => HostFunctionTable): PluginInstance;
  /**
   * Runs a job under a time limit (0: none); `isTimeout` tells its error apart. A job with a
   * `cancelTag` (positive) may be stopped from another thread by that tag; `isCancelled` tells it.
   */
  runGuarded<T>(timeoutMs: number, job: () => T, cancelTag?: number): T;
  isTimeout(error: unknown): boolean;
  /**
   * Where the last job was when its time ran out, as an error whose stack plugins claim their frames
   * from (`PluginInstance.claimFrames`); null when it could not be taken.
   */
  timeoutStack(): object | null;
  isCancelled(error: unknown): boolean;
  /** Makes an HTTP request and waits for its response. */
  http(request: HttpRequest): HttpResponse;
}
