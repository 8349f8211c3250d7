// What a call of a call file takes in before it runs: the file read and checked, the call files
// under a folder, an input's bytes, the plugin a name stands for, its load options, its name in spans.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CALL_FILE_SUFFIX, CallFile, CallFileError, CallInput, CallSpec, parseCallFile } from './model/callFile';
import type { LoadOptions } from './model/loadOptions';
import { formatBytes } from './model/numbers';
import { FileRefusal, readFileChecked } from './runtime/files';

/** The largest call file read: it is JSON a person writes, inputs included. */
export const MAX_CALL_FILE_BYTES = 64 * 1024 * 1024;

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

/** The call's name as its spans show it: in a group, after the group's name. */
export function callerNameOf(call: CallSpec, calls: CallFile): string {
  return call.group === undefined ? call.name : `${calls.groups[call.group].name} › ${call.name}`;
}
