import * as fs from 'node:fs';
import * as path from 'node:path';
import { CallFileError, CallOutcome, findCallFiles, PluginHost, readCallFile, runCallFile } from './core';
import type { CallFile } from './core';
import { junitXml } from './core';
import type { CheckOutcome, JunitCase, JunitFile } from './core';
import { parseTest, UsageError } from './cliArgs';
import { BaselineError, FuelBaseline } from './cliFuelBaseline';
import type { TestCommand } from './cliArgs';
import { runCallFileOnSdk } from './core/sdkEngine';
import type { SdkOutcome } from './core/sdkEngine';

export const TEST_USAGE = `usage: extism-ipc test [FILE|DIR...] [options]

Runs the calls of Extism call files (*.extism-calls.json; default: every one under the current
directory) and checks each call's "expect". Prints a line per call, then "N passed, M failed".
A call that is not one (a bad field) fails where it is, naming the file, the call and the field;
the file's other calls still run.

      --fuel-baseline FILE      record each call's fuel in FILE when it does not exist; when it
                                does, fail a call whose fuel grew past the tolerance, printing
                                the change per call (calls not in it are added)
      --fuel-tolerance PERCENT  growth allowed (default 0: fuel is deterministic)

options:
  -u, --update-snapshots  write the snapshot of every call whose output differs from it
      --ci                compare snapshots, never write them: a missing one fails (the default
                          when CI is set in the environment)
      --engine ENGINE     where the calls run: runtime (this host, the default), sdk (@extism/extism,
                          the official JS SDK), or both (each call on both: it fails where their
                          bytes or pass/fail differ); calls whose plugins import register_plugin,
                          call_plugin or unregister_plugin are skipped on the SDK, saying why
      --junit FILE        write a JUnit XML report to FILE: a testsuite per call file (nested per
                          group), a testcase per call with its time, failures with the diff, and
                          the call's trace as its system-out
  -h, --help              this text

exit status: 0 every call passed, 1 a call failed, 2 a file is not a call file (not JSON, or not an object)`;

const indent = (text: string, by: string): string => text.replace(/\n/g, `\n${by}`);

function detail(c: Pick<CheckOutcome, 'expected' | 'actual' | 'reason' | 'diff'>, pad: string): string {
  if (c.diff !== undefined) return `\n${pad}${indent(c.diff, pad)}`;
  if (c.expected === undefined || c.reason === undefined || c.reason.includes(c.actual ?? '\0')) return '';
  return `\n${pad}expected: ${indent(c.expected, `${pad}          `)}\n${pad}actual:   ${indent(c.actual ?? '', `${pad}          `)}`;
}

/** A call's lines: its verdict, its notes, and each named (or listed) expect on a line of its own. */
export function outcomeLines(o: SdkOutcome): string {
  if (o.skipped !== undefined) return `- ${o.call.name}: ${o.skipped}`;
  const ms = `${o.durationMs.toFixed(0)} ms`;
  const notes = o.notes.length ? `: ${o.notes.join('; ')}` : '';
  const each = o.checks.length > 1 || o.checks.some((c) => c.name !== undefined);
  if (each) {
    const lines = o.checks.map((c) => {
      const label = c.name ?? c.at;
      return c.passed ? `    ✓ ${label}${c.note ? `: ${c.note}` : ''}` : `    ✗ ${label}: ${c.reason ?? 'failed'}${detail(c, '        ')}`;
    });
    // notes of the call itself (an engine's), not of one expect
    const own = o.notes.filter((n) => !o.checks.some((c) => c.note === n));
    return `${o.passed ? '✓' : '✗'} ${o.call.name} (${ms})${own.length ? `: ${own.join('; ')}` : ''}\n${lines.join('\n')}`;
  }
  if (o.passed) return `✓ ${o.call.name} (${ms})${notes}`;
  const first = o.checks.find((c) => !c.passed) ?? o;
  return `✗ ${o.call.name}: ${o.reason ?? 'failed'} (${ms})${detail(first, '    ')}`;
}

/** `extism-ipc test`: returns the exit status. */
export async function runTests(args: string[], samplesDir: string, out: (text: string) => void): Promise<number> {
  let command;
  try {
    command = parseTest(args);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new CallFileError(`test: ${(error as Error).message}`);
    throw error;
  }
  if (command === 'help') {
    out(`${TEST_USAGE}\n`);
    return 0;
  }
  let baseline: FuelBaseline | null = null;
  try {
    baseline = command.fuelBaseline === undefined ? null : new FuelBaseline(command.fuelBaseline, command.fuelTolerance);
  } catch (error) {
    if (error instanceof BaselineError) throw new CallFileError(error.message);
    throw error;
  }
  const files = command.targets.flatMap((t) => (fs.existsSync(t) && fs.statSync(t).isDirectory() ? findCallFiles(t) : [path.resolve(t)]));
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let malformed = 0;
  const report: JunitFile[] = [];
  for (const file of files) {
    const name = path.relative(process.cwd(), file) || file;
    let calls;
    try {
      calls = readCallFile(file);
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      out(`✗ ${error.message}\n`);
      malformed++;
      report.push({ name, cases: [], problems: [], error: error.message });
      continue;
    }
    const cases: JunitCase[] = [];
    report.push({ name, cases, problems: calls.problems.map((p) => p.message) });
    const pad = files.length > 1 ? '  ' : '';
    if (files.length > 1) out(`${path.relative(process.cwd(), file) || file}\n`);
    // a bad field of the file fails as one test of its own; its calls still run
    for (const problem of calls.problems) {
      out(`${pad}✗ ${problem.message}\n`);
      failed++;
    }
    const host = new PluginHost({
      pluginDirs: [...calls.pluginDirs, samplesDir],
      wasiHint: 'set "wasi": true on the call',
      hostFunctions: calls.hostFunctions,
      hostFunctionsHint: 'list a module that supplies host functions in the call file\'s "hostFunctions"',
      // fuel is counted (every plugin metered) only when something reads it
      countFuel: baseline !== null || calls.calls.some((c) => c.expect.some((e) => e.maxFuel !== undefined)),
    });
    try {
      let group: number | undefined;
      for (let outcome of await runOn(command, calls, host, samplesDir)) {
        const fuel = outcome.skipped === undefined ? baseline?.check(file, outcome) : undefined;
        if (fuel) outcome = { ...outcome, notes: [...outcome.notes, fuel.note] };
        if (fuel?.failure && outcome.passed) outcome = { ...outcome, passed: false, reason: fuel.failure };
        if (outcome.call.group !== group) {
          group = outcome.call.group;
          if (group !== undefined) out(`${pad}${calls.groups[group].name}\n`);
        }
        const by = pad + (group !== undefined ? '  ' : '');
        out(`${by}${indent(outcomeLines(outcome), by)}\n`);
        cases.push(junitCase(outcome, group === undefined ? undefined : calls.groups[group].name));
        if (outcome.skipped !== undefined) skipped++;
        else if (outcome.passed) passed++;
        else failed++;
      }
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      out(`✗ ${error.message}\n`);
      malformed++;
      report[report.length - 1].error = error.message;
    } finally {
      await host.dispose();
    }
  }
  if (!files.length) out('no call files (*.extism-calls.json) found\n');
  const saved = baseline?.save();
  if (saved) out(`${saved}\n`);
  out(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  if (command.junit !== undefined) fs.writeFileSync(command.junit, junitXml(report));
  return malformed ? 2 : failed ? 1 : 0;
}

/** A file's calls on the engine the command names; on both, each call's outcomes compared. */
async function runOn(command: TestCommand, calls: CallFile, host: PluginHost, samplesDir: string): Promise<SdkOutcome[]> {
  if (command.engine === 'sdk') return runCallFileOnSdk(calls, { snapshots: command.snapshots, samplesDir });
  const ours = await runCallFile(calls, host, undefined, { snapshots: command.snapshots });
  if (command.engine === 'runtime') return ours;
  // the runtime wrote and updated snapshots; the SDK compares with them
  const theirs = new Map((await runCallFileOnSdk(calls, { snapshots: command.snapshots === 'ci' ? 'ci' : 'check', samplesDir })).map((o) => [o.call.index, o]));
  return ours.map((o) => compareEngines(o, theirs.get(o.call.index)));
}

function described(o: CallOutcome): string {
  const bytes = (b: Uint8Array | undefined) => JSON.stringify(Buffer.from(b ?? new Uint8Array(0)).toString('utf8'));
  const what = o.error !== undefined ? `failed (${o.error})` : `gave ${bytes(o.output)}`;
  return `${what}, ${o.passed ? 'passed' : 'did not pass'}`;
}

/**
 * One call on both engines: the runtime's outcome, failed where the verdicts differ, or where the
 * bytes differ and the call's expect pins them (no expect, output, base64, snapshot); an expect
 * that allows other bytes (json, contains, error) lets them differ, with a note.
 */
export function compareEngines(ours: CallOutcome, theirs: SdkOutcome | undefined): SdkOutcome {
  if (!theirs || ours.invalid) return ours;
  if (theirs.skipped !== undefined) return { ...ours, notes: [...ours.notes, theirs.skipped] };
  const sameFate = (ours.error === undefined) === (theirs.error === undefined);
  const sameBytes = sameFate && Buffer.compare(Buffer.from(ours.output ?? []), Buffer.from(theirs.output ?? [])) === 0;
  const pinned = !ours.call.expect.length || ours.call.expect.some((e) => e.output !== undefined && ('output' in e.output || 'base64' in e.output || 'snapshot' in e.output));
  if (sameBytes && ours.passed === theirs.passed) return { ...ours, notes: [...ours.notes, 'the SDK agrees'] };
  if (sameFate && !pinned && ours.passed === theirs.passed) return { ...ours, notes: [...ours.notes, 'the SDK agrees on the verdict; its bytes differ, which the expect allows'] };
  const reason = `the engines differ: the runtime ${described(ours)}; the SDK ${described(theirs)}`;
  return { ...ours, passed: false, reason, checks: [...ours.checks, { at: ours.call.at, passed: false, reason }] };
}

function junitCase(o: SdkOutcome, group: string | undefined): JunitCase {
  const failedChecks = o.checks.filter((c) => !c.passed);
  const detail = failedChecks.map((c) => `${c.name ?? c.at}: ${c.reason ?? 'failed'}${detailOf(c)}`).join('\n');
  return {
    name: o.call.name,
    ...(group !== undefined ? { group } : {}),
    durationMs: o.durationMs,
    passed: o.passed,
    ...(o.invalid ? { invalid: true } : {}),
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(detail ? { detail } : {}),
    spans: o.spans,
    ...(o.skipped !== undefined ? { skipped: o.skipped } : {}),
  };
}

function detailOf(c: CheckOutcome): string {
  if (c.diff !== undefined) return `\n${c.diff}`;
  if (c.expected === undefined) return '';
  return `\nexpected: ${c.expected}\nactual:   ${c.actual ?? ''}`;
}
