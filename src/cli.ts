#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCall, USAGE, UsageError } from './cliArgs';
import type { CallCommand } from './cliArgs';
import { appendRecordedCall, CallFileError, failureText, formatTraceTree, IpcError, kernelPathLine, PluginHost, toChromeTrace } from './core';
import { errLine, errText, outBytes, outText } from './cliText';
import { runTests } from './cliTest';

const samplesDir = path.resolve(__dirname, '..', 'plugins');

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '(unknown version)';
  } catch {
    return '(unknown version)';
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'test') return runTests(argv.slice(1), samplesDir, outText);
  if (argv[0] === '--version' || argv[0] === '-V') {
    outText(`extism-ipc ${version()}\n${kernelPathLine()}\n`);
    return 0;
  }
  const command = parseCall(argv, samplesDir);
  if (command === 'help') {
    outText(`${USAGE}\n`);
    return 0;
  }
  const host = new PluginHost({
    ...command.host,
    wasiHint: 'run it with --wasi',
    hostFunctionsHint: 'give a module that supplies host functions with --host-functions FILE, or bind the import to another plugin with --bind',
  });
  host.onLog((e) => errLine(`[${e.level}] #${e.pluginId} ${e.name}: ${e.message}`));
  try {
    if (command.host.hostFunctions?.length) await host.hostFunctions();
    const plugin = await host.register(command.target, command.load);
    let failure: unknown;
    try {
      for (let i = 0; i < command.loop; i++) {
        if (i > 0) await outBytes(Buffer.from('\n'));
        if (command.profile) {
          const { output, profile } = await host.profileCall(plugin.id, command.func, command.input, { caller: 'cli', intervalUs: command.profile.intervalUs });
          fs.writeFileSync(command.profile.file, JSON.stringify(profile));
          await outBytes(output);
          if (i === 0 && command.record) record(command, plugin.source, output);
        } else {
          const output = await host.call(plugin.id, command.func, command.input, 'cli');
          await outBytes(output);
          if (i === 0 && command.record) record(command, plugin.source, output);
        }
      }
      // the bytes stay unchanged in a pipe; a terminal gets its prompt (or the trace) on a new line
      if (process.stdout.isTTY) await outBytes(Buffer.from('\n'));
    } catch (error) {
      failure = error;
      if (command.record) errLine(`not recorded in ${command.record}: the call failed`);
    }
    if (command.trace) errText(`${formatTraceTree(host.trace.all())}\n`);
    if (command.traceOut) fs.writeFileSync(command.traceOut, JSON.stringify(toChromeTrace(host.trace.all()), null, 1));
    if (failure) throw failure;
    return 0;
  } finally {
    await host.dispose();
  }
}

/** Appends the call made, with its output, to the call file of --record (creating it). */
function record(command: CallCommand, source: string, output: Uint8Array): void {
  const file = command.record!;
  const base = path.dirname(file);
  // a bundled sample by its name (the test command searches them too), any other plugin by its path from the file
  const plugin = path.dirname(source) === samplesDir && !/[\\/]/.test(command.target) ? command.target : path.relative(base, source);
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const h = command.host;
  const text = appendRecordedCall(
    file,
    existing,
    {
      plugin,
      function: command.func,
      input: command.input,
      output,
      config: command.load.config,
      wasi: h.wasi,
      allowedHosts: h.allowedHosts,
      allowedPaths: h.allowedPaths,
      ...(h.callTimeoutMs !== undefined ? { timeoutMs: h.callTimeoutMs } : {}),
    },
    (h.hostFunctions ?? []).map((m) => path.relative(base, m)),
  );
  fs.writeFileSync(file, text);
  errLine(`recorded in ${file}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      errText(`extism-ipc: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof CallFileError) {
      errText(`extism-ipc: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const text = error instanceof IpcError ? `${error.name}: ${failureText(message, error.frames, error.notes)}` : message;
    errText(`extism-ipc: ${text}\n`);
    if (process.argv.includes('--verbose') && error instanceof Error && error.stack) errText(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
