import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, summarizeModule, visibleExports } from '../core';
import { readSettings } from './settings';

/** The most bytes of a module read for its exports. */
const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/** Where a string value being typed sits: the key it belongs to, and the text typed so far. */
function stringValueAt(text: string, offset: number): { key: string; typed: string; start: number } | undefined {
  const before = text.slice(Math.max(0, offset - 2000), offset);
  const m = /"(plugin|function)"\s*:\s*"((?:[^"\\\n]|\\.)*)$/.exec(before);
  return m ? { key: m[1], typed: m[2], start: offset - m[2].length } : undefined;
}

/** The `plugin` of the call object around `offset`: the nearest enclosing `{` and its matching `}`. */
function pluginOfCall(text: string, offset: number): string | undefined {
  let depth = 0;
  let start = -1;
  for (let i = offset - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '}' || c === ']') depth++;
    else if (c === '{' || c === '[') {
      if (depth === 0) {
        start = i;
        break;
      }
      depth--;
    }
  }
  if (start < 0) return undefined;
  const rest = text.slice(start, start + 20000);
  const m = /"plugin"\s*:\s*"((?:[^"\\\n]|\\.)*)"/.exec(rest);
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return undefined;
  }
}

/** The file's `plugins` directories, when its text parses (while typing it may not). */
function fileDirs(file: string, text: string): string[] {
  try {
    const raw = JSON.parse(text) as { plugins?: unknown };
    return Array.isArray(raw.plugins) ? raw.plugins.filter((d): d is string => typeof d === 'string').map((d) => path.resolve(path.dirname(file), d)) : [];
  } catch {
    return [];
  }
}

function pluginFiles(dirs: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!/\.(wasm|json)$/i.test(name) || name.endsWith(CALL_FILE_SUFFIX) || name.endsWith('.snap.json')) continue;
      const plugin = name.replace(/\.(wasm|json)$/i, '');
      if (!found.has(plugin)) found.set(plugin, path.join(dir, name));
    }
  }
  return found;
}

/** The module a plugin file runs: a .wasm, or the last module of a manifest with paths. */
function moduleOf(file: string): string | undefined {
  if (/\.wasm$/i.test(file)) return file;
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { wasm?: { path?: unknown }[] };
    const last = raw.wasm?.[raw.wasm.length - 1]?.path;
    return typeof last === 'string' ? path.resolve(path.dirname(file), last) : undefined;
  } catch {
    return undefined;
  }
}

function exportsOf(file: string): string[] {
  const module = moduleOf(file);
  if (!module) return [];
  try {
    if (fs.statSync(module).size > MAX_MODULE_BYTES) return [];
    const summary = summarizeModule(fs.readFileSync(module));
    return summary.ok ? visibleExports(summary.exports.filter((e) => e.kind === 'function').map((e) => e.name)) : [];
  } catch {
    return [];
  }
}

/**
 * Completion in call files: plugin names (from the file's plugin directories, the settings' and
 * the bundled samples) in `"plugin"`, and the plugin's own exports (read from its module, PDK
 * runtime exports left out) in `"function"`.
 */
export class CallFileCompletion implements vscode.CompletionItemProvider {
  constructor(private readonly samplesDir: string) {}

  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
    const text = document.getText();
    const offset = document.offsetAt(position);
    const at = stringValueAt(text, offset);
    if (!at) return [];
    const dirs = [...fileDirs(document.uri.fsPath, text), ...(readSettings(this.samplesDir).options.pluginDirs ?? [])];
    const plugins = pluginFiles(vscode.workspace.isTrusted ? dirs : [this.samplesDir]);
    const range = new vscode.Range(document.positionAt(at.start), position);
    if (at.key === 'plugin') {
      return [...plugins].map(([name, file]) => {
        const item = new vscode.CompletionItem(name, vscode.CompletionItemKind.Module);
        item.detail = vscode.workspace.asRelativePath(file);
        item.range = range;
        return item;
      });
    }
    const plugin = pluginOfCall(text, at.start - 1);
    if (!plugin) return [];
    const file = /[\\/]/.test(plugin) || /\.(wasm|json)$/i.test(plugin) ? path.resolve(path.dirname(document.uri.fsPath), plugin) : plugins.get(plugin);
    if (!file) return [];
    return exportsOf(file).map((name) => {
      const item = new vscode.CompletionItem(name, vscode.CompletionItemKind.Function);
      item.detail = `export of ${plugin}`;
      item.range = range;
      return item;
    });
  }
}

export function registerCallFileCompletion(samplesDir: string): vscode.Disposable {
  return vscode.languages.registerCompletionItemProvider({ pattern: `**/*${CALL_FILE_SUFFIX}` }, new CallFileCompletion(samplesDir), '"');
}
