import * as path from 'node:path';
import * as vscode from 'vscode';
import { fileExists } from './fileExists';
import { CALL_FILE_SUFFIX, splitExports } from '../core';
import type { PluginHost } from '../core';
import type { LastCall } from './callHistory';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Asks for a name, writes `<name>.extism-calls.json` into the workspace folder with one starter
 * call (the last call made, else a live plugin's first export, else the bundled `run` sample) and
 * opens it. Resolves with the file, or undefined when the person gave no name.
 */
export async function newCallFile(host: PluginHost, samplesDir: string, last: LastCall | undefined, given?: string): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) throw new Error('New Call File: open a folder first; the call file is written into it');
  const name = given ?? await vscode.window.showInputBox({
    title: 'Extism: New Call File',
    prompt: `Written as <name>${CALL_FILE_SUFFIX} in the workspace folder`,
    value: 'calls',
    validateInput: (v) => (NAME.test(v) ? undefined : 'A name of letters, digits, _, . and -, starting with a letter or digit'),
  });
  if (name === undefined) return undefined;
  if (!NAME.test(name)) throw new Error('New Call File: a name of letters, digits, _, . and - only');
  const uri = vscode.Uri.joinPath(folder, `${name}${CALL_FILE_SUFFIX}`);
  if (await fileExists(uri)) throw new Error(`New Call File: ${name}${CALL_FILE_SUFFIX} exists already; open it, or pick another name`);
  const call = starterCall(host, samplesDir, path.dirname(uri.fsPath), last);
  const text = `{\n  "calls": [\n    ${JSON.stringify(call)}\n  ]\n}\n`;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(uri);
  return uri;
}

interface StarterCall {
  name: string;
  plugin: string;
  function: string;
  input?: string | { base64: string };
}

function starterCall(host: PluginHost, samplesDir: string, dir: string, last: LastCall | undefined): StarterCall {
  if (last && host.plugins().some((p) => p.source === last.source)) {
    const text = utf8(last.input);
    const input = last.input.byteLength === 0 ? undefined : text ?? { base64: Buffer.from(last.input).toString('base64') };
    return { name: `${last.name} ${last.func}`, plugin: pluginRef(last.source, last.name, samplesDir, dir), function: last.func, ...(input === undefined ? {} : { input }) };
  }
  const live = host.plugins().filter((p) => p.parentId === null).at(-1);
  const func = live ? (splitExports(live.exports).own[0] ?? live.exports[0]) : undefined;
  if (live && func !== undefined) return { name: `${live.name} ${func}`, plugin: pluginRef(live.source, live.name, samplesDir, dir), function: func, input: '' };
  return { name: 'the seed scenario', plugin: 'run', function: 'run' };
}

/** A bundled sample by its name; any other plugin by its path relative to the call file. */
function pluginRef(source: string, name: string, samplesDir: string, dir: string): string {
  if (path.dirname(path.resolve(source)) === path.resolve(samplesDir)) return name;
  return path.relative(dir, source).split(path.sep).join('/');
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
