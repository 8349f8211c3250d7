import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { CALL_FILE_SUFFIX, CallFile, CallFileError, CallSpec, containsJson, parseCallFile } from './model/callFile';
import type { LoadOptions } from './model/loadOptions';
import type { Span } from '../shared/traceRecords';
import { IpcError } from './model/errors';
import type { StackFrame } from './model/stackFrames';
import type { PluginHost } from './pluginHost';
import { jsonDeeperThan } from './model/jsonDepth';
import { formatBytes } from './model/numbers';
import { FileRefusal, readFileChecked } from './runtime/files';

/** How long an `expect.error` pattern may take to match a call's error before the call fails. */
export const ERROR_MATCH_TIMEOUT_MS = 1000;
/** The largest call file read: it is JSON a person writes, inputs included. */
export const MAX_CALL_FILE_BYTES = 64 * 1024 * 1024;

/** How one call of a call file went. */
export interface CallOutcome {
  call: CallSpec;
  /** The call did what its `expect` says (a call without one: it did not fail). */
  passed: boolean;
  durationMs: number;
  output?: Uint8Array;
  /** The call's error, when it failed. */
  error?: string;
  /** Where inside plugins it failed (when it failed there): innermost frame first. */
  frames?: StackFrame[];
  /** Why it did not pass, in one line. */
  reason?: string;
  /** What was expected and what came, as text, for a diff. */
  expected?: string;
  actual?: string;
  /** The spans of this call, its nested calls included. */
  spans: Span[];
  /** The fuel it spent, its nested calls included, when fuel was counted. */
  fuel?: number;
}

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

/** A call's input as bytes; a file's through the bounded reader (regular files only, within maxMessageBytes). */
function inputBytes(call: CallSpec, base: string, maxBytes: number): Uint8Array {
  const input = call.input;
  if ('text' in input) return Buffer.from(input.text, 'utf8');
  if ('base64' in input) return Buffer.from(input.base64, 'base64');
  if ('json' in input) return Buffer.from(JSON.stringify(input.json), 'utf8');
  const file = path.resolve(base, input.file);
  try {
    return readFileChecked(file, maxBytes, 'maxMessageBytes');
  } catch (error) {
    throw new InputRefusal(`calls[${call.index}].input.file ${file}: ${error instanceof FileRefusal ? error.reason : 'cannot be read'}`);
  }
}

/** A call's input could not be made: the call fails without running, whatever it expects. */
class InputRefusal extends Error {}

function loadOptions(call: CallSpec): LoadOptions {
  const options: LoadOptions = {};
  if (call.config) options.config = call.config;
  if (call.wasi !== undefined) options.wasi = call.wasi;
  if (call.allowedHosts) options.allowedHosts = call.allowedHosts;
  if (call.allowedPaths) options.allowedPaths = call.allowedPaths;
  if (call.timeoutMs !== undefined) options.timeoutMs = call.timeoutMs;
  return options;
}

/**
 * Runs the calls of a file in order on one host. A call naming the same plugin with the same
 * options as an earlier one reuses its live plugin, so vars carry over. `only` picks calls by
 * index; the others are still run when they come before one picked, so the state a picked call
 * sees is the state it would see in a whole run.
 */
export async function runCallFile(calls: CallFile, host: PluginHost, only?: ReadonlySet<number>): Promise<CallOutcome[]> {
  const session = new CallSession(host);
  const last = only ? Math.max(-1, ...only) : calls.calls.length - 1;
  const outcomes: CallOutcome[] = [];
  for (const call of calls.calls.slice(0, last + 1)) {
    const outcome = await session.run(calls, call);
    if (!only || only.has(call.index)) outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * Calls of call files on one host, with the plugins they loaded kept live between calls: a call
 * naming the same plugin with the same options reuses it (while it is still live).
 */
export class CallSession {
  private readonly live = new Map<string, number>();

  constructor(private readonly host: PluginHost) {}

  run(calls: CallFile, call: CallSpec): Promise<CallOutcome> {
    return runOne(call, calls, this.host, this.live);
  }
}

/** A plugin name in the file's own plugin directories first (as a path), else as the host finds it. */
function targetOf(plugin: string, calls: CallFile): string {
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

async function runOne(call: CallSpec, calls: CallFile, host: PluginHost, live: Map<string, number>): Promise<CallOutcome> {
  const base = path.dirname(calls.file);
  const spans: Span[] = [];
  const listening = host.trace.onRecord((r) => {
    if (r.kind === 'call' && r.status !== 'running') spans.push(r);
  });
  const t0 = performance.now();
  let output: Uint8Array | undefined;
  let error: string | undefined;
  let frames: StackFrame[] | undefined;
  let input: Uint8Array;
  try {
    input = inputBytes(call, base, host.currentPolicy.maxMessageBytes);
  } catch (e) {
    listening.dispose();
    if (!(e instanceof InputRefusal)) throw e;
    return { call, durationMs: performance.now() - t0, spans, passed: false, reason: e.message };
  }
  try {
    const options = loadOptions(call);
    const target = targetOf(call.plugin, calls);
    const key = JSON.stringify([target, options]);
    let id = live.get(key);
    if (id === undefined || !host.plugin(id)) {
      id = (await host.register(target, options)).id;
      live.set(key, id);
    }
    output = await host.call(id, call.function, input, 'api');
  } catch (e) {
    if (e instanceof CallFileError) throw e;
    error = e instanceof Error ? e.message : String(e);
    if (e instanceof IpcError && e.frames?.length) frames = e.frames;
  } finally {
    listening.dispose();
  }
  const durationMs = performance.now() - t0;
  return withFuel({ call, durationMs, output, error, spans, ...(frames ? { frames } : {}), ...judge(call, output, error) });
}

/** The call's fuel from its top-level span, and `expect.maxFuel` checked when the rest passed. */
function withFuel(outcome: CallOutcome): CallOutcome {
  const top = outcome.spans.find((s) => s.depth === 0 && s.host === undefined);
  if (top?.fuelTotal !== undefined) outcome.fuel = top.fuelTotal;
  const max = outcome.call.maxFuel;
  if (max === undefined || !outcome.passed) return outcome;
  if (outcome.fuel === undefined) {
    return { ...outcome, passed: false, reason: 'expect.maxFuel: its fuel was not counted (count it: extism-ipc test does when a call has maxFuel, the editor with extismIpc.trace.fuel)' };
  }
  if (outcome.fuel <= max) return outcome;
  return { ...outcome, passed: false, reason: `it spent ${outcome.fuel} fuel, over its expect.maxFuel of ${max}`, expected: `at most ${max} fuel`, actual: `${outcome.fuel} fuel` };
}

function judge(call: CallSpec, output: Uint8Array | undefined, error: string | undefined): Pick<CallOutcome, 'passed' | 'reason' | 'expected' | 'actual'> {
  const expect = call.expect;
  if (expect && 'error' in expect) {
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
  if (!expect) return { passed: true };
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
