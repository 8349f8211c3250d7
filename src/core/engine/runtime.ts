import * as fs from 'node:fs';
import { IpcError, PluginError, PolicyError, TimeoutError } from '../errors';
import { createHostFunctions, HostServices, HostedPlugin, LOG_LEVELS, LogLevel } from '../hostFunctions';
import { mayCall, maySpawn, Policy } from '../policy';
import { Caller, describePlugin, PluginInfo, Registry } from '../registry';
import { readManifest, ResolvedManifest, ResolvedModule } from '../manifest';
import { isManifestPath, isPathTarget, pluginNameOfPath, resolvePluginName } from '../resolve';
import { PREVIEW_BYTES, Span, TraceRecord } from '../trace';
import { PluginInstance } from './instance';
import { ModuleCache } from './moduleCache';
import { SyncHttpClient } from './syncHttp';
import { WasiEnvironment } from './wasi';
import { isTimeout, TimeoutGuard } from './timeoutGuard';

export interface LogEntry {
  time: number;
  pluginId: number;
  name: string;
  level: LogLevel;
  message: string;
}

/** What the runtime tells the outside; the worker batches and forwards it. */
export interface RuntimeHooks {
  pluginAdded(info: PluginInfo): void;
  pluginRemoved(id: number): void;
  /** A call counter or another field of a live plugin changed. */
  pluginChanged(id: number): void;
  /**
   * A span ended, or a life event. A span's heads are views of the whole input and output in plugin
   * memory, valid only during this call: copy the first PREVIEW_BYTES of each now.
   */
  record(record: TraceRecord): void;
  /** A top-level call started: views show it while it runs, even when it never calls back. */
  callStarted(span: Span): void;
  log(entry: LogEntry): void;
}

/** What a person or the API gives a plugin at load, on top of its manifest; limits only narrow. */
export interface LoadOptions {
  config?: Record<string, string>;
  wasi?: boolean;
  allowedHosts?: string[];
  /** Host directory -> guest path. */
  allowedPaths?: Record<string, string>;
  memoryMaxPages?: number;
  maxVarBytes?: number;
  maxHttpResponseBytes?: number;
  timeoutMs?: number;
  /** Modules to link in, by the name the plugin imports them under: name -> `.wasm` path. */
  link?: Record<string, string>;
}

interface LivePlugin extends PluginInfo, HostedPlugin {
  module: WebAssembly.Module;
  linked: ReadonlyMap<string, WebAssembly.Module>;
  instance: PluginInstance;
  memoryMaxPages: number;
}

interface Frame {
  plugin: LivePlugin;
  span: Span;
}

const EMPTY = new Uint8Array(0);
const HIDDEN_EXPORTS = new Set(['_initialize', '_start', 'hs_init']);

function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The synchronous plugin runtime: live plugins, their host functions and every call between them.
 * It runs on one thread (the runtime worker); a nested call runs inside its caller's host function.
 */
export class Runtime {
  private readonly registry = new Registry<LivePlugin>();
  private readonly modules = new ModuleCache();
  private readonly stack: Frame[] = [];
  private readonly guard = new TimeoutGuard();
  private nextSpanId = 1;
  tracing = true;
  logLevel: LogLevel | 'off' = 'info';

  private readonly services: HostServices = {
    spawn: (parentId, name) => this.spawn(parentId, name),
    call: (callerId, calleeId, func, input) => this.callFrom(this.live(callerId, 'call_plugin'), calleeId, func, input),
    unregister: (callerId, id) => this.unregisterFrom(callerId, id),
    log: (pluginId, level, message) => this.log(pluginId, level, message),
    logLevel: () => this.logLevel,
    http: (request) => this.http.request({ ...request, timeoutMs: this.remainingMs() }),
  };
  private readonly http = new SyncHttpClient();
  private callDeadline = Infinity;
  /** How to grant WASI, in the words of the face using the runtime. */
  wasiHint = 'grant WASI to run it';

  constructor(
    private policy: Policy,
    private readonly hooks: RuntimeHooks,
  ) {}

  configure(policy: Policy): void {
    this.policy = policy;
  }

  /** A runtime that replaces a stopped one goes on from the ids that one handed out. */
  continueAfter(lastPluginId: number, lastSpanId: number): void {
    this.registry.skipPast(lastPluginId);
    this.nextSpanId = Math.max(this.nextSpanId, lastSpanId + 1);
  }

  plugins(): PluginInfo[] {
    return this.registry.all().map(info);
  }

  plugin(id: number): PluginInfo | undefined {
    const p = this.registry.get(id);
    return p && info(p);
  }

  /**
   * Loads a plugin for a person or the API: a `.wasm` or manifest path, or a name in the plugin
   * directories. The person chose it, so its manifest's grants are honoured.
   */
  register(target: string, options: LoadOptions = {}): PluginInfo {
    const file = isPathTarget(target) ? target : resolvePluginName(target, this.policy.pluginDirs, 'register');
    return info(this.load(file, pluginNameOfPath(file), null, options, true));
  }

  /** A top-level call, guarded by the call timeout; returns a copy of the output. */
  call(caller: Exclude<Caller, number>, id: number, func: string, input: Uint8Array): Uint8Array {
    if (this.stack.length) throw new Error('runtime: a top-level call started while another is running');
    const plugin = this.registry.get(id);
    if (!plugin) throw new PolicyError(`call: no live plugin #${id}`);
    const timeout = minLimit(this.policy.callTimeoutMs, plugin.timeoutMs);
    this.callDeadline = timeout > 0 ? Date.now() + timeout : Infinity;
    try {
      return this.guard.run(timeout, () => this.invoke(caller, plugin, id, func, input).slice());
    } catch (error) {
      if (isTimeout(error)) {
        const running = this.stack.length ? this.stack[this.stack.length - 1] : undefined;
        const where = running ? `; ${describePlugin(running.plugin)}.${running.span.func} was running` : '';
        const limit = timeout === plugin.timeoutMs ? "the plugin's own timeout_ms" : 'callTimeoutMs';
        const message = `call to ${describePlugin(plugin)}.${func} timed out after ${timeout} ms (${limit})${where}`;
        this.recover(message);
        throw new TimeoutError(message);
      }
      if (this.stack.length) this.recover(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  unregister(id: number): void {
    if (!this.registry.get(id)) throw new PolicyError(`unregister: no live plugin #${id}`);
    this.remove(id);
  }

  /** Parents come before their children (ids grow), so each root takes its descendants with it. */
  unregisterAll(): void {
    for (const p of this.registry.all()) if (this.registry.get(p.id)) this.remove(p.id);
  }

  /** Copies of the spans of the calls under way, outermost first. */
  runningSpans(): Span[] {
    return this.stack.map((f) => ({ ...f.span, inputHead: f.span.inputHead.slice(0, PREVIEW_BYTES), outputHead: EMPTY }));
  }

  private live(id: number, who: string): LivePlugin {
    const p = this.registry.get(id);
    if (!p) throw new PolicyError(`${who}: no live plugin #${id}`);
    return p;
  }

  private remainingMs(): number {
    return Number.isFinite(this.callDeadline) ? Math.max(1, this.callDeadline - Date.now()) : 60_000;
  }

  private load(file: string, name: string, parent: LivePlugin | null, options: LoadOptions, trusted: boolean): LivePlugin {
    const who = parent ? `register_plugin: ${describePlugin(parent)}` : 'register';
    if (this.registry.size >= this.policy.maxPlugins) {
      throw new PolicyError(`${who}: the limit of ${this.policy.maxPlugins} live plugins is reached (maxPlugins)`);
    }
    const label = `${who}: "${name}"`;
    const manifest = isManifestPath(file) ? readManifest(file) : null;
    const fromManifest = manifest !== null && trusted;
    const policy = this.policy;
    const memoryMaxPages = minLimit(policy.memoryMaxPages, manifest?.memoryMaxPages, options.memoryMaxPages);
    const stamp = manifest ? manifestStamp(manifest) : '';
    const compileModule = (m: ResolvedModule) =>
      this.modules.fromBytes(`${manifest?.file}#${m.name}`, stamp, m.bytes, memoryMaxPages, label, m.file ?? manifest?.file ?? file);
    const module = manifest ? compileModule(manifest.main) : this.modules.fromFile(file, memoryMaxPages, label);
    const linked = new Map<string, WebAssembly.Module>();
    for (const m of manifest?.linked ?? []) linked.set(m.name, compileModule(m));
    for (const [name, path] of Object.entries(options.link ?? {})) linked.set(name, this.modules.fromFile(path, memoryMaxPages, label));
    const imports = WebAssembly.Module.imports(module);
    const config = { ...(manifest?.config ?? {}), ...(options.config ?? {}) };
    const id = this.registry.allocateId();
    const plugin: LivePlugin = {
      id,
      name,
      source: file,
      manifest: manifest ? manifest.file : null,
      parentId: parent?.id ?? null,
      exports: [],
      imports: imports.map((i) => `${i.module}.${i.name}`),
      calls: 0,
      errors: 0,
      loadedAt: Date.now(),
      config,
      configKeys: Object.keys(config),
      grants: {
        wasi: policy.wasi || options.wasi === true || fromManifest,
        allowedHosts: [...policy.allowedHosts, ...(options.allowedHosts ?? []), ...(fromManifest ? manifest.allowedHosts : [])],
        allowedPaths: { ...policy.allowedPaths, ...(options.allowedPaths ?? {}), ...(fromManifest ? manifest.allowedPaths : {}) },
      },
      timeoutMs: minLimit(0, manifest?.timeoutMs, options.timeoutMs),
      vars: new Map(),
      maxVarBytes: minLimit(policy.maxVarBytes, manifest?.maxVarBytes, options.maxVarBytes),
      maxHttpResponseBytes: minLimit(policy.maxHttpResponseBytes, manifest?.maxHttpResponseBytes, options.maxHttpResponseBytes),
      httpStatus: 0,
      httpHeaders: null,
      memoryMaxPages,
      module,
      linked,
      instance: undefined as unknown as PluginInstance,
    };
    if (manifest && !trusted && (manifest.allowedHosts.length || Object.keys(manifest.allowedPaths).length)) {
      this.log(id, 'warn', `manifest ${manifest.file} asks for allowed_hosts or allowed_paths; ignored, since manifests of spawned plugins may not grant (manifestGrants)`, name);
    }
    plugin.instance = this.instantiate(plugin);
    plugin.exports = plugin.instance.exportNames().filter((n) => !HIDDEN_EXPORTS.has(n));
    this.registry.add(plugin);
    this.hooks.pluginAdded(info(plugin));
    this.hooks.record({ kind: 'spawn', time: now(), pluginId: id, name, parentId: plugin.parentId, spanId: this.currentSpanId() });
    return plugin;
  }

  private instantiate(plugin: LivePlugin): PluginInstance {
    const label = describePlugin(plugin);
    const needsWasi = plugin.imports.some((i) => i.startsWith('wasi_snapshot_preview1.'));
    const wasi =
      needsWasi && plugin.grants.wasi
        ? new WasiEnvironment({
            allowedPaths: plugin.grants.allowedPaths,
            onOutput: (stream, line) => this.log(plugin.id, stream === 'stdout' ? 'info' : 'warn', `[${stream}] ${line}`),
          })
        : null;
    try {
      const options = { maxPages: plugin.memoryMaxPages, wasi, wasiHint: this.wasiHint, linked: plugin.linked };
      return new PluginInstance(label, plugin.module, options, (self) =>
        createHostFunctions(this.services, plugin, self),
      );
    } catch (error) {
      if (error instanceof IpcError) throw error;
      throw new PluginError(`${label} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private spawn(parentId: number, name: string): number {
    const parent = this.live(parentId, 'register_plugin');
    const who = `register_plugin: ${describePlugin(parent)}`;
    const file = resolvePluginName(name, this.policy.pluginDirs, who);
    const bare = pluginNameOfPath(file);
    if (!maySpawn(this.policy, parent.name, bare)) {
      throw new PolicyError(`${who} may not spawn "${bare}" (permissions["${parent.name}"].spawn)`);
    }
    const children = this.registry.childrenOf(parent.id).length;
    if (children >= this.policy.maxSpawnPerPlugin) {
      throw new PolicyError(
        `${who} already has ${children} live plugins it spawned, the limit (maxSpawnPerPlugin); unregister_plugin the ones it no longer needs`,
      );
    }
    return this.load(file, bare, parent, {}, this.policy.manifestGrants).id;
  }

  private callFrom(caller: LivePlugin, calleeId: number, func: string, input: Uint8Array): Uint8Array {
    const callee = this.registry.get(calleeId);
    if (!callee) throw new PolicyError(`call_plugin: ${describePlugin(caller)} called #${calleeId}, which is not a live plugin`);
    if (!mayCall(this.policy, caller.name, callee.name, func)) {
      throw new PolicyError(
        `call_plugin: ${describePlugin(caller)} may not call ${callee.name}.${func} (permissions["${caller.name}"].call)`,
      );
    }
    return this.invoke(caller.id, callee, calleeId, func, input);
  }

  private invoke(caller: Caller, callee: LivePlugin, calleeId: number, func: string, input: Uint8Array): Uint8Array {
    const who = typeof caller === 'number' ? 'call_plugin' : 'call';
    if (this.stack.some((f) => f.plugin === callee)) {
      throw new PolicyError(
        `${who}: ${describePlugin(callee)} is already on the call stack (${this.chain()} -> #${calleeId}); a plugin cannot be re-entered`,
      );
    }
    if (this.stack.length >= this.policy.maxCallDepth) {
      throw new PolicyError(`${who}: call depth limit of ${this.policy.maxCallDepth} reached (maxCallDepth) at ${this.chain()}`);
    }
    if (!callee.instance.hasExport(func)) {
      throw new PluginError(`${who}: ${describePlugin(callee)} has no export "${func}"`);
    }
    this.checkSize(who, 'input', input.byteLength, callee, func);
    const parent = this.stack.length ? this.stack[this.stack.length - 1] : undefined;
    const span: Span = {
      kind: 'call',
      id: this.nextSpanId++,
      parentId: parent ? parent.span.id : null,
      caller,
      callerName: parent ? parent.plugin.name : String(caller),
      calleeId,
      calleeName: callee.name,
      func,
      inputBytes: input.byteLength,
      outputBytes: 0,
      // the whole input as a view: the recorder copies its first bytes; the memory stays put until then
      inputHead: this.tracing ? input : EMPTY,
      outputHead: EMPTY,
      depth: this.stack.length,
      start: now(),
      durationMs: 0,
      status: 'running',
    };
    this.stack.push({ plugin: callee, span });
    callee.calls++;
    if (this.stack.length === 1 && this.tracing) this.hooks.callStarted({ ...span, inputHead: input.slice(0, PREVIEW_BYTES) });
    try {
      const output = callee.instance.call(func, input);
      this.checkSize(who, 'output', output.byteLength, callee, func);
      span.outputBytes = output.byteLength;
      if (this.tracing) span.outputHead = output;
      span.status = 'ok';
      return output;
    } catch (error) {
      callee.errors++;
      span.status = 'error';
      span.error = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      this.stack.pop();
      span.durationMs = now() - span.start;
      if (this.tracing) this.hooks.record(span);
      this.hooks.pluginChanged(callee.id);
    }
  }

  private checkSize(who: string, what: string, bytes: number, callee: LivePlugin, func: string): void {
    if (bytes > this.policy.maxMessageBytes) {
      throw new PolicyError(
        `${who}: ${what} of ${describePlugin(callee)}.${func} is ${bytes} bytes, over the limit of ${this.policy.maxMessageBytes} (maxMessageBytes)`,
      );
    }
  }

  private unregisterFrom(callerId: number, id: number): void {
    const caller = this.live(callerId, 'unregister_plugin');
    const target = this.registry.get(id);
    if (!target) throw new PolicyError(`unregister_plugin: ${describePlugin(caller)} asked to end #${id}, which is not a live plugin`);
    if (!this.isAncestor(caller.id, target)) {
      throw new PolicyError(`unregister_plugin: ${describePlugin(caller)} may only end plugins it spawned, not ${describePlugin(target)}`);
    }
    if (this.stack.some((f) => f.plugin === target || this.isAncestor(target.id, f.plugin))) {
      throw new PolicyError(`unregister_plugin: ${describePlugin(target)} is running and cannot be ended now`);
    }
    this.remove(id);
  }

  private isAncestor(ancestorId: number, plugin: LivePlugin): boolean {
    for (let p = plugin.parentId; p !== null; p = this.registry.get(p)?.parentId ?? null) {
      if (p === ancestorId) return true;
    }
    return false;
  }

  /** Ends a plugin and, like a process group, every plugin it spawned. */
  private remove(id: number): void {
    for (const child of this.registry.childrenOf(id)) this.remove(child.id);
    const plugin = this.registry.remove(id);
    if (!plugin) return;
    this.hooks.pluginRemoved(id);
    this.hooks.record({
      kind: 'unregister', time: now(), pluginId: id, name: plugin.name, parentId: plugin.parentId, spanId: this.currentSpanId(),
    });
  }

  private currentSpanId(): number | null {
    return this.stack.length ? this.stack[this.stack.length - 1].span.id : null;
  }

  private chain(): string {
    return this.stack.map((f) => `#${f.plugin.id} ${f.plugin.name}`).join(' -> ') || '(top)';
  }

  /** After a call was stopped from outside: close its spans and give its plugins fresh instances. */
  private recover(reason: string): void {
    const end = now();
    for (const frame of this.stack.splice(0).reverse()) {
      const { span, plugin } = frame;
      span.status = 'error';
      span.error = span.error ?? reason;
      span.durationMs = end - span.start;
      plugin.errors++;
      if (this.tracing) this.hooks.record(span);
      if (this.registry.get(plugin.id)) {
        plugin.instance = this.instantiate(plugin);
        this.hooks.pluginChanged(plugin.id);
      }
    }
  }

  private log(pluginId: number, level: LogLevel, message: string, name?: string): void {
    if (this.logLevel === 'off' || LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.logLevel)) return;
    const p = this.registry.get(pluginId);
    this.hooks.log({ time: Date.now(), pluginId, name: p?.name ?? name ?? '?', level, message });
  }
}

/** The smallest of the limits given; 0 and undefined mean "none". */
function minLimit(...limits: (number | undefined)[]): number {
  const set = limits.filter((l): l is number => l !== undefined && l > 0);
  return set.length ? Math.min(...set) : 0;
}

/** Tells one version of a manifest and its module files from another. */
function manifestStamp(m: ResolvedManifest): string {
  return [m.file, ...[m.main, ...m.linked].map((mod) => mod.file)]
    .map((f) => (f ? fs.statSync(f) : undefined))
    .map((st) => (st ? `${st.mtimeMs}:${st.size}` : '-'))
    .join('|');
}

function info(p: LivePlugin): PluginInfo {
  return {
    id: p.id,
    name: p.name,
    source: p.source,
    manifest: p.manifest,
    grants: { wasi: p.grants.wasi, allowedHosts: [...p.grants.allowedHosts], allowedPaths: { ...p.grants.allowedPaths } },
    configKeys: [...p.configKeys],
    timeoutMs: p.timeoutMs,
    parentId: p.parentId,
    exports: [...p.exports],
    imports: [...p.imports],
    calls: p.calls,
    errors: p.errors,
    loadedAt: p.loadedAt,
  };
}
