// A call's outcome judged against what its \`expect\`s ask: the output (text, JSON, bytes, a
// snapshot, an error pattern), the calls it made, its time and its fuel.
import type { CheckOutcome, CallOutcome, RunResult } from './callOutcome';
import { callerNameOf, inputBytes } from './callFileInputs';
import { ERROR_MATCH_TIMEOUT_MS, matchesWithin } from './errorPatternMatch';
import { CallCheck, CallFile, CallSpec, containsJson, OutputCheck } from './model/callFile';
import { calleeOf, CrossedCall, matchCalls, nestedSpans, outermostSpan } from './model/callTree';
import { jsonDeeperThan } from './model/jsonDepth';
import { SPAN_DATA_BYTES } from './model/spanData';
import type { SpanData } from './model/spanData';
import type { Span } from '../shared/traceRecords';
import type { SnapshotStore } from './snapshotStore';

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
  const root = outermostSpan(j.first.spans);
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
  const root = outermostSpan(spans);
  const nested = root ? [...nestedSpans(spans, root.id, false), ...nestedSpans(spans, root.id, true)] : [];
  return nested.length ? { passed: false, reason: `expected no calls, but it called ${nested.map(calleeOf).join(', ')}`, expected: '', actual: nested.map(calleeOf).join('\n') } : { passed: true };
}

/** The fuel the call spent (its top-level span's, nested calls included) against `maxFuel`. */
function judgeFuel(spans: readonly Span[], maxFuel: number): Verdict {
  const spent = outermostSpan(spans)?.fuelTotal;
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

function text(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('utf8') : '';
}
