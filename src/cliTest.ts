import * as fs from 'node:fs';
import * as path from 'node:path';
import { CallFileError, CallOutcome, findCallFiles, PluginHost, readCallFile, runCallFile } from './core';
import { BaselineError, FuelBaseline } from './cliFuelBaseline';

export const TEST_USAGE = `usage: extism-ipc test [--fuel-baseline FILE [--fuel-tolerance PERCENT]] [FILE|DIR...]

Runs the calls of Extism call files (*.extism-calls.json; default: every one under the current
directory) and checks each call's "expect" (its "maxFuel" too). Prints a line per call, then
"N passed, M failed".

      --fuel-baseline FILE      record each call's fuel in FILE when it does not exist; when it
                                does, fail a call whose fuel grew past the tolerance, printing
                                the change per call (calls not in it are added)
      --fuel-tolerance PERCENT  growth allowed (default 0: fuel is deterministic)

exit status: 0 every call passed, 1 a call failed, 2 a file is not a call file`;

function line(o: CallOutcome, fuelNote = ''): string {
  const ms = `${o.durationMs.toFixed(0)} ms${fuelNote ? `, ${fuelNote}` : ''}`;
  if (o.passed) return `✓ ${o.call.name} (${ms})`;
  const detail = o.expected !== undefined && o.reason !== undefined && !o.reason.includes(o.actual ?? '\0')
    ? `\n    expected: ${o.expected.replace(/\n/g, '\n              ')}\n    actual:   ${(o.actual ?? '').replace(/\n/g, '\n              ')}`
    : '';
  return `✗ ${o.call.name}: ${o.reason ?? 'failed'} (${ms})${detail}`;
}

/** `extism-ipc test`: returns the exit status. */
export async function runTests(args: string[], samplesDir: string, out: (text: string) => void): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    out(`${TEST_USAGE}\n`);
    return 0;
  }
  const { targets: given, baselineFile, tolerance } = testArgs(args);
  let baseline: FuelBaseline | null = null;
  try {
    baseline = baselineFile === undefined ? null : new FuelBaseline(baselineFile, tolerance);
  } catch (error) {
    if (error instanceof BaselineError) throw new CallFileError(error.message);
    throw error;
  }
  const targets = given.length ? given : ['.'];
  const files = targets.flatMap((t) => (fs.existsSync(t) && fs.statSync(t).isDirectory() ? findCallFiles(t) : [path.resolve(t)]));
  let passed = 0;
  let failed = 0;
  let malformed = 0;
  for (const file of files) {
    let calls;
    try {
      calls = readCallFile(file);
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      out(`✗ ${error.message}\n`);
      malformed++;
      continue;
    }
    if (files.length > 1) out(`${path.relative(process.cwd(), file) || file}\n`);
    const host = new PluginHost({
      pluginDirs: [...calls.pluginDirs, samplesDir],
      wasiHint: 'set "wasi": true on the call',
      hostFunctions: calls.hostFunctions,
      hostFunctionsHint: 'list a module that supplies host functions in the call file\'s "hostFunctions"',
      // fuel is counted (every plugin metered) only when something reads it
      countFuel: baseline !== null || calls.calls.some((c) => c.maxFuel !== undefined),
    });
    try {
      for (let outcome of await runCallFile(calls, host)) {
        const fuel = baseline?.check(file, outcome);
        if (fuel?.failure && outcome.passed) outcome = { ...outcome, passed: false, reason: fuel.failure };
        out(`${files.length > 1 ? '  ' : ''}${line(outcome, fuel?.note)}\n`);
        if (outcome.passed) passed++;
        else failed++;
      }
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      out(`✗ ${error.message}\n`);
      malformed++;
    } finally {
      await host.dispose();
    }
  }
  if (!files.length) out('no call files (*.extism-calls.json) found\n');
  const saved = baseline?.save();
  if (saved) out(`${saved}\n`);
  out(`${passed} passed, ${failed} failed\n`);
  return malformed ? 2 : failed ? 1 : 0;
}

/** The flags of `extism-ipc test`; anything else starting with `-` is refused. */
function testArgs(args: string[]): { targets: string[]; baselineFile?: string; tolerance: number } {
  const targets: string[] = [];
  let baselineFile: string | undefined;
  let tolerance: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--fuel-baseline' || a === '--fuel-tolerance') {
      const value = args[++i];
      if (value === undefined) throw new CallFileError(`test: ${a} needs a value`);
      if (a === '--fuel-baseline') baselineFile = path.resolve(value);
      else {
        if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new CallFileError(`test: --fuel-tolerance takes a percentage such as 0 or 2.5, got "${value}"`);
        tolerance = Number(value);
      }
    } else if (a.startsWith('-')) throw new CallFileError(`test: unknown option ${a}`);
    else targets.push(a);
  }
  if (tolerance !== undefined && baselineFile === undefined) throw new CallFileError('test: --fuel-tolerance goes with --fuel-baseline FILE');
  return { targets, baselineFile, tolerance: tolerance ?? 0 };
}
