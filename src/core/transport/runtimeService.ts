import { WasmEngine } from '../engine/wasmEngine';
import { internalError, serializeError } from '../model/errors';
import { HostModuleLoader } from '../runtime/hostModules';
import type { TraceRecord } from '../../shared/traceRecords';
import { Runtime } from '../runtime/runtime';
import { SpanDataRing } from '../model/spanData';
import type { EventsMessage, Outgoing, ReplyMessage, RequestHandlers, RequestMessage, RuntimeEvent, RuntimeMessage } from './protocol';
import { cutName } from '../model/registry';
import { boundSpan, MAX_ERROR_CHARS, SpanEncoder } from './spanCodec';

const FLUSH_INTERVAL_MS = 100;

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
  private lastFlush = performance.now();
  private readonly handlers: RequestHandlers;
  private readonly hostModules: HostModuleLoader;
  /** The call time limit, which bounds a host-function module's top level too. */
  private callTimeoutMs = 0;
  /** Requests that came while one was waiting for modules to load: served in order after it. */
  private readonly waiting: RequestMessage[] = [];
  private busy = false;

  constructor(private readonly post: (out: Outgoing<RuntimeMessage>) => void) {
    const engine = new WasmEngine();
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
        if (!settings.tracing) this.spanData.clear();
        runtime.configure(settings);
      },
      register: ({ target, options }) => runtime.register(target, options),
      hostFunctions: async ({ files, held }) => {
        const loaded = await this.hostModules.load(files, { timeoutMs: this.callTimeoutMs, held });
        return { served: runtime.setHostFunctions(loaded), failures: loaded.failures, held: loaded.held };
      },
      call: ({ caller, callerName, id, func, input, hostContext }) => runtime.call(caller, id, func, input, hostContext, callerName),
      reload: ({ id }) => runtime.reload(id),
      unregister: ({ id }) => runtime.unregister(id),
      unregisterAll: () => runtime.unregisterAll(),
      spanData: ({ spanId }) => this.spanData.get(spanId) ?? null,
    };
  }

  handle(request: RequestMessage): void {
    if (this.busy) {
      this.waiting.push(request);
      return;
    }
    let result: unknown;
    try {
      result = (this.handlers[request.method] as (p: typeof request.params) => unknown)(request.params);
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
