#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { IpcError } from './core/errors';
import { PluginHost } from './core/host';
import { formatTraceTree, toChromeTrace } from './core/trace';

const USAGE = `usage: extism-ipc call <plugin.wasm|name> <function> [input] [options]

Loads the plugin (a .wasm path, or a name looked up in the plugin directories), calls one of its
exports with the input and writes the output bytes to stdout unchanged.

options:
  --plugins-dir DIR     where plugin names are looked up (repeatable; default ./plugins),
                        the bundled samples are searched last
  --input-file FILE     read the input from FILE (- for stdin)
  --timeout-ms MS       time limit of the call, nested calls included (default 10000; 0 = none)
  --max-plugins N       live plugins at most (default 64)
  --max-depth N         nested call depth at most (default 16)
  --trace               print the call tree with timings to stderr
  --trace-out FILE      write the trace as Chrome Trace Event JSON (Perfetto, chrome://tracing)
  --verbose             print stack traces of errors
  -h, --help            this text

exit status: 0 success, 1 the call failed or the policy refused it, 2 usage error`;

class UsageError extends Error {}

const samplesDir = path.resolve(__dirname, '..', 'plugins');

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number, got "${value}"`);
  return n;
}

function readInput(positional: string | undefined, file: string | undefined): Uint8Array {
  if (file !== undefined && positional !== undefined) throw new UsageError('give the input either as an argument or with --input-file, not both');
  if (file === '-') return fs.readFileSync(0);
  if (file !== undefined) {
    try {
      return fs.readFileSync(file);
    } catch {
      throw new UsageError(`cannot read input file ${file}`);
    }
  }
  return Buffer.from(positional ?? '', 'utf8');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'plugins-dir': { type: 'string', multiple: true },
      'input-file': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-plugins': { type: 'string' },
      'max-depth': { type: 'string' },
      trace: { type: 'boolean' },
      'trace-out': { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, target, func, inputArg, ...rest] = positionals;
  if (command !== 'call') throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
  if (!target || !func) throw new UsageError('call needs a plugin and a function');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const input = readInput(inputArg, values['input-file']);
  const dirs = (values['plugins-dir'] ?? ['plugins']).map((d) => path.resolve(d));

  const host = new PluginHost({
    pluginDirs: [...new Set([...dirs, samplesDir])],
    callTimeoutMs: integer(values['timeout-ms'], '--timeout-ms'),
    maxPlugins: integer(values['max-plugins'], '--max-plugins'),
    maxCallDepth: integer(values['max-depth'], '--max-depth'),
    logLevel: 'info',
  });
  host.onLog((e) => process.stderr.write(`[${e.level}] #${e.pluginId} ${e.name}: ${e.message}\n`));
  try {
    const wasmPath = target.endsWith('.wasm') && fs.existsSync(target) ? path.resolve(target) : target;
    const plugin = await host.register(wasmPath);
    let failure: unknown;
    try {
      const output = await host.call(plugin.id, func, input, 'cli');
      await new Promise<void>((resolve) => process.stdout.write(output, () => resolve()));
    } catch (error) {
      failure = error;
    }
    if (values.trace) process.stderr.write(`${formatTraceTree(host.trace.all())}\n`);
    if (values['trace-out']) fs.writeFileSync(values['trace-out'], JSON.stringify(toChromeTrace(host.trace.all()), null, 1));
    if (failure) throw failure;
    return 0;
  } finally {
    await host.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const verbose = process.argv.includes('--verbose');
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`extism-ipc: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`extism-ipc: ${error instanceof IpcError ? error.name + ': ' : ''}${message}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
