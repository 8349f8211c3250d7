// Runs the calls of a call file on a host: sessions that keep the plugins they load, one run or
// more of each call, then each judged (callJudging.ts).
import * as path from 'node:path';
import type { CallOutcome, RunResult } from './callOutcome';
import { invalidOutcome } from './callOutcome';
import { callerNameOf, inputBytes, InputRefusal, loadOptions, targetOf } from './callFileInputs';
import { judgeAll, summary } from './callJudging';
import { CallFile, CallFileError, CallSpec } from './model/callFile';
import { outermostSpan } from './model/callTree';
import { IpcError } from './model/errors';
import { snapshotFileOf } from './model/snapshots';
import type { StackFrame } from './model/stackFrames';
import type { CallFileCaller, Span } from '../shared/traceRecords';
import type { PluginHost } from './pluginHost';
import { SnapshotMode, SnapshotStore } from './snapshotStore';

/** How a run of a call file goes beyond its calls. */
export interface RunOptions {
  /** Calls picked by index: the calls before them in their group (or the file's own calls) still run, for their state. */
  only?: ReadonlySet<number>;
  /**
   * Snapshots: `check` compares and writes the missing ones (the default), `update` writes every
   * one that differs, `ci` compares and fails where one is missing.
   */
  snapshots?: SnapshotMode;
  /**
   * The picked calls (every call when none is picked) are made through this instead of an ordinary
   * call: the editor's Debug profile makes them under its debugger. Only a call's first run goes
   * through it (its `repeat`s are ordinary), and they are judged as any call is.
   */
  debug?: DebuggedCall;
}

/** Makes a call of a call file some other way (under a debugger): its output, or it rejects with the call's error. */
export type DebuggedCall = (host: PluginHost, id: number, call: CallSpec, input: Uint8Array, caller: CallFileCaller) => Promise<Uint8Array>;

/**
 * Runs the calls of a file: its own calls in order on one session, then each group in order on a
 * session of its own (fresh plugins: nothing carried in from another group). A call naming the
 * same plugin with the same options as an earlier one of its session reuses its live plugin, so
 * vars carry over. `only` picks calls by index; the calls before a picked one in its session still
 * run, so the state a picked call sees is the state it would see in a whole run. A call with a
 * `problem` is reported as failed without running.
 */
export async function runCallFile(calls: CallFile, host: PluginHost, only?: ReadonlySet<number>, options: RunOptions = {}): Promise<CallOutcome[]> {
  const picked = only ?? options.only;
  const outcomes: CallOutcome[] = [];
  const snapshots = new SnapshotStore(snapshotFileOf(calls.file), options.snapshots ?? 'check');
  for (const list of [calls.calls, ...calls.groups.map((g) => g.calls)]) {
    const last = picked ? Math.max(-1, ...list.filter((c) => picked.has(c.index)).map((c) => list.indexOf(c))) : list.length - 1;
    if (last < 0) continue;
    const session = new CallSession(host, snapshots);
    try {
      for (const call of list.slice(0, last + 1)) {
        const isPicked = !picked || picked.has(call.index);
        const outcome = await session.run(calls, call, isPicked ? options.debug : undefined);
        if (isPicked) outcomes.push(outcome);
      }
    } finally {
      if (list !== calls.calls) await session.close();
    }
  }
  snapshots.save();
  return outcomes;
}

/**
 * Calls of call files on one host, with the plugins they loaded kept live between calls: a call
 * naming the same plugin with the same options reuses it (while it is still live).
 */
export class CallSession {
  private readonly live = new Map<string, number>();

  /** Snapshots are written when the session's caller saves them (a file run: at its end; a session of its own: after each call). */
  constructor(
    private readonly host: PluginHost,
    private readonly snapshots?: SnapshotStore,
  ) {}

  /** Runs a call and judges it; `debug` makes its first run some other way (under a debugger). */
  async run(calls: CallFile, call: CallSpec, debug?: DebuggedCall): Promise<CallOutcome> {
    if (call.problem !== undefined) return invalidOutcome(call);
    const own = this.snapshots ?? new SnapshotStore(snapshotFileOf(calls.file), 'check');
    const outcome = await runOne(call, calls, this.host, this.live, own, debug);
    if (!this.snapshots) own.save();
    return outcome;
  }

  /** Unloads the plugins this session loaded (those still live). */
  async close(): Promise<void> {
    for (const id of this.live.values()) if (this.host.plugin(id)) await this.host.unregister(id).catch(() => undefined);
    this.live.clear();
  }
}

async function runOne(call: CallSpec, calls: CallFile, host: PluginHost, live: Map<string, number>, snapshots: SnapshotStore, debug: DebuggedCall | undefined): Promise<CallOutcome> {
  const base = path.dirname(calls.file);
  const t0 = performance.now();
  let input: Uint8Array;
  try {
    input = inputBytes(call.input, `${call.at}.input`, base, host.currentPolicy.maxMessageBytes);
  } catch (e) {
    if (!(e instanceof InputRefusal)) throw e;
    return { call, durationMs: performance.now() - t0, spans: [], passed: false, reason: e.message, checks: [{ at: call.at, passed: false, reason: e.message }], notes: [] };
  }
  let id: number | undefined;
  let loadError: string | undefined;
  try {
    const options = loadOptions(call);
    const target = targetOf(call.plugin, calls);
    const key = JSON.stringify([target, options]);
    id = live.get(key);
    if (id === undefined || !host.plugin(id)) {
      id = (await host.register(target, options)).id;
      live.set(key, id);
    }
  } catch (e) {
    if (e instanceof CallFileError) throw e;
    loadError = e instanceof Error ? e.message : String(e);
  }
  const runs: RunResult[] = [];
  for (let i = 0; i < (loadError === undefined ? call.repeat : 1); i++) {
    runs.push(loadError === undefined ? await runOnce(host, id!, call, calls, input, i === 0 ? debug : undefined) : { error: loadError, spans: [], ms: 0 });
    if (runs[i].error !== undefined) break; // a failed run is the answer: more runs only time it
  }
  const first = runs[0];
  const durationMs = performance.now() - t0;
  const checks = await judgeAll({ call, calls, spanData: (id) => host.spanData(id), maxMessageBytes: host.currentPolicy.maxMessageBytes, base, first, runs, snapshots });
  const fuel = outermostSpan(first.spans)?.fuelTotal;
  return {
    call,
    durationMs,
    output: first.output,
    error: first.error,
    spans: first.spans,
    ...(first.frames ? { frames: first.frames } : {}),
    ...(fuel !== undefined ? { fuel } : {}),
    ...summary(checks),
  };
}

async function runOnce(host: PluginHost, id: number, call: CallSpec, calls: CallFile, input: Uint8Array, debug: DebuggedCall | undefined): Promise<RunResult> {
  const spans: Span[] = [];
  const listening = host.trace.onRecord((r) => {
    if (r.kind === 'call' && r.status !== 'running') spans.push(r);
  });
  const t0 = performance.now();
  let output: Uint8Array | undefined;
  let error: string | undefined;
  let frames: StackFrame[] | undefined;
  try {
    const caller = { callFile: calls.file, name: callerNameOf(call, calls) };
    output = await (debug ? debug(host, id, call, input, caller) : host.call(id, call.function, input, caller));
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    if (e instanceof IpcError && e.frames?.length) frames = e.frames;
  } finally {
    listening.dispose();
  }
  const wall = performance.now() - t0;
  const root = outermostSpan(spans);
  return { output, error, spans, ms: root ? root.durationMs : wall, ...(frames ? { frames } : {}) };
}
