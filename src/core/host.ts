import { Worker } from 'node:worker_threads';
import workerSource from 'virtual:runtime-worker';
import { deserializeError, IpcError } from './errors';
import { Emitter } from './events';
import type { LogLevel } from './hostFunctions';
import { normalizePolicy, Policy, PolicyOptions } from './policy';
import type { Caller, PluginInfo } from './registry';
import { TraceStore } from './trace';
import type { Op, RequestMessage, Requests, RuntimeEvent, WorkerMessage } from './engine/protocol';
import { decodeSpans, lastSpanIdOf } from './engine/spanCodec';
import type { LoadOptions, LogEntry } from './engine/runtime';

export interface HostOptions extends PolicyOptions {
  /** Record a span per call (on by default). */
  tracing?: boolean;
  /** Plugin log messages below this level are dropped. */
  logLevel?: LogLevel | 'off';
  /** Spans and life events kept for views and export. */
  maxTraceRecords?: number;
  /** How a person grants WASI with this face, for the error a WASI plugin gets without it. */
  wasiHint?: string;
}

export type PluginsChange =
  | { kind: 'added'; plugin: PluginInfo }
  | { kind: 'removed'; plugin: PluginInfo }
  | { kind: 'changed'; plugin: PluginInfo }
  | { kind: 'reset' };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The plugin host as its faces (VS Code, CLI, API) see it: asynchronous, event-driven, with every
 * plugin running in the runtime worker. A crashed worker is replaced on the next request.
 */
export class PluginHost {
  readonly trace: TraceStore;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 1;
  private policy: Policy;
  private options: HostOptions;
  private readonly live = new Map<number, PluginInfo>();
  private readonly pluginsEmitter = new Emitter<PluginsChange>();
  private readonly logEmitter = new Emitter<LogEntry>();
  private disposed = false;
  /** The highest ids seen, so a replacement runtime never hands out one again. */
  private lastPluginId = 0;
  private lastSpanId = 0;
  readonly onDidChangePlugins = this.pluginsEmitter.event;
  readonly onLog = this.logEmitter.event;

  constructor(options: HostOptions = {}) {
    this.options = { ...options };
    this.policy = normalizePolicy(options);
    this.trace = new TraceStore(options.maxTraceRecords);
  }

  get currentPolicy(): Policy {
    return this.policy;
  }

  plugins(): PluginInfo[] {
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }

  plugin(id: number): PluginInfo | undefined {
    return this.live.get(id);
  }

  /** Applies new options; the policy is validated here, before the worker sees it. */
  async configure(options: HostOptions): Promise<void> {
    const policy = normalizePolicy(options);
    this.options = { ...options };
    this.policy = policy;
    if (options.maxTraceRecords) this.trace.setMaxRecords(options.maxTraceRecords);
    if (this.worker) await this.request('configure', this.configureArgs());
  }

  register(target: string, options: LoadOptions = {}): Promise<PluginInfo> {
    return this.request('register', { target, options });
  }

  call(id: number, func: string, input: Uint8Array | string = new Uint8Array(0), caller: Exclude<Caller, number> = 'api'): Promise<Uint8Array> {
    const bytes = typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;
    return this.request('call', { caller, id, func, input: bytes });
  }

  unregister(id: number): Promise<void> {
    return this.request('unregister', { id });
  }

  unregisterAll(): Promise<void> {
    return this.request('unregisterAll', {});
  }

  /**
   * Stops the runtime worker, whatever it is doing: a call that never ends without a timeout can
   * only be stopped this way. Every plugin is unloaded and a pending call fails; the next request
   * starts a new runtime, whose ids go on from the old one's.
   */
  async restart(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.onWorkerGone(worker, 'the plugin runtime was restarted');
    await worker.terminate();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.failPending(new IpcError('host', 'the plugin host was closed'));
    this.pluginsEmitter.dispose();
    this.logEmitter.dispose();
    this.trace.dispose();
  }

  private configureArgs(): Requests['configure']['args'] {
    return {
      policy: this.policy,
      tracing: this.options.tracing ?? true,
      logLevel: this.options.logLevel ?? 'info',
      wasiHint: this.options.wasiHint ?? 'grant WASI to run it',
      lastPluginId: this.lastPluginId,
      lastSpanId: this.lastSpanId,
    };
  }

  private ensureWorker(): Worker {
    if (this.disposed) throw new IpcError('host', 'the plugin host was closed');
    if (this.worker) return this.worker;
    // A heap limit of its own: should the runtime's JavaScript side run out of memory, the worker
    // stops (and is replaced) instead of taking the whole extension host process down with it.
    const worker = new Worker(workerSource, { eval: true, stdout: false, stderr: false, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => this.onWorkerGone(worker, `the plugin runtime failed: ${error.message}`));
    worker.on('exit', (code) => this.onWorkerGone(worker, `the plugin runtime stopped (exit code ${code})`));
    this.worker = worker;
    this.post(worker, 'configure', this.configureArgs());
    return worker;
  }

  private onWorkerGone(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failPending(new IpcError('host', `${reason}; every plugin was unloaded`));
    if (this.live.size) {
      this.live.clear();
      this.pluginsEmitter.fire({ kind: 'reset' });
    }
  }

  private failPending(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private request<K extends Op>(op: K, args: Requests[K]['args']): Promise<Requests[K]['result']> {
    try {
      return this.post(this.ensureWorker(), op, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private post<K extends Op>(worker: Worker, op: K, args: Requests[K]['args']): Promise<Requests[K]['result']> {
    const seq = this.seq++;
    const promise = new Promise<Requests[K]['result']>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
    });
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ seq, op, args } as RequestMessage);
    return promise;
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'events') {
      for (const event of message.events) this.apply(event);
      const batch = message.spans;
      if (batch.count) this.lastSpanId = Math.max(this.lastSpanId, lastSpanIdOf(batch));
      this.trace.addDeferred(batch.count, () => decodeSpans(batch));
      return;
    }
    const pending = this.pending.get(message.seq);
    if (!pending) return;
    this.pending.delete(message.seq);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.ok) pending.resolve(message.result);
    else pending.reject(deserializeError(message.error));
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
