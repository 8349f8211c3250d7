import { DEFAULT_PROFILE_INTERVAL_US, ProfiledCall } from './model/cpuProfile';
import { IpcError, PluginError, PolicyError } from './model/errors';
import { wholeNumberIn } from './model/numbers';
import { Emitter } from './model/events';
import type { LoadOptions } from './model/loadOptions';
import type { LogEntry, LogThreshold } from './model/logging';
import { normalizePolicy, Policy, PolicyOptions } from './model/policy';
import type { Caller, PluginInfo } from './model/registry';
import type { HostFunctionsLoad, ServedImport } from './model/userHostFunctions';
import type { SpanData } from './model/spanData';
import { TraceStore } from './model/trace';
import { callFileCallerName } from '../shared/traceRecords';
import type { CallFileCaller } from '../shared/traceRecords';
import type { RuntimeSettings } from './model/runtimeSettings';
import { childProcess } from './transport/childProcess';
import { CarrierFactory, RuntimeClient } from './transport/client';
import { inProcess } from './transport/inProcess';
import type { EventsMessage, RuntimeEvent } from './transport/protocol';
import type { DebugCallOptions, InspectorAddress } from './model/debugging';
import { decodeSpans, lastSpanIdOf } from './transport/spanCodec';
import { workerThread } from './transport/workerThread';

export interface HostOptions extends PolicyOptions {
  /** Record a span per call (on by default). */
  tracing?: boolean;
  /** Plugin log messages below this level are dropped. */
  logLevel?: LogThreshold;
  /** Spans and life events kept for views and export. */
  maxTraceRecords?: number;
  /** How a person grants WASI with this face, for the error a WASI plugin gets without it. */
  wasiHint?: string;
  /**
   * JS modules (absolute paths) that supply host functions, in the shape `@extism/extism`'s
   * `createPlugin` takes as `functions`; later modules override earlier ones name by name.
   */
  hostFunctions?: string[];
  /** How a person supplies host functions with this face, for the error a plugin gets without them. */
  hostFunctionsHint?: string;
}

/**
 * Where the runtime runs. `in-process`: on the caller's thread (a running plugin blocks it until
 * it returns or times out). `worker`: a worker thread. `child-process`: a process of its own, whose
 * death never takes the caller down. The last two run `entry`, the bundled runtime entry
 * (`dist/runtime.js`), with a heap limit of `maxHeapMb` (1024 by default).
 */
export type RuntimeTransport =
  | { kind: 'in-process' }
  | { kind: 'worker' | 'child-process'; entry: string; maxHeapMb?: number; onStderr?(text: string): void };

/** A top-level call that failed. */
export interface FailedCall {
  pluginId: number;
  func: string;
  error: IpcError;
}

export type PluginsChange =
  | { kind: 'added'; plugin: PluginInfo }
  | { kind: 'removed'; plugin: PluginInfo }
  /** Its description changed, or only its counters (calls, errors) after a call. */
  | { kind: 'changed'; plugin: PluginInfo }
  | { kind: 'reset' };

export interface CallOptions {
  /** Cancels the call (see `PluginHost.call`). */
  signal?: AbortSignal;
}

/** The runtime ended: asked to (restart, dispose), or not (a crash, a kill, out of memory). */
export interface RuntimeStop {
  cause: string;
  requested: boolean;
}

const DEFAULT_HEAP_MB = 1024;

const TRACE_RECORDS = { min: 1, max: 10_000_000 };

function traceLimit(options: HostOptions): number | undefined {
  const n = options.maxTraceRecords;
  return n === undefined ? undefined : wholeNumberIn(n, 'maxTraceRecords', TRACE_RECORDS, (m) => new PolicyError(m));
}

function carrierOf(transport: RuntimeTransport): CarrierFactory {
  if (transport.kind === 'in-process') return inProcess;
  const heap = transport.maxHeapMb ?? DEFAULT_HEAP_MB;
  return transport.kind === 'worker' ? workerThread(transport.entry, heap) : childProcess(transport.entry, heap, transport.onStderr);
}

/**
 * The plugin host as its faces (VS Code, CLI, API) see it: asynchronous and event-driven, whatever
 * carries it to the runtime. A runtime that stopped is replaced on the next request, its ids going on.
 */
export class PluginHost {
  readonly trace: TraceStore;
  private client: RuntimeClient | undefined;
  private readonly carrier: CarrierFactory;
  private policy: Policy;
  private options: HostOptions;
  private readonly live = new Map<number, PluginInfo>();
  private readonly pluginsEmitter = new Emitter<PluginsChange>();
  private readonly logEmitter = new Emitter<LogEntry>();
  private readonly stopEmitter = new Emitter<RuntimeStop>();
  private readonly callsEmitter = new Emitter<number>();
  private readonly failedCallEmitter = new Emitter<FailedCall>();
  private disposed = false;
  private callsRunning = 0;
  /** The runtime whose inspector is open, and its process. */
  private inspected: { client: RuntimeClient | undefined; pid: number } | undefined;
  /** The last load of the host-function modules in the current runtime. */
  private hostFunctionsLoad: Promise<ServedImport[]> = Promise.resolve([]);
  private hostFunctionsSent = false;
  /**
   * Versions (file -> mtime:size) of host-function modules whose top level did not finish in
   * time: kept across runtimes, so a restart does not run them again until the file changes or
   * `retryHostFunctions` is asked.
   */
  private readonly heldModules = new Map<string, string>();
  /** Set while the host ends its own runtime, so the stop reads as asked for. */
  private stopping = false;
  /** The highest ids seen, so a replacement runtime never hands out one again. */
  private lastPluginId = 0;
  private lastSpanId = 0;
  readonly onDidChangePlugins = this.pluginsEmitter.event;
  readonly onLog = this.logEmitter.event;
  /** The runtime ended; the next request starts a new one. */
  readonly onDidStopRuntime = this.stopEmitter.event;
  /** How many top-level calls are under way, each time it changes. */
  readonly onDidChangeCallsRunning = this.callsEmitter.event;
  /** A top-level call failed (from any face): its plugin, function and error, frames included. */
  readonly onDidFailCall = this.failedCallEmitter.event;

  constructor(options: HostOptions = {}, transport: RuntimeTransport = { kind: 'in-process' }) {
    this.options = { ...options };
    this.policy = normalizePolicy(options);
    this.trace = new TraceStore(traceLimit(options));
    this.carrier = carrierOf(transport);
  }

  get currentPolicy(): Policy {
    return this.policy;
  }

  get runningCalls(): number {
    return this.callsRunning;
  }

  plugins(): PluginInfo[] {
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }

  plugin(id: number): PluginInfo | undefined {
    return this.live.get(id);
  }

  /** Applies new options; the policy is validated here, before the runtime sees it. */
  async configure(options: HostOptions): Promise<void> {
    const policy = normalizePolicy(options);
    const maxRecords = traceLimit(options);
    this.options = { ...options };
    this.policy = policy;
    if (maxRecords !== undefined) this.trace.setMaxRecords(maxRecords);
    const client = this.client;
    if (!client?.alive) return;
    const configured = client.request('configure', this.settings());
    this.loadHostFunctions(client);
    await configured;
  }

  /**
   * What the host-function modules supply, once the runtime has loaded them (it starts if it must);
   * rejects naming each module that did not load. A changed module is loaded again on `configure`.
   */
  hostFunctions(): Promise<ServedImport[]> {
    return this.connect(() => this.hostFunctionsLoad);
  }

  /**
   * Loads the host-function modules again, those held back included (a module whose top level did
   * not finish in time is otherwise not run again until its file changes).
   */
  retryHostFunctions(): Promise<ServedImport[]> {
    this.heldModules.clear();
    const client = this.client;
    if (client?.alive) this.loadHostFunctions(client);
    return this.hostFunctions();
  }

  register(target: string, options: LoadOptions = {}): Promise<PluginInfo> {
    return this.connect((c) => c.request('register', { target, options }));
  }

  /**
   * Calls an export; `hostContext` (structured-cloneable data) is what host functions'
   * `hostContext()` returns during it. `options.signal` cancels it: the call stops as its time limit
   * would stop it (a CancelledError; the plugins it ran get fresh instances, their vars kept; every
   * other plugin is untouched). On the in-process transport a running call holds the thread, so only
   * a call still waiting its turn can be cancelled. A call file's call names itself as the caller
   * (`{ callFile, name }`).
   */
  call(
    id: number,
    func: string,
    input: Uint8Array | string = new Uint8Array(0),
    caller: Exclude<Caller, number | 'callFile'> | CallFileCaller = 'api',
    hostContext?: unknown,
    options: CallOptions = {},
  ): Promise<Uint8Array> {
    const bytes = typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;
    const who = typeof caller === 'string' ? { caller } : { caller: 'callFile' as const, callerName: callFileCallerName(caller) };
    const params = { ...who, id, func, input: bytes, ...(hostContext === undefined ? {} : { hostContext }) };
    const signal = options.signal;
    const done = this.connect((c) => (signal ? c.cancellableCall(params, signal) : c.request('call', params)));
    this.watchCall(id, func, done);
    return done;
  }

  /**
   * Opens the runtime's V8 inspector on a free loopback port for a debugger to attach to (the
   * runtime must run in a child process); live plugins stay live. Nothing is open until asked.
   */
  async openInspector(): Promise<InspectorAddress> {
    const address = await this.connect((c) => c.request('inspector', { open: true }));
    if (!address) throw new IpcError('host', 'the plugin runtime opened no inspector');
    this.inspected = { client: this.client, pid: address.pid };
    return address;
  }

  /** Closes the runtime's inspector, if a runtime is running. */
  async closeInspector(): Promise<void> {
    const client = this.client;
    this.inspected = undefined;
    if (client?.alive) await client.request('inspector', { open: false });
  }

  /**
   * A call for an attached debugger: it pauses at its export's entry (and at every plugin export
   * it reaches, with `everyEntry`), and no time limit fires while it runs.
   */
  debugCall(id: number, func: string, input: Uint8Array | string, debug: DebugCallOptions, caller: Exclude<Caller, number | 'callFile'> | CallFileCaller = 'command'): Promise<Uint8Array> {
    const bytes = typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;
    const who = typeof caller === 'string' ? { caller } : { caller: 'callFile' as const, callerName: callFileCallerName(caller) };
    const done = this.connect((c) => c.request('call', { ...who, id, func, input: bytes, debug }));
    this.countCall(+1);
    const end = () => this.countCall(-1);
    done.then(end, end);
    return done;
  }

  /**
   * Stops the debugged call under way (its session ended): the runtime runs it so that SIGINT ends
   * it, as a timeout would, and the runtime and its plugins go on. False when there is none to stop.
   */
  interruptDebugCall(): boolean {
    const inspected = this.inspected;
    // on Windows a SIGINT sent with process.kill ends the process: the call is left to finish there
    if (process.platform === 'win32') return false;
    if (!inspected || inspected.client !== this.client || !this.client?.alive || this.callsRunning === 0) return false;
    process.kill(inspected.pid, 'SIGINT');
    return true;
  }

  /**
   * Calls an export as `call` does, under a CPU profile of the runtime (sampled every `intervalUs`
   * µs, default 100): its output and the profile, with plugins' frames named, crossings between
   * plugins as frames of their own, the runtime's own frames folded into their caller.
   */
  profileCall(id: number, func: string, input: Uint8Array | string = new Uint8Array(0), options: { intervalUs?: number; caller?: Exclude<Caller, number>; hostContext?: unknown } = {}): Promise<ProfiledCall> {
    const bytes = typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;
    const intervalUs = options.intervalUs ?? DEFAULT_PROFILE_INTERVAL_US;
    const params = { caller: options.caller ?? 'api', id, func, input: bytes, intervalUs, ...(options.hostContext === undefined ? {} : { hostContext: options.hostContext }) };
    const done = this.connect((c) => c.request('profileCall', params));
    this.watchCall(id, func, done);
    return done;
  }

  /** Counts a top-level call while it runs, and tells when it fails. */
  private watchCall(pluginId: number, func: string, done: Promise<unknown>): void {
    this.countCall(+1);
    done.then(
      () => this.countCall(-1),
      (error: unknown) => {
        this.countCall(-1);
        if (error instanceof IpcError) this.failedCallEmitter.fire({ pluginId, func, error });
      },
    );
  }

  /** Loads a live plugin again from its changed files: same id, vars kept; on failure the old one runs on. */
  reload(id: number): Promise<PluginInfo> {
    return this.connect((c) => c.request('reload', { id }));
  }

  unregister(id: number): Promise<void> {
    return this.connect((c) => c.request('unregister', { id }));
  }

  /**
   * What the runtime kept of a recent call's input and output (the heads, up to 64 KiB each, of the
   * last calls while tracing is on); undefined when it was not kept or no runtime is running.
   */
  async spanData(spanId: number): Promise<SpanData | undefined> {
    const client = this.client;
    if (!client?.alive) return undefined;
    return (await client.request('spanData', { spanId })) ?? undefined;
  }

  unregisterAll(): Promise<void> {
    return this.connect((c) => c.request('unregisterAll', {}));
  }

  /**
   * Stops the runtime, whatever it is doing. Every plugin is unloaded and a pending call fails; the
   * next request starts a new runtime, whose ids go on from the old one's. The trace records it
   * with `reason`. To stop one call, cancel it instead (`call`'s `signal`).
   */
  async restart(reason = 'restarted'): Promise<void> {
    await this.stop(reason);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.stop('the plugin host was closed');
    this.pluginsEmitter.dispose();
    this.logEmitter.dispose();
    this.stopEmitter.dispose();
    this.callsEmitter.dispose();
    this.trace.dispose();
  }

  private async stop(cause: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    try {
      await client.kill(cause);
    } finally {
      this.stopping = false;
    }
  }

  private settings(): RuntimeSettings {
    return {
      policy: this.policy,
      tracing: this.options.tracing ?? true,
      logLevel: this.options.logLevel ?? 'info',
      wasiHint: this.options.wasiHint ?? 'grant WASI to run it',
      hostFunctionsHint: this.options.hostFunctionsHint ?? 'give a module that supplies host functions (HostOptions.hostFunctions), or bind the import to another plugin',
    };
  }

  private loadHostFunctions(client: RuntimeClient): void {
    const files = this.options.hostFunctions ?? [];
    const held = [...this.heldModules].map(([file, stamp]) => ({ file, stamp }));
    const load = files.length || this.hostFunctionsSent
      ? client.request('hostFunctions', { files: [...files], held }).then((loaded) => this.hostFunctionsLoaded(files, loaded))
      : Promise.resolve([]);
    this.hostFunctionsSent = files.length > 0;
    // whoever asks sees the failure through hostFunctions(); unasked, it must not go unhandled
    load.catch(() => undefined);
    this.hostFunctionsLoad = load;
  }

  /** Keeps the held versions the runtime reports; fails naming each module that did not load. */
  private hostFunctionsLoaded(files: readonly string[], loaded: HostFunctionsLoad): ServedImport[] {
    for (const file of files) this.heldModules.delete(file);
    for (const h of loaded.held) this.heldModules.set(h.file, h.stamp);
    if (loaded.failures.length) {
      throw new PluginError(loaded.failures.map((f) => `host functions ${f.file} did not load: ${f.reason}`).join('\n'));
    }
    return loaded.served;
  }

  private connect<T>(request: (client: RuntimeClient) => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new IpcError('host', 'the plugin host was closed'));
    let client = this.client;
    if (!client?.alive) {
      try {
        client = new RuntimeClient(this.carrier, (m) => this.onEvents(m), (cause) => this.onExit(client!, cause));
      } catch (error) {
        return Promise.reject(new IpcError('host', `the plugin runtime could not be started: ${error instanceof Error ? error.message : String(error)}`));
      }
      this.client = client;
      void client.request('start', { settings: this.settings(), lastPluginId: this.lastPluginId, lastSpanId: this.lastSpanId }).catch(() => undefined);
      this.hostFunctionsSent = false;
      this.loadHostFunctions(client);
    }
    return request(client);
  }

  private countCall(delta: number): void {
    this.callsRunning += delta;
    this.callsEmitter.fire(this.callsRunning);
  }

  private onExit(client: RuntimeClient, cause: string): void {
    if (this.client === client) this.client = undefined;
    this.trace.endRunning(`runtime stopped (${cause})`);
    if (!this.disposed) {
      const n = this.live.size;
      const reason = `${cause}; ${n === 1 ? '1 plugin' : `${n} plugins`} unloaded`;
      this.trace.add({ kind: 'restart', time: Date.now(), pluginId: 0, name: '', parentId: null, spanId: null, reason });
    }
    if (this.live.size) {
      this.live.clear();
      this.pluginsEmitter.fire({ kind: 'reset' });
    }
    this.stopEmitter.fire({ cause, requested: this.stopping || this.disposed });
  }

  private onEvents(message: EventsMessage): void {
    for (const event of message.events) this.apply(event);
    const batch = message.spans;
    if (batch.count) this.lastSpanId = Math.max(this.lastSpanId, lastSpanIdOf(batch));
    this.trace.addDeferred(batch.count, () => decodeSpans(batch));
  }

  private apply(event: RuntimeEvent): void {
    switch (event.type) {
      case 'pluginAdded':
        this.lastPluginId = Math.max(this.lastPluginId, event.plugin.id);
        this.live.set(event.plugin.id, event.plugin);
        this.pluginsEmitter.fire({ kind: 'added', plugin: event.plugin });
        break;
      case 'pluginChanged':
        if (!this.live.has(event.plugin.id)) break;
        this.live.set(event.plugin.id, event.plugin);
        this.pluginsEmitter.fire({ kind: 'changed', plugin: event.plugin });
        break;
      case 'pluginCounted': {
        // only the counters crossed: the description is the one that crossed last
        const known = this.live.get(event.id);
        if (!known) break;
        const plugin = { ...known, calls: event.calls, errors: event.errors };
        this.live.set(event.id, plugin);
        this.pluginsEmitter.fire({ kind: 'changed', plugin });
        break;
      }
      case 'pluginRemoved': {
        const plugin = this.live.get(event.id);
        this.live.delete(event.id);
        if (plugin) this.pluginsEmitter.fire({ kind: 'removed', plugin });
        break;
      }
      case 'record':
        if (event.record.kind === 'call') this.lastSpanId = Math.max(this.lastSpanId, event.record.id);
        this.trace.add(event.record);
        break;
      case 'log':
        this.logEmitter.fire(event.entry);
        break;
    }
  }
}
