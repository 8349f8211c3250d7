import { WasmModule } from '../engine/moduleCache';
import { ProfiledPlugin, symbolicateProfile } from '../engine/profileSymbols';
import { WasmEngine } from '../engine/wasmEngine';
import { CancelledError, internalError, IpcError, serializeError } from '../model/errors';
import { profileWhile } from './profiler';
import { HostModuleLoader } from '../runtime/hostModules';
import type { TraceRecord } from '../../shared/traceRecords';
import { Runtime } from '../runtime/runtime';
import { SpanDataRing } from '../model/spanData';
import type { StackFrame } from '../model/stackFrames';
import type { EventsMessage, Outgoing, ReplyMessage, RequestHandlers, RequestMessage, RuntimeEvent, RuntimeMessage } from './protocol';
import { cutName, describePlugin } from '../model/registry';
import { boundSpan, MAX_ERROR_CHARS, SpanEncoder } from './spanCodec';
import { enteredAnExport, enterDirectly, pauseOnEntry } from '../engine/pluginEntry';
import { closeInspector, openInspector } from './runtimeInspector';
import { DEBUG_CALL_STOPPED, DEBUG_CALL_STOPPED_BEFORE_ENTRY } from '../model/debugging';

const FLUSH_INTERVAL_MS = 100;
/** Failed calls whose stacks the runtime keeps for the trace panel. */
const FAILED_STACKS_KEPT = 64;

/**
 * The runtime side of every transport: serves requests one at a time and reports what happened in
 * batches, at the end of each request and every 100 ms during a long call (with the spans still
 * running), so views stay live without a message per nested call.
 */
export class RuntimeService {
  private readonly runtime: Runtime;
  private events: RuntimeEvent[] = [];
  private readonly spans = new SpanEncoder();
  /** Plugins whose counters changed since the last batch: only their counters cross. */
  private readonly counted = new Set<number>();
  /** The id added to `counted` last, while it is in there. */
  private lastCounted = -1;
  /** Plugins whose description changed since the last batch: the whole of it crosses, once. */
  private readonly described = new Set<number>();
  /** The heads of recent calls' input and output, fetched one call at a time by `spanData`. */
  private readonly spanData = new SpanDataRing();
  /** The stacks of the last failed calls, by span. */
  private readonly failedFrames = new Map<number, readonly StackFrame[]>();
  private lastFlush = performance.now();
  private readonly handlers: RequestHandlers;
  private readonly hostModules: HostModuleLoader;
  /** The call time limit, which bounds a host-function module's top level too. */
  private callTimeoutMs = 0;
  /** Requests that came while one was waiting for modules to load: served in order after it. */
  private readonly waiting: RequestMessage[] = [];
  private busy = false;

  /**
   * `cancelState` (from `guardState`): a face on another thread stops a running call with
   * `cancelJob(cancelState, seq)`, seq being the call's request number. `debuggable`: a runtime in
   * a child process of its own, whose inspector a debugger may use.
   */
  constructor(
    private readonly post: (out: Outgoing<RuntimeMessage>) => void,
    cancelState?: SharedArrayBuffer,
    private readonly debuggable = false,
  ) {
    const engine = new WasmEngine(cancelState);
    this.hostModules = new HostModuleLoader(engine);
    const runtime = new Runtime(engine, {
      pluginAdded: (plugin) => this.queue({ type: 'pluginAdded', plugin }),
      pluginRemoved: (id) => {
        this.counted.delete(id);
        this.described.delete(id);
        if (id === this.lastCounted) this.lastCounted = -1;
        this.queue({ type: 'pluginRemoved', id });
      },
      pluginChanged: (id) => {
        this.described.add(id);
      },
      // a nested call reports its callee after every call: the same id again costs no set lookup
      pluginCounted: (id) => {
        if (id === this.lastCounted) return;
        this.lastCounted = id;
        this.counted.add(id);
      },
      record: (record: TraceRecord) => {
        if (record.kind === 'call') {
          // the heads are views of plugin memory, valid only now: the ring copies them at once
          this.spanData.add(record.id, record.inputHead, record.outputHead);
          if (record.frames) this.keepFrames(record.id, record.frames);
          this.spans.add(record);
          // reading the clock costs more than encoding a span: look every 64 spans
          if ((this.spans.size & 63) === 0) this.maybeFlush();
        } else {
          this.queue({ type: 'record', record });
        }
      },
      log: (entry) => this.queue({ type: 'log', entry }),
      callStarted: (span) => {
        this.events.push({ type: 'record', record: boundSpan(span) });
        this.flush(false);
      },
    });
    this.runtime = runtime;
    this.handlers = {
      start: ({ settings, lastPluginId, lastSpanId }) => {
        this.callTimeoutMs = settings.policy.callTimeoutMs;
        runtime.configure(settings);
        runtime.continueAfter(lastPluginId, lastSpanId);
      },
      configure: (settings) => {
        this.callTimeoutMs = settings.policy.callTimeoutMs;
        if (!settings.tracing) {
          this.spanData.clear();
          this.failedFrames.clear();
        }
        runtime.configure(settings);
      },
      register: ({ target, options }) => runtime.register(target, options),
      hostFunctions: async ({ files, held }) => {
        const loaded = await this.hostModules.load(files, { timeoutMs: this.callTimeoutMs, held });
        return { served: runtime.setHostFunctions(loaded), failures: loaded.failures, held: loaded.held };
      },
      call: ({ caller, callerName, id, func, input, hostContext, debug }, seq) => {
        if (debug === undefined) return runtime.call(caller, id, func, input, hostContext, seq, callerName);
        pauseOnEntry(debug.everyEntry);
        engine.debugging = true;
        try {
          return runtime.call(caller, id, func, input, hostContext, seq, callerName);
        } catch (error) {
          // Node's SIGINT watchdog can keep a SIGINT that came as the previous debugged call ended
          // and give it to the next one as it starts: stopped before it entered its export, the
          // call says so, and the face (which knows whether it sent a SIGINT for it) calls again
          if (!enteredAnExport() && error instanceof Error && error.message.includes(DEBUG_CALL_STOPPED)) throw new IpcError('host', DEBUG_CALL_STOPPED_BEFORE_ENTRY);
          throw error;
        } finally {
          engine.debugging = false;
          enterDirectly();
        }
      },
      inspector: ({ open }) => {
        if (!open) {
          closeInspector();
          return null;
        }
        if (!this.debuggable) throw new IpcError('host', 'only a plugin runtime in a child process of its own can be debugged');
        return openInspector();
      },
      profileCall: async ({ caller, id, func, input, hostContext, intervalUs }, seq) => {
        const { result, profile } = await profileWhile(intervalUs, () => runtime.call(caller, id, func, input, hostContext, seq));
        return { output: result, profile: symbolicateProfile(profile, profiledPlugins(runtime)) };
      },
      reload: ({ id }) => runtime.reload(id),
      unregister: ({ id }) => runtime.unregister(id),
      unregisterAll: () => runtime.unregisterAll(),
      spanData: ({ spanId }) => {
        const data = this.spanData.get(spanId) ?? null;
        const frames = this.failedFrames.get(spanId);
        return data && frames ? { ...data, frames: [...frames] } : data;
      },
    };
  }

  /** Fails a call that was cancelled while it waited its turn, as the runtime words it. */
  cancelled(request: RequestMessage): void {
    const p = request.method === 'call' ? this.runtime.plugin(request.params.id) : undefined;
    const what = request.method === 'call' ? `call to ${p ? describePlugin(p) : `plugin #${request.params.id}`}.${request.params.func}` : request.method;
    this.fail(request, new CancelledError(`${what} was cancelled before it started`));
  }

  private keepFrames(spanId: number, frames: readonly StackFrame[]): void {
    this.failedFrames.set(spanId, frames);
    if (this.failedFrames.size > FAILED_STACKS_KEPT) this.failedFrames.delete(this.failedFrames.keys().next().value as number);
  }

  handle(request: RequestMessage): void {
    if (this.busy) {
      this.waiting.push(request);
      return;
    }
    let result: unknown;
    try {
      result = (this.handlers[request.method] as (p: typeof request.params, seq: number) => unknown)(request.params, request.seq);
    } catch (error) {
      this.fail(request, error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.reply(request, result);
      return;
    }
    this.busy = true;
    result.then(
      (value) => this.reply(request, value),
      (error) => this.fail(request, error),
    ).finally(() => {
      this.busy = false;
      while (!this.busy && this.waiting.length) this.handle(this.waiting.shift() as RequestMessage);
    });
  }

  private reply(request: RequestMessage, result: unknown): void {
    const transfer: ArrayBuffer[] = [];
    if (result instanceof Uint8Array) transfer.push(result.buffer as ArrayBuffer);
    this.send({ type: 'reply', seq: request.seq, method: request.method, ok: true, result } as ReplyMessage, transfer);
  }

  /** A failed request: its message and stack cut at MAX_ERROR_CHARS, since a plugin may put its names in them. */
  private fail(request: RequestMessage, error: unknown): void {
    const e = serializeError(internalError(`runtime: ${request.method}`, error));
    e.message = cutName(e.message, MAX_ERROR_CHARS);
    if (e.stack !== undefined) e.stack = cutName(e.stack, 2 * MAX_ERROR_CHARS);
    this.send({ type: 'reply', seq: request.seq, method: request.method, ok: false, error: e }, []);
  }

  private send(reply: ReplyMessage, transfer: ArrayBuffer[]): void {
    const batch = this.take(false);
    if (batch) {
      reply.events = batch.message;
      transfer.push(...batch.transfer);
    }
    this.post({ message: reply, transfer });
  }

  /** What happened so far, if anything; during a long call, with the spans still running. */
  private take(midCall: boolean): Outgoing<EventsMessage> | undefined {
    const events = this.events;
    for (const id of this.described) {
      const plugin = this.runtime.plugin(id);
      if (plugin) events.push({ type: 'pluginChanged', plugin });
    }
    for (const id of this.counted) {
      // a description that crossed carries the counters already
      const counters = this.described.has(id) ? undefined : this.runtime.counters(id);
      if (counters) events.push({ type: 'pluginCounted', ...counters });
    }
    this.described.clear();
    this.counted.clear();
    this.lastCounted = -1;
    if (midCall) for (const span of this.runtime.runningSpans()) events.push({ type: 'record', record: boundSpan(span) });
    this.events = [];
    this.lastFlush = performance.now();
    if (!events.length && !this.spans.size) return undefined;
    const spans = this.spans.take();
    return { message: { type: 'events', events, spans }, transfer: [spans.numbers.buffer as ArrayBuffer, spans.heads.buffer as ArrayBuffer] };
  }

  private flush(midCall: boolean): void {
    const batch = this.take(midCall);
    if (batch) this.post(batch);
  }

  private queue(event: RuntimeEvent): void {
    this.events.push(event);
    this.maybeFlush();
  }

  private maybeFlush(): void {
    if (performance.now() - this.lastFlush > FLUSH_INTERVAL_MS) this.flush(true);
  }
}

/** The live plugins and their compiled modules, as a profile matches its wasm frames to them. */
function profiledPlugins(runtime: Runtime): ProfiledPlugin[] {
  return runtime.liveModules().map((p) => ({
    id: p.id,
    name: p.name,
    modules: p.modules.filter((m): m is WasmModule => m instanceof WasmModule).flatMap((m) => m.compiled()),
  }));
}
