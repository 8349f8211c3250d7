import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { CALL_FILE_SUFFIX, CallCheck, CallFile, CallFileError, CallInput, CallSpec, containsJson, OutputCheck, parseCallFile } from './model/callFile';
import { calleeOf, CrossedCall, matchCalls, nestedSpans } from './model/callTree';
import { SPAN_DATA_BYTES } from './model/spanData';
import type { SpanData } from './model/spanData';
import { snapshotFileOf } from './model/snapshots';
import { SnapshotMode, SnapshotStore } from './snapshotStore';
import type { LoadOptions } from './model/loadOptions';
import type { CallFileCaller, Span } from '../shared/traceRecords';
import type { PluginHost } from './pluginHost';
import { IpcError } from './model/errors';
import type { StackFrame } from './model/stackFrames';
import { jsonDeeperThan } from './model/jsonDepth';
import { formatBytes } from './model/numbers';
import { FileRefusal, readFileChecked } from './runtime/files';

/** How long an `expect.error` pattern may take to match a call's error before the call fails. */
export const ERROR_MATCH_TIMEOUT_MS = 1000;
/** The largest call file read: it is JSON a person writes, inputs included. */
export const MAX_CALL_FILE_BYTES = 64 * 1024 * 1024;

/** How one assertion (one `expect` of a call, or the call's not failing) went. */
export interface CheckOutcome {
  /** The `expect`'s name, when it has one. */
  name?: string;
  /** Where the `expect` is in the file (`calls[0].expect[1]`), or the call's place for a call without one. */
  at: string;
  passed: boolean;
  /** Why it did not pass, in one line. */
  reason?: string;
  /** What was expected and what came, as text, for a diff. */
  expected?: string;
  actual?: string;
  /** A line diff of them, or where bytes first differ (a snapshot's). */
  diff?: string;
  /** What it did besides passing or failing: a snapshot written or updated, the time measured. */
  note?: string;
  /** It compares with a snapshot (which the editor can update). */
  snapshot?: boolean;
}

/** How one call of a call file went. */
export interface CallOutcome {
  call: CallSpec;
  /** Every `expect` of the call held (a call without one: it did not fail). */
  passed: boolean;
  /** The call is not a call that can run (its `problem`): it was not run. */
  invalid?: boolean;
  durationMs: number;
  output?: Uint8Array;
  /** The call's error, when it failed. */
  error?: string;
  /** Why it did not pass, in one line: the first failed check's, after its name. */
  reason?: string;
  /** What was expected and what came, as text, for a diff: the first failed check's. */
  expected?: string;
  actual?: string;
  /** Each `expect` of the call (one for a call without any: that it did not fail). */
  checks: CheckOutcome[];
  /** The checks' notes: snapshots written or updated, times measured. */
  notes: string[];
  /** The spans of this call, its nested calls included. */
  spans: Span[];
  /** Where inside plugins it failed (when it failed there): innermost frame first. */
  frames?: StackFrame[];
  /** The fuel it spent, its nested calls included (when fuel was counted). */
  fuel?: number;
}

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

/** Reads and checks a call file. */
export function readCallFile(file: string): CallFile {
  let text: string;
  try {
    text = readFileChecked(file, MAX_CALL_FILE_BYTES, `call files are at most ${formatBytes(MAX_CALL_FILE_BYTES)}`).toString('utf8');
  } catch (error) {
    throw new CallFileError(`${file}: ${error instanceof FileRefusal ? error.reason : 'cannot be read'}`);
  }
  return parseCallFile(file, text);
}

/** Every `*.extism-calls.json` under `dir`, skipping node_modules and hidden folders. */
export function findCallFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(CALL_FILE_SUFFIX)) found.push(p);
    }
  };
  walk(dir);
  return found.sort();
}

function isPath(plugin: string): boolean {
  return /[\\/]/.test(plugin) || /\.(wasm|json)$/i.test(plugin);
}

/** An input (of a call, or of an expected nested call) as bytes; a file's through the bounded reader (regular files only, within maxMessageBytes). */
export function inputBytes(input: CallInput, at: string, base: string, maxBytes: number): Uint8Array {
  if ('text' in input) return Buffer.from(input.text, 'utf8');
  if ('base64' in input) return Buffer.from(input.base64, 'base64');
  if ('json' in input) return Buffer.from(JSON.stringify(input.json), 'utf8');
  const file = path.resolve(base, input.file);
  try {
    return readFileChecked(file, maxBytes, 'maxMessageBytes');
  } catch (error) {
    throw new InputRefusal(`${at}.file ${file}: ${error instanceof FileRefusal ? error.reason : 'cannot be read'}`);
  }
}

/** A call's input could not be made: the call fails without running, whatever it expects. */
export class InputRefusal extends Error {}

export function loadOptions(call: CallSpec): LoadOptions {
  const options: LoadOptions = {};
  if (call.config) options.config = call.config;
  if (call.wasi !== undefined) options.wasi = call.wasi;
  if (call.allowedHosts) options.allowedHosts = call.allowedHosts;
  if (call.allowedPaths) options.allowedPaths = call.allowedPaths;
  if (call.timeoutMs !== undefined) options.timeoutMs = call.timeoutMs;
  return options;
}

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

export function invalidOutcome(call: CallSpec): CallOutcome {
  const reason = call.problem ?? 'is not a call';
  return { call, passed: false, invalid: true, durationMs: 0, reason, spans: [], checks: [{ at: call.at, passed: false, reason }], notes: [] };
}

/** A plugin name in the file's own plugin directories first (as a path), else as the host finds it. */
export function targetOf(plugin: string, calls: CallFile): string {
  const base = path.dirname(calls.file);
  if (isPath(plugin)) return path.resolve(base, plugin);
  for (const dir of calls.pluginDirs) {
    for (const ext of ['.json', '.wasm']) {
      const file = path.join(dir, `${plugin}${ext}`);
      if (fs.existsSync(file)) return file;
    }
  }
  return plugin;
}

/** What one run of a call gave. */
export interface RunResult {
  output?: Uint8Array;
  error?: string;
  frames?: StackFrame[];
  spans: Span[];
  /** Its time in the plugin (its outermost span's), or the time it took here when it has no span. */
  ms: number;
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
  const fuel = rootOf(first.spans)?.fuelTotal;
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
  const root = rootOf(spans);
  return { output, error, spans, ms: root ? root.durationMs : wall, ...(frames ? { frames } : {}) };
}

/** The outermost of a call's spans: the call itself. */
function rootOf(spans: readonly Span[]): Span | undefined {
  return spans.reduce<Span | undefined>((top, s) => (!top || s.depth < top.depth ? s : top), undefined);
}

/** The call's name as its spans show it: in a group, after the group's name. */
export function callerNameOf(call: CallSpec, calls: CallFile): string {
  return call.group === undefined ? call.name : `${calls.groups[call.group].name} › ${call.name}`;
}

type Verdict = Omit<CheckOutcome, 'name' | 'at'>;

export interface Judging {
  call: CallSpec;
  calls: CallFile;
  /** The bytes of a span, for expected nested calls with an input or output. */
  spanData: (spanId: number) => Promise<SpanData | undefined>;
  maxMessageBytes: number;
  /** The engine has no trace (the SDK): assertions on the call tree are not checked, and said so. */
  noTrace?: string;
  /** The engine's error messages are its own (the SDK): an expect.error that does not match still passes on a failure, said so. */
  foreignErrors?: string;
  base: string;
  first: RunResult;
  runs: RunResult[];
  snapshots: SnapshotStore;
}

/** Each `expect` of the call judged; a call without one passes when it did not fail. */
export async function judgeAll(j: Judging): Promise<CheckOutcome[]> {
  const { call, first } = j;
  const { output, error } = first;
  if (!call.expect.length) return [{ at: call.at, ...(error === undefined ? { passed: true } : { passed: false, reason: error }) }];
  // a failure is what the call should do when one of its expects asks for it
  const failureExpected = call.expect.some((e) => e.output !== undefined && 'error' in e.output);
  const checks: CheckOutcome[] = [];
  for (const e of call.expect) {
    const verdicts: Verdict[] = [];
    if (e.output && 'snapshot' in e.output) verdicts.push(error !== undefined ? { passed: false, reason: error, snapshot: true } : j.snapshots.check(callerNameOf(call, j.calls), output ?? new Uint8Array(0)));
    else if (e.output) verdicts.push(foreign(j, e.output, judgeOutput(e.output as Exclude<OutputCheck, { snapshot: true }>, output, error), error));
    else if (error !== undefined && !failureExpected) verdicts.push({ passed: false, reason: error });
    if (j.noTrace !== undefined && (e.calls || e.hostCalls || e.noCalls)) verdicts.push({ passed: true, note: j.noTrace });
    else {
      if (e.calls) verdicts.push(await judgeCalls(j, e.calls, false));
      if (e.hostCalls) verdicts.push(await judgeCalls(j, e.hostCalls, true));
      if (e.noCalls) verdicts.push(judgeNoCalls(first.spans));
    }
    if (e.maxMs !== undefined) verdicts.push(judgeTime(j.runs, e.maxMs, call.repeat));
    if (e.maxFuel !== undefined) verdicts.push(judgeFuel(first.spans, e.maxFuel));
    const failed = verdicts.find((v) => !v.passed);
    const notes = verdicts.map((v) => v.note).filter((n): n is string => n !== undefined);
    checks.push({
      ...(e.name === undefined ? {} : { name: e.name }),
      at: e.at,
      ...(failed ?? { passed: true }),
      ...(notes.length ? { note: notes.join('; ') } : {}),
      ...(verdicts.some((v) => v.snapshot) ? { snapshot: true } : {}),
    });
  }
  return checks;
}

/** On an engine whose messages are its own, a failure that was expected passes whatever its words, with a note. */
function foreign(j: Judging, expect: OutputCheck, v: Verdict, error: string | undefined): Verdict {
  if (v.passed || j.foreignErrors === undefined || !('error' in expect) || error === undefined) return v;
  return { passed: true, note: `${j.foreignErrors}: ${error}` };
}

async function judgeCalls(j: Judging, expected: CallCheck[], host: boolean): Promise<Verdict> {
  const root = rootOf(j.first.spans);
  if (!root) return { passed: false, reason: `the call made no span to read its ${host ? 'host function calls' : 'calls'} from${j.first.error ? `: ${j.first.error}` : ''}` };
  const wantBytes = expected.some((e) => e.input !== undefined || e.output !== undefined);
  const crossed: CrossedCall[] = [];
  for (const s of nestedSpans(j.first.spans, root.id, host)) {
    const c: CrossedCall = { callee: calleeOf(s), spanId: s.id };
    if (wantBytes && expected.some((e) => e.callee === c.callee)) {
      const data = await j.spanData(s.id);
      if (!data) c.bytesMissing = 'its bytes were not kept (too many calls since)';
      else if (data.input.length < data.inputBytes || data.output.length < data.outputBytes) c.bytesMissing = `its bytes were kept only in part (${SPAN_DATA_BYTES} bytes each way)`;
      else {
        c.input = data.input;
        c.output = data.output;
      }
    }
    crossed.push(c);
  }
  const bytesOf = (check: CallCheck, field: 'input' | 'output'): Uint8Array => inputBytes(check[field]!, field, j.base, j.maxMessageBytes);
  const r = matchCalls(expected, crossed, bytesOf);
  return r.passed ? { passed: true } : { passed: false, reason: r.reason, expected: r.expected, actual: r.actual };
}

function judgeNoCalls(spans: readonly Span[]): Verdict {
  const root = rootOf(spans);
  const nested = root ? [...nestedSpans(spans, root.id, false), ...nestedSpans(spans, root.id, true)] : [];
  return nested.length ? { passed: false, reason: `expected no calls, but it called ${nested.map(calleeOf).join(', ')}`, expected: '', actual: nested.map(calleeOf).join('\n') } : { passed: true };
}

/** The fuel the call spent (its top-level span's, nested calls included) against `maxFuel`. */
function judgeFuel(spans: readonly Span[], maxFuel: number): Verdict {
  const spent = rootOf(spans)?.fuelTotal;
  if (spent === undefined) return { passed: false, reason: 'expect.maxFuel: its fuel was not counted (count it: extism-ipc test does when a call has maxFuel, the editor with extismIpc.trace.fuel)' };
  return spent <= maxFuel ? { passed: true } : { passed: false, reason: `it spent ${spent} fuel, over its expect.maxFuel of ${maxFuel}`, expected: `at most ${maxFuel} fuel`, actual: `${spent} fuel` };
}

/** The median of the runs' times against `maxMs`. */
function judgeTime(runs: readonly RunResult[], maxMs: number, repeat: number): Verdict {
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  const of = repeat > 1 ? `the median of ${times.length} runs` : 'it';
  return median <= maxMs ? { passed: true, note: `${of}: ${median.toFixed(2)} ms` } : { passed: false, reason: `${of} took ${median.toFixed(2)} ms, over maxMs ${maxMs}`, expected: `≤ ${maxMs} ms`, actual: `${median.toFixed(2)} ms` };
}

/** The outcome's own verdict: every check passed, else the first failed one's reason (after its name). */
export function summary(checks: CheckOutcome[]): Pick<CallOutcome, 'passed' | 'reason' | 'expected' | 'actual' | 'checks' | 'notes'> {
  const failed = checks.find((c) => !c.passed);
  const notes = checks.map((c) => c.note).filter((n): n is string => n !== undefined);
  if (!failed) return { passed: true, checks, notes };
  const more = checks.filter((c) => !c.passed).length - 1;
  const reason = `${failed.name !== undefined ? `${failed.name}: ` : ''}${failed.reason ?? 'failed'}${more ? ` (and ${more} more failed expect${more > 1 ? 's' : ''})` : ''}`;
  return { passed: false, reason, checks, notes, ...(failed.expected !== undefined ? { expected: failed.expected } : {}), ...(failed.actual !== undefined ? { actual: failed.actual } : {}) };
}

function judgeOutput(expect: Exclude<OutputCheck, { snapshot: true }>, output: Uint8Array | undefined, error: string | undefined): Verdict {
  if ('error' in expect) {
    if (error === undefined) return { passed: false, reason: `expected it to fail matching /${expect.error}/, but it succeeded`, expected: expect.error, actual: text(output) };
    const passed = matchesWithin(expect.error, error, ERROR_MATCH_TIMEOUT_MS);
    if (passed === 'too slow') {
      return {
        passed: false,
        reason: `the pattern /${expect.error}/ took longer than ${ERROR_MATCH_TIMEOUT_MS} ms to match the error, and was stopped (a pattern that backtracks, such as nested quantifiers (a+)+: simplify it)`,
        expected: expect.error,
        actual: error,
      };
    }
    if (passed === 'gave up') {
      return { passed: false, reason: `the pattern /${expect.error}/ could not be matched against the error (the regular expression engine gave up)`, expected: expect.error, actual: error };
    }
    return passed ? { passed } : { passed, reason: `its error does not match /${expect.error}/: ${error}`, expected: expect.error, actual: error };
  }
  if (error !== undefined) return { passed: false, reason: error };
  const actual = text(output);
  if ('output' in expect) return actual === expect.output ? { passed: true } : { passed: false, reason: 'the output differs', expected: expect.output, actual };
  if ('contains' in expect) {
    return actual.includes(expect.contains) ? { passed: true } : { passed: false, reason: `the output does not contain ${JSON.stringify(expect.contains)}`, expected: expect.contains, actual };
  }
  if ('base64' in expect) {
    const got = Buffer.from(output ?? new Uint8Array(0)).toString('base64');
    return got === expect.base64 ? { passed: true } : { passed: false, reason: 'the output bytes differ', expected: expect.base64, actual: got };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(actual);
  } catch {
    return { passed: false, reason: 'the output is not JSON', expected: JSON.stringify(expect.json, null, 2), actual };
  }
  return containsJson(parsed, expect.json)
    ? { passed: true }
    : { passed: false, reason: 'the output JSON does not contain the expected fields', expected: JSON.stringify(expect.json, null, 2), actual: shown(parsed, actual) };
}

/** A plugin's JSON output, indented for a diff; as it came when it nests too deep to indent safely. */
function shown(parsed: unknown, raw: string): string {
  return jsonDeeperThan(parsed) ? raw : JSON.stringify(parsed, null, 2);
}

// The pattern is compiled and run in a context of its own under vm's timeout, which interrupts
// V8's backtracking: a call file is run on the extension host's thread too.
const matchContext = vm.createContext(Object.create(null) as object);
const matchScript = new vm.Script('new RegExp(pattern).test(subject)');

/**
 * Whether `pattern` matches `subject`: 'too slow' when matching took longer than `timeoutMs`, 'gave
 * up' when the engine threw (out of backtracking stack, or a pattern that does not compile).
 */
export function matchesWithin(pattern: string, subject: string, timeoutMs: number): boolean | 'too slow' | 'gave up' {
  const context = matchContext as { pattern?: string; subject?: string };
  context.pattern = pattern;
  context.subject = subject;
  try {
    return matchScript.runInContext(matchContext, { timeout: timeoutMs }) === true;
  } catch (error) {
    return (error as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'too slow' : 'gave up';
  } finally {
    context.pattern = undefined;
    context.subject = undefined;
  }
}

function text(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('utf8') : '';
}
