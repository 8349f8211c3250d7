import { PluginError, PolicyError } from '../model/errors';
import type { FuelCounter } from '../model/engine';
import type { Policy } from '../model/policy';
import { noteCrossing, StackFrame } from '../model/stackFrames';
import { Caller, describePlugin } from '../model/registry';
import { PREVIEW_BYTES, Span, TraceRecord } from '../../shared/traceRecords';
import type { LivePlugin } from './livePlugin';

/** What the call stack reports: spans, and plugins whose counters changed. */
export interface CallHooks {
  /**
   * A span ended, or a life event. A span's heads are views of the whole input and output in plugin
   * memory, valid only during this call: copy the first PREVIEW_BYTES of each now.
   */
  record(record: TraceRecord): void;
  /** A top-level call started: views show it while it runs, even when it never calls back. */
  callStarted(span: Span): void;
  /** A call counter of a live plugin changed (its description did not). */
  pluginCounted(id: number): void;
}

const EMPTY = new Uint8Array(0);
// the global `performance` is a lazy getter and `timeOrigin` another: read both once
const clock = performance;
const ORIGIN = clock.timeOrigin;

export function now(): number {
  return ORIGIN + clock.now();
}

/** The calls under way, outermost first: each with its span; a plugin is on it at most once. */
export class CallStack {
  // the frames, as two arrays of the same length: a call allocates no frame object
  private readonly plugins: LivePlugin[] = [];
  private readonly spans: Span[] = [];
  private nextSpanId = 1;
  /** The span of the user host function running, if any: a call stopped from outside ends it too. */
  private hostCall: Span | null = null;
  tracing = true;
  /** The fuel metered plugins spend, when it is counted; each frame's callees' fuel, to tell a call's own. */
  fuel: FuelCounter | null = null;
  private readonly calleesFuel: number[] = [];

  constructor(private readonly hooks: CallHooks) {}

  get depth(): number {
    return this.plugins.length;
  }

  /** A stack that replaces a stopped runtime's goes on from the span ids that one handed out. */
  continueAfter(lastSpanId: number): void {
    this.nextSpanId = Math.max(this.nextSpanId, lastSpanId + 1);
  }

  /** Whether a call into this plugin, or into one that `test` picks, is under way. */
  has(test: (plugin: LivePlugin) => boolean): boolean {
    return this.plugins.some(test);
  }

  private isOnStack(plugin: LivePlugin): boolean {
    const plugins = this.plugins;
    for (let i = 0; i < plugins.length; i++) if (plugins[i] === plugin) return true;
    return false;
  }

  top(): { plugin: LivePlugin; func: string } | undefined {
    const n = this.plugins.length;
    return n ? { plugin: this.plugins[n - 1], func: this.spans[n - 1].func } : undefined;
  }

  /** The span of the top-level call under way: what a log budget is counted against. */
  rootSpanId(): number | null {
    return this.spans.length ? this.spans[0].id : null;
  }

  currentSpanId(): number | null {
    return this.spans.length ? this.spans[this.spans.length - 1].id : null;
  }

  chain(): string {
    return this.plugins.map((p) => `#${p.id} ${p.name}`).join(' -> ') || '(top)';
  }

  /** Copies of the spans of the calls under way, outermost first. */
  runningSpans(): Span[] {
    return this.spans.map((span) => ({ ...span, inputHead: span.inputHead.slice(0, PREVIEW_BYTES), outputHead: EMPTY }));
  }

  /**
   * Calls an export of `callee` on top of the stack, checked against the policy, with a span;
   * `bound` names the import when the call comes through a binding; `callerName` names a top-level caller.
   */
  invoke(policy: Policy, caller: Caller, callee: LivePlugin, func: string, input: Uint8Array, bound?: string, callerName?: string): Uint8Array {
    const who = howCalled(caller, bound);
    if (this.isOnStack(callee)) {
      throw new PolicyError(
        `${who}: ${describePlugin(callee)} is already on the call stack (${this.chain()} -> #${callee.id}); a plugin cannot be re-entered`,
      );
    }
    const depth = this.plugins.length;
    if (depth >= policy.maxCallDepth) {
      throw new PolicyError(`${who}: call depth limit of ${policy.maxCallDepth} reached (maxCallDepth) at ${this.chain()}`);
    }
    if (!callee.instance.hasExport(func)) {
      throw new PluginError(`${who}: ${describePlugin(callee)} has no export "${func}"`);
    }
    const inputBytes = input.length;
    checkSize(policy, who, 'input', inputBytes, callee, func);
    const parent = depth ? this.spans[depth - 1] : undefined;
    const tracing = this.tracing;
    const span: Span = {
      kind: 'call',
      id: this.nextSpanId++,
      parentId: parent ? parent.id : null,
      caller,
      callerName: parent ? this.plugins[depth - 1].name : (callerName ?? String(caller)),
      calleeId: callee.id,
      calleeName: callee.name,
      func,
      inputBytes,
      outputBytes: 0,
      // the whole input as a view: the recorder copies its first bytes; the memory stays put until then
      inputHead: tracing ? input : EMPTY,
      outputHead: EMPTY,
      depth,
      start: now(),
      durationMs: 0,
      status: 'running',
    };
    if (bound !== undefined) span.bound = bound;
    const fuel = this.fuel;
    let fuelAtStart = 0;
    if (fuel) {
      // a top-level call and every call under it draw on one tank
      if (depth === 0) fuel.reset(policy.fuel);
      fuelAtStart = fuel.left();
      this.calleesFuel.push(0);
    }
    this.plugins.push(callee);
    this.spans.push(span);
    callee.calls++;
    if (depth === 0 && tracing) this.hooks.callStarted({ ...span, inputHead: input.slice(0, PREVIEW_BYTES) });
    try {
      const output = callee.instance.call(func, input);
      const outputBytes = output.length;
      checkSize(policy, who, 'output', outputBytes, callee, func);
      span.outputBytes = outputBytes;
      if (tracing) span.outputHead = output;
      span.status = 'ok';
      return output;
    } catch (error) {
      callee.errors++;
      span.status = 'error';
      span.error = error instanceof Error ? error.message : String(error);
      const frames = (error as { frames?: unknown } | null)?.frames;
      if (Array.isArray(frames) && frames.length) span.frames = frames.slice();
      if (depth > 0) noteCrossing(error, who);
      throw error;
    } finally {
      this.plugins.pop();
      this.spans.pop();
      span.durationMs = now() - span.start;
      if (fuel) this.endFuel(span, fuel, fuelAtStart, depth);
      if (tracing) this.hooks.record(span);
      this.hooks.pluginCounted(callee.id);
    }
  }

  /** A span's fuel: what the tank lost while it ran, less what its callees spent. */
  private endFuel(span: Span, fuel: FuelCounter, atStart: number, depth: number): void {
    const total = atStart - fuel.left();
    const callees = this.calleesFuel.pop() ?? 0;
    span.fuelTotal = total;
    span.fuel = total - callees;
    if (depth > 0) this.calleesFuel[depth - 1] += total;
    // start-ups outside a call (a load, a reload) draw on no limit
    else fuel.reset(0);
  }

  /**
   * A call stopped from outside (its time ran out) passed through no plugin on its way out: its
   * plugins claim their frames of `stack` (where it was when stopped) now, innermost first, with
   * the crossings between them, as a trap's would be; each span keeps the frames up to its plugin.
   */
  frameStopped(failure: Error & { frames?: StackFrame[] }, stack: object): void {
    for (let depth = this.plugins.length - 1; depth >= 0; depth--) {
      this.plugins[depth].instance.claimFrames(failure, stack);
      const span = this.spans[depth];
      if (failure.frames?.length) span.frames = failure.frames.slice();
      if (depth > 0) noteCrossing(failure, howCalled(span.caller, span.bound));
    }
  }

  /** A span for one call of a user host function by `plugin`; null when tracing is off. */
  startHostCall(plugin: { id: number; name: string }, module: string, name: string): Span | null {
    if (!this.tracing) return null;
    const depth = this.spans.length;
    const span: Span = {
      kind: 'call',
      id: this.nextSpanId++,
      parentId: depth ? this.spans[depth - 1].id : null,
      caller: plugin.id,
      callerName: plugin.name,
      calleeId: plugin.id,
      calleeName: plugin.name,
      func: name,
      host: `${module}.${name}`,
      inputBytes: 0,
      outputBytes: 0,
      inputHead: EMPTY,
      outputHead: EMPTY,
      depth,
      start: now(),
      durationMs: 0,
      status: 'running',
    };
    this.hostCall = span;
    return span;
  }

  endHostCall(span: Span, error: string | null): void {
    span.durationMs = now() - span.start;
    span.status = error === null ? 'ok' : 'error';
    if (error !== null) span.error = error;
    if (this.hostCall === span) this.hostCall = null;
    this.hooks.record(span);
  }

  /**
   * After a call was stopped from outside (its `finally` blocks never ran): ends its spans with the
   * reason and empties the stack; returns the plugins that were on it, innermost first.
   */
  unwind(reason: string): LivePlugin[] {
    const end = now();
    const plugins: LivePlugin[] = [];
    const host = this.hostCall;
    if (host) this.endHostCall(host, reason);
    const spans = this.spans.splice(0);
    const running = this.plugins.splice(0);
    this.calleesFuel.length = 0;
    this.fuel?.reset(0);
    for (let i = running.length - 1; i >= 0; i--) {
      const span = spans[i];
      const plugin = running[i];
      span.status = 'error';
      span.error = span.error ?? reason;
      span.durationMs = end - span.start;
      plugin.errors++;
      if (this.tracing) this.hooks.record(span);
      plugins.push(plugin);
    }
    return plugins;
  }
}

/** How a call was made, as errors and crossings name it: `bound <import>`, `call_plugin`, or `call` (from a face). */
function howCalled(caller: Caller, bound: string | undefined): string {
  return bound !== undefined ? `bound ${bound}` : typeof caller === 'number' ? 'call_plugin' : 'call';
}

function checkSize(policy: Policy, who: string, what: string, bytes: number, callee: LivePlugin, func: string): void {
  if (bytes > policy.maxMessageBytes) {
    throw new PolicyError(
      `${who}: ${what} of ${describePlugin(callee)}.${func} is ${bytes} bytes, over the limit of ${policy.maxMessageBytes} (maxMessageBytes)`,
    );
  }
}
