import type { CompiledModule, Engine, PluginInstance } from '../model/engine';
import { CancelledError, internalError, IpcError, keepRemedy, PluginError, PolicyError, TimeoutError } from '../model/errors';
import type { LoadOptions } from '../model/loadOptions';
import { minLimit } from '../model/loadOptions';
import { capLogMessage, LogBudget } from '../model/logBudget';
import { LogEntry, LogLevel, passes } from '../model/logging';
import { countsFuel, mayCall, maySpawn } from '../model/policy';
import { defaultSettings, RuntimeSettings } from '../model/runtimeSettings';
import { Caller, cutName, describePlugin, PluginCounters, PluginInfo, Registry } from '../model/registry';
import type { Span } from '../../shared/traceRecords';
import { Bindings, BoundSlot } from './bindings';
import { CallHooks, CallStack, now } from './callStack';
import type { HostServices } from './hostFunctions';
import { LivePlugin, pluginCounters, pluginInfo } from './livePlugin';
import { PluginLoader } from './loader';
import { isPathTarget, pluginNameOfPath, resolvePluginName } from './resolve';
import type { LoadedHostModules } from './hostModules';
import { UserHostFunctions } from './userHostFunctions';
import type { ServedImport } from '../model/userHostFunctions';

/** The most characters of a failed registration's reason that a trace keeps. */
const MAX_REASON_CHARS = 2000;

/** What the runtime tells the outside; a transport batches and forwards it. */
export interface RuntimeHooks extends CallHooks {
  pluginAdded(info: PluginInfo): void;
  /** What a face sees of a live plugin changed (a reload, the host functions serving it); not its counters. */
  pluginChanged(id: number): void;
  pluginRemoved(id: number): void;
  log(entry: LogEntry): void;
}

/**
 * The synchronous plugin runtime: live plugins, their host functions and every call between them.
 * It runs on one thread; a nested call runs inside its caller's host function.
 */
export class Runtime {
  private readonly registry = new Registry<LivePlugin>();
  private readonly stack: CallStack;
  private readonly loader: PluginLoader;
  private settings: RuntimeSettings = defaultSettings;
  private callDeadline = Infinity;
  private readonly logBudget = new LogBudget();
  private readonly bindings: Bindings;
  private readonly userFunctions = new UserHostFunctions();
  /** What the host handed the top-level call under way, for the user's host functions. */
  private hostContext: unknown = null;
  /** The last call_plugin the policy allowed: the same call again (a loop) is not matched again. */
  private lastAllowed: { policy: unknown; caller: unknown; callee: unknown; func: string } = { policy: null, caller: null, callee: null, func: '' };

  constructor(
    private readonly engine: Engine,
    private readonly hooks: RuntimeHooks,
  ) {
    this.stack = new CallStack(hooks);
    const services: HostServices = {
      spawn: (parentId, name) => this.spawn(parentId, name),
      call: (callerId, calleeId, func, input) => this.callFrom(this.live(callerId, 'call_plugin'), calleeId, func, input),
      unregister: (callerId, id) => this.unregisterFrom(callerId, id),
      // the host function checked the plugin's own threshold
      log: (pluginId, level, message) => this.emitLog(pluginId, level, message),
      logLevel: () => this.settings.logLevel,
      http: (request) => this.engine.http({ ...request, timeoutMs: this.remainingMs() }),
      user: {
        functions: this.userFunctions,
        runningFunc: (pluginId) => {
          const top = this.stack.top();
          return top && top.plugin.id === pluginId ? top.func : '(initialization)';
        },
        hostContext: () => this.hostContext,
        logLevel: () => this.settings.logLevel,
        startHostCall: (plugin, module, name) => this.stack.startHostCall(plugin, module, name),
        endHostCall: (span, error) => this.stack.endHostCall(span, error),
      },
    };
    this.bindings = new Bindings({
      policy: () => this.settings.policy,
      loadChild: (binder, name, who) => this.loadBoundChild(binder, name, who),
      remove: (id) => this.remove(id),
      call: (slot, input) => this.callBound(slot, input),
    });
    this.loader = new PluginLoader(
      engine,
      services,
      (id, level, message, name) => this.log(id, level, message, name),
      (plugin, start) => this.startUp(plugin, start),
    );
  }

  configure(settings: RuntimeSettings): void {
    this.settings = settings;
    this.stack.tracing = settings.tracing;
    this.stack.fuel = countsFuel(settings.policy) ? this.engine.fuel : null;
    this.bindings.configured(settings.policy);
  }

  /**
   * The host functions the user supplies, from modules loaded in this process: plugins loaded from
   * now on get them; live plugins that import them see the new functions at their next call.
   */
  setHostFunctions(loaded: LoadedHostModules): ServedImport[] {
    this.userFunctions.replace(loaded.entries, loaded.failures);
    for (const plugin of this.registry.all()) {
      const served = this.loader.servedImports(plugin);
      if (JSON.stringify(served) === JSON.stringify(plugin.hostFunctions)) continue;
      plugin.hostFunctions = served;
      this.hooks.pluginChanged(plugin.id);
    }
    return this.userFunctions.served();
  }

  /** A runtime that replaces a stopped one goes on from the ids that one handed out. */
  continueAfter(lastPluginId: number, lastSpanId: number): void {
    this.registry.skipPast(lastPluginId);
    this.stack.continueAfter(lastSpanId);
  }

  /** Each live plugin's modules (main first, then linked): what a profile's wasm frames are matched to. */
  liveModules(): { id: number; name: string; modules: CompiledModule[] }[] {
    return this.registry.all().map((p) => ({ id: p.id, name: p.name, modules: [p.module, ...p.linked.values()] }));
  }

  plugins(): PluginInfo[] {
    return this.registry.all().map(pluginInfo);
  }

  plugin(id: number): PluginInfo | undefined {
    const p = this.registry.get(id);
    return p && pluginInfo(p);
  }

  counters(id: number): PluginCounters | undefined {
    const p = this.registry.get(id);
    return p && pluginCounters(p);
  }

  /**
   * Loads a plugin for a person or the API: a `.wasm` or manifest path, or a name in the plugin
   * directories. The person chose it, so its manifest's grants are honoured.
   */
  register(target: string, options: LoadOptions = {}): PluginInfo {
    try {
      const file = isPathTarget(target) ? target : resolvePluginName(target, this.settings.policy.pluginDirs, 'register');
      return pluginInfo(this.load(file, pluginNameOfPath(file), null, options, true));
    } catch (error) {
      const failure = internalError(`register "${target}"`, error);
      this.recordFailedLoad(isPathTarget(target) ? pluginNameOfPath(target) : target, null, failure.message);
      throw failure;
    }
  }

  /**
   * A top-level call, guarded by the call timeout; returns a copy of the output. A `cancelTag`
   * (positive) lets another thread stop it by that tag, as its time limit would. `callerName` names
   * a `callFile` caller.
   */
  call(caller: Exclude<Caller, number>, id: number, func: string, input: Uint8Array, hostContext: unknown = null, cancelTag = 0, callerName?: string): Uint8Array {
    if (this.stack.depth) throw new Error('runtime: a top-level call started while another is running');
    this.hostContext = hostContext;
    const plugin = this.registry.get(id);
    if (!plugin) throw new PolicyError(`call: no live plugin #${id}`);
    const timeout = minLimit(this.settings.policy.callTimeoutMs, plugin.timeoutMs);
    this.callDeadline = timeout > 0 ? Date.now() + timeout : Infinity;
    try {
      return this.engine.runGuarded(timeout, () => this.stack.invoke(this.settings.policy, caller, plugin, func, input, undefined, callerName).slice(), cancelTag);
    } catch (error) {
      if (this.engine.isCancelled(error)) {
        const running = this.stack.top();
        const where = running && running.plugin !== plugin ? `; ${describePlugin(running.plugin)}.${running.func} was running` : '';
        const message = `call to ${describePlugin(plugin)}.${func} was cancelled${where}`;
        this.recover(message);
        throw new CancelledError(message);
      }
      if (this.engine.isTimeout(error)) {
        const running = this.stack.top();
        const where = running ? `; ${describePlugin(running.plugin)}.${running.func} was running` : '';
        const limit = timeout === plugin.timeoutMs ? "the plugin's own timeout_ms" : 'callTimeoutMs';
        const message = `call to ${describePlugin(plugin)}.${func} timed out after ${timeout} ms (${limit})${where}`;
        const failure = new TimeoutError(message);
        const stack = this.engine.timeoutStack();
        if (stack) this.stack.frameStopped(failure, stack);
        this.recover(message);
        throw failure;
      }
      const failure = internalError(`call ${describePlugin(plugin)}.${func}`, error);
      if (this.stack.depth) this.recover(failure.message);
      throw failure;
    } finally {
      this.callDeadline = Infinity;
      this.hostContext = null;
      this.endLogBudget();
    }
  }

  /**
   * Loads a live plugin again from its files (rebuilt, say): same id, same parent, vars kept. If the
   * new files do not compile, link or start, the old instance keeps running and the error says why.
   */
  reload(id: number): PluginInfo {
    const old = this.live(id, 'reload');
    const parent = old.parentId === null ? null : this.registry.get(old.parentId) ?? null;
    const policy = this.settings.policy;
    const request = {
      id, file: old.source, name: old.name, parent, options: old.options, manifestMayGrant: old.manifestMayGrant, vars: old.vars,
      bind: (fresh: LivePlugin) => this.bindings.rebind(fresh, old),
    };
    let fresh: LivePlugin;
    try {
      fresh = this.loader.load(policy, this.hints(), request);
    } catch (error) {
      throw internalError(`reload ${describePlugin(old)}`, error);
    }
    Object.assign(fresh, { calls: old.calls, errors: old.errors, loadedAt: old.loadedAt, reloadedAt: Date.now() });
    this.registry.add(fresh);
    this.bindings.replaced(fresh);
    this.hooks.pluginChanged(id);
    this.hooks.record({ kind: 'reload', time: now(), pluginId: id, name: fresh.name, parentId: fresh.parentId, spanId: null });
    return pluginInfo(fresh);
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
    return this.stack.runningSpans();
  }

  private live(id: number, who: string): LivePlugin {
    const p = this.registry.get(id);
    if (!p) throw new PolicyError(`${who}: no live plugin #${id}`);
    return p;
  }

  private hints(): { wasi: string; hostFunctions: string } {
    return { wasi: this.settings.wasiHint, hostFunctions: this.settings.hostFunctionsHint };
  }

  private remainingMs(): number {
    return Number.isFinite(this.callDeadline) ? Math.max(1, this.callDeadline - Date.now()) : 60_000;
  }

  private load(file: string, name: string, parent: LivePlugin | null, options: LoadOptions, manifestMayGrant: boolean): LivePlugin {
    const policy = this.settings.policy;
    if (this.registry.size >= policy.maxPlugins) {
      const who = parent ? `register_plugin: ${describePlugin(parent)}` : 'register';
      throw new PolicyError(`${who}: the limit of ${policy.maxPlugins} live plugins is reached (maxPlugins)`);
    }
    const id = this.registry.allocateId();
    let plugin: LivePlugin;
    try {
      plugin = this.loader.load(policy, this.hints(), { id, file, name, parent, options, manifestMayGrant, bind: (p) => this.bindings.bind(p) });
    } catch (error) {
      // the targets of its bindings were loaded as its children: they go with it, and keep their ids
      const children = this.registry.childrenOf(id);
      for (const child of children) this.remove(child.id);
      // it never lived: its id goes back, unless a child took the next ones
      if (!children.length) this.registry.releaseId(id);
      throw error;
    }
    this.registry.add(plugin);
    this.hooks.pluginAdded(pluginInfo(plugin));
    this.hooks.record({ kind: 'spawn', time: now(), pluginId: id, name, parentId: plugin.parentId, spanId: this.stack.currentSpanId() });
    return plugin;
  }

  private spawn(parentId: number, name: string): number {
    const parent = this.live(parentId, 'register_plugin');
    try {
      return this.spawnChild(parent, name);
    } catch (error) {
      this.recordFailedLoad(name, parent.id, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private spawnChild(parent: LivePlugin, name: string): number {
    const policy = this.settings.policy;
    const who = `register_plugin: ${describePlugin(parent)}`;
    const file = resolvePluginName(name, policy.pluginDirs, who);
    const bare = pluginNameOfPath(file);
    if (!maySpawn(policy, parent.name, bare)) {
      throw new PolicyError(`${who} may not spawn "${bare}" (permissions["${parent.name}"].spawn)`);
    }
    const children = this.registry.childrenOf(parent.id).length;
    if (children >= policy.maxSpawnPerPlugin) {
      throw new PolicyError(
        `${who} already has ${children} live plugins it spawned, the limit (maxSpawnPerPlugin); unregister_plugin the ones it no longer needs`,
      );
    }
    return this.load(file, bare, parent, {}, policy.manifestGrants).id;
  }

  /** A registration or spawn that failed before the plugin lived: it spent no id. */
  private recordFailedLoad(name: string, parentId: number | null, reason: string): void {
    this.hooks.record({
      kind: 'register-failed', time: now(), pluginId: 0, name: cutName(name), parentId, spanId: this.stack.currentSpanId(), reason: cutName(reason, MAX_REASON_CHARS),
    });
  }

  /** A binding's target, loaded by name as the binder's child under the rules of a spawn. */
  private loadBoundChild(binder: LivePlugin, name: string, who: string): LivePlugin {
    const policy = this.settings.policy;
    try {
      const file = resolvePluginName(name, policy.pluginDirs, who);
      const children = this.registry.childrenOf(binder.id).length;
      if (children >= policy.maxSpawnPerPlugin) {
        throw new PolicyError(`${who}: ${describePlugin(binder)} already has ${children} live plugins it spawned, the limit (maxSpawnPerPlugin)`);
      }
      return this.load(file, pluginNameOfPath(file), binder, {}, policy.manifestGrants);
    } catch (error) {
      if (!(error instanceof IpcError) || error.message.startsWith(who)) throw error;
      const Kind = error instanceof PolicyError ? PolicyError : error instanceof TimeoutError ? TimeoutError : PluginError;
      throw keepRemedy(new Kind(`${who}: ${error.message}`), error);
    }
  }

  /** A call through a binding: its target was found at load; the call stack's checks and span as for call_plugin. */
  private callBound(slot: BoundSlot, input: Uint8Array): Uint8Array {
    const callee = slot.callee;
    if (callee === null) throw new PolicyError(`bound ${slot.binding.key}: #${slot.binderId} ${slot.binderName} cannot call ${slot.binding.plugin}.${slot.binding.func}: ${slot.gone}`);
    return this.stack.invoke(this.settings.policy, slot.binderId, callee, slot.binding.func, input, slot.binding.key);
  }

  private callFrom(caller: LivePlugin, calleeId: number, func: string, input: Uint8Array): Uint8Array {
    const policy = this.settings.policy;
    const callee = this.registry.get(calleeId);
    if (!callee) throw new PolicyError(`call_plugin: ${describePlugin(caller)} called #${calleeId}, which is not a live plugin`);
    const last = this.lastAllowed;
    if (last.policy !== policy || last.caller !== caller || last.callee !== callee || last.func !== func) {
      if (!mayCall(policy, caller.name, callee.name, func)) {
        throw new PolicyError(`call_plugin: ${describePlugin(caller)} may not call ${callee.name}.${func} (permissions["${caller.name}"].call)`);
      }
      this.lastAllowed = { policy, caller, callee, func };
    }
    return this.stack.invoke(policy, caller.id, callee, func, input);
  }

  private unregisterFrom(callerId: number, id: number): void {
    const caller = this.live(callerId, 'unregister_plugin');
    const target = this.registry.get(id);
    if (!target) throw new PolicyError(`unregister_plugin: ${describePlugin(caller)} asked to end #${id}, which is not a live plugin`);
    if (!this.isAncestor(caller.id, target)) {
      throw new PolicyError(`unregister_plugin: ${describePlugin(caller)} may only end plugins it spawned, not ${describePlugin(target)}`);
    }
    if (this.stack.has((p) => p === target || this.isAncestor(target.id, p))) {
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
    this.bindings.removed(plugin);
    this.hooks.pluginRemoved(id);
    this.hooks.record({
      kind: 'unregister', time: now(), pluginId: id, name: plugin.name, parentId: plugin.parentId, spanId: this.stack.currentSpanId(),
    });
  }

  /**
   * A plugin's start-up (instantiation, linked modules' start, `_initialize`) under the same time
   * limit as a call into it, from now: a registration, reload or restart from a face gets a limit
   * of its own, whatever the calls before it spent, and HTTP during it waits at most what is left of
   * it. A plugin spawned during a call starts under that call's limit, which is already running.
   */
  private startUp(plugin: LivePlugin, start: () => PluginInstance): PluginInstance {
    if (this.stack.depth) return start();
    const timeout = minLimit(this.settings.policy.callTimeoutMs, plugin.timeoutMs);
    const outer = this.callDeadline;
    this.callDeadline = timeout > 0 ? Date.now() + timeout : Infinity;
    try {
      return this.engine.runGuarded(timeout, start);
    } catch (error) {
      if (!this.engine.isTimeout(error)) throw error;
      const limit = timeout === plugin.timeoutMs ? "the plugin's own timeout_ms" : 'callTimeoutMs';
      throw new TimeoutError(`register: ${describePlugin(plugin)} did not finish starting within ${timeout} ms (${limit})`);
    } finally {
      this.callDeadline = outer;
    }
  }

  /**
   * After a call was stopped from outside: close its spans and give its plugins fresh instances.
   * A plugin that cannot start again (its start-up fails or overruns) is unloaded, and says why.
   */
  private recover(reason: string): void {
    for (const plugin of this.stack.unwind(reason)) {
      if (!this.registry.get(plugin.id)) continue;
      try {
        plugin.instance = this.loader.restart(plugin, this.settings.wasiHint);
        this.hooks.pluginCounted(plugin.id);
      } catch (error) {
        this.log(plugin.id, 'error', `could not be started again after its call was stopped, so it was unloaded: ${error instanceof Error ? error.message : String(error)}`);
        this.remove(plugin.id);
      }
    }
  }

  /** Every log line of the runtime: cut at 64 KiB, and at most 1 MiB per top-level call. */
  private log(pluginId: number, level: LogLevel, message: string, name?: string): void {
    if (passes(level, this.settings.logLevel)) this.emitLog(pluginId, level, message, name);
  }

  /** A log line that passed its threshold. */
  private emitLog(pluginId: number, level: LogLevel, message: string, name?: string): void {
    const key = this.stack.rootSpanId();
    if (!this.logBudget.isFor(key)) this.endLogBudget();
    const text = capLogMessage(message);
    if (!this.logBudget.admit(key, pluginId, level, text)) return;
    const p = this.registry.get(pluginId);
    this.hooks.log({ time: Date.now(), pluginId, name: p?.name ?? name ?? '?', level, message: text });
  }

  private endLogBudget(): void {
    const dropped = this.logBudget.end();
    if (!dropped) return;
    const p = this.registry.get(dropped.pluginId);
    this.hooks.log({ time: Date.now(), pluginId: dropped.pluginId, name: p?.name ?? '?', level: dropped.level, message: dropped.message });
  }
}
