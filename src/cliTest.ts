import * as fs from 'node:fs';
import * as path from 'node:path';
import { CallFileError, CallOutcome, findCallFiles, PluginHost, readCallFile, runCallFile } from './core';

export const TEST_USAGE = `usage: extism-ipc test [FILE|DIR...]

Runs the calls of Extism call files (*.extism-calls.json; default: every one under the current
directory) and checks each call's "expect". Prints a line per call, then "N passed, M failed".

A call that is not one (a bad field) fails where it is, naming the file, the call and the field;
the file's other calls still run.

exit status: 0 every call passed, 1 a call failed, 2 a file is not a call file (not JSON, or not an object)`;

function line(o: CallOutcome): string {
  const ms = `${o.durationMs.toFixed(0)} ms`;
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
  const flag = args.find((a) => a.startsWith('-'));
  if (flag) throw new CallFileError(`test: unknown option ${flag}`);
  const targets = args.length ? args : ['.'];
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
    // a bad field of the file fails as one test of its own; its calls still run
    for (const problem of calls.problems) {
      out(`${files.length > 1 ? '  ' : ''}✗ ${problem.message}\n`);
      failed++;
    }
    const host = new PluginHost({
      pluginDirs: [...calls.pluginDirs, samplesDir],
      wasiHint: 'set "wasi": true on the call',
      hostFunctions: calls.hostFunctions,
      hostFunctionsHint: 'list a module that supplies host functions in the call file\'s "hostFunctions"',
    });
    try {
      for (const outcome of await runCallFile(calls, host)) {
        out(`${files.length > 1 ? '  ' : ''}${line(outcome)}\n`);
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
  out(`${passed} passed, ${failed} failed\n`);
  return malformed ? 2 : failed ? 1 : 0;
}
