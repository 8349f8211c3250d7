import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, iconLabelText, visibleText } from '../core';
import type { PluginInfo } from '../core';
import { demoSamples } from './samples';
import { showInformation } from './notify';
import { shownExports } from './exportsShown';
import { inputPreview } from './callHistory';

interface TargetItem extends vscode.QuickPickItem {
  target?: string;
  browse?: boolean;
}

/**
 * Asks for a plugin to register: the workspace's `.wasm` files and Extism manifests (when trusted),
 * the bundled samples, or Browse….
 */
export async function pickRegisterTarget(samplesDir: string, trusted: boolean, samplesOnly = false): Promise<string | undefined> {
  const items: TargetItem[] = [];
  const workspace = trusted && !samplesOnly;
  if (workspace) {
    const files = await vscode.workspace.findFiles('**/*.{wasm,json}', '{**/node_modules/**,**/.vscode-test/**,**/.git/**}', 2000);
    const samples = path.normalize(samplesDir);
    const own = files
      .filter((f) => path.dirname(f.fsPath) !== samples && (f.fsPath.endsWith('.wasm') || isManifest(f.fsPath)))
      .sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    if (own.length) items.push({ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator });
    for (const f of own) {
      const manifest = f.fsPath.endsWith('.json');
      items.push({
        label: `${manifest ? '$(json)' : '$(file-binary)'} ${iconLabelText(path.basename(f.fsPath).replace(/\.(wasm|json)$/, ''))}`,
        description: `${manifest ? 'manifest · ' : ''}${iconLabelText(vscode.workspace.asRelativePath(f))}`,
        target: f.fsPath,
      });
    }
  }
  const samples = demoSamples(listWasm(samplesDir));
  if (samples.length) items.push({ label: 'Bundled samples', kind: vscode.QuickPickItemKind.Separator });
  for (const { name, description } of samples) {
    items.push({ label: `$(package) ${iconLabelText(name)}`, description, target: name });
  }
  if (workspace) {
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(folder-opened) Browse…', description: 'a .wasm file anywhere', browse: true });
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Extism: Register Plugin',
    placeHolder: samplesOnly ? 'Pick a bundled sample to load (try "run")' : trusted ? 'Pick a .wasm plugin to load' : 'Restricted Mode: only the bundled samples can be loaded',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (!picked.browse) return picked.target;
  const uris = await vscode.window.showOpenDialog({
    title: 'Register Extism plugin',
    canSelectMany: false,
    filters: { 'Extism plugin': ['wasm', 'json'] },
    openLabel: 'Register',
  });
  return uris?.[0]?.fsPath;
}

/** An Extism manifest: a small JSON object with a `wasm` list (package.json and friends are not). */
function isManifest(file: string): boolean {
  try {
    if (fs.statSync(file).size > 256 * 1024) return false;
    const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof json === 'object' && json !== null && Array.isArray((json as { wasm?: unknown }).wasm);
  } catch {
    return false;
  }
}

function listWasm(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** Asks for a live plugin. */
export async function pickPlugin(plugins: readonly PluginInfo[], title: string): Promise<PluginInfo | undefined> {
  if (!plugins.length) {
    void showInformation('Extism: no live plugins. Register one first.', 'Register Plugin…').then((c) => {
      if (c) void vscode.commands.executeCommand('extismIpc.registerPlugin');
    });
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    plugins.map((p) => ({
      label: iconLabelText(`#${p.id} ${p.name}`),
      description: p.parentId === null ? undefined : `spawned by #${p.parentId}`,
      detail: iconLabelText(`exports: ${shownExports(p.exports).join(', ') || '(none)'}`),
      plugin: p,
    })),
    { title, placeHolder: 'Pick a live plugin', matchOnDetail: true },
  );
  return picked?.plugin;
}

/**
 * Asks for one export of a plugin (its own, unless `extismIpc.showRuntimeExports` lists the PDK
 * runtime's too); a single one is taken without asking.
 */
export async function pickExport(plugin: PluginInfo): Promise<string | undefined> {
  const shown = shownExports(plugin.exports);
  const exports = shown.length ? shown : plugin.exports;
  if (exports.length === 1) return exports[0];
  const picked = await vscode.window.showQuickPick(
    exports.map((name) => ({ label: iconLabelText(name), name })),
    { title: visibleText(`Extism: Call #${plugin.id} ${plugin.name}`), placeHolder: 'Pick the export to call' },
  );
  return picked?.name;
}

type InputSource = 'type' | 'empty' | 'selection' | 'file' | 'editor' | 'recent';

/** What Call Plugin's input picker offers beyond its own sources. */
export interface InputChoices {
  /** Inputs given to this function before, most recent first. */
  recent?: readonly Uint8Array[];
  /** Opens an editor for JSON input; resolves with its bytes, undefined when closed unsent. */
  writeJson?: () => Promise<Uint8Array | undefined>;
}

/**
 * Asks for the input bytes: one given before, typed, empty, the active editor's selection, written
 * in a JSON editor, or a file's contents.
 */
export async function pickInput(what: string, choices: InputChoices = {}): Promise<Uint8Array | undefined> {
  const editor = vscode.window.activeTextEditor;
  const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
  type Item = vscode.QuickPickItem & { source?: InputSource; bytes?: Uint8Array };
  const recent: Item[] = (choices.recent ?? []).map((bytes) => ({
    label: `$(history) ${iconLabelText(inputPreview(bytes))}`,
    description: `${bytes.byteLength} B`,
    source: 'recent',
    bytes,
  }));
  const items: Item[] = [
    ...(recent.length ? [{ label: 'Recent inputs', kind: vscode.QuickPickItemKind.Separator }, ...recent, { label: '', kind: vscode.QuickPickItemKind.Separator }] : []),
    { label: '$(edit) Type the input…', source: 'type' },
    { label: '$(circle-slash) Empty input', source: 'empty' },
    ...(selection !== undefined
      ? [{ label: '$(selection) The active editor\'s selection', description: `${selection.length} characters`, source: 'selection' as const }]
      : []),
    ...(choices.writeJson ? [{ label: '$(json) Write JSON in an editor…', description: 'sent with Send Input in its title bar', source: 'editor' as const }] : []),
    { label: '$(file) Read from a file…', source: 'file' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: visibleText(`Extism: input for ${what}`), placeHolder: 'Where does the input come from?' });
  switch (picked?.source) {
    case undefined:
      return undefined;
    case 'recent':
      return picked.bytes;
    case 'empty':
      return new Uint8Array(0);
    case 'selection':
      return new TextEncoder().encode(selection ?? '');
    case 'editor':
      return choices.writeJson?.();
    case 'type': {
      const text = await vscode.window.showInputBox({ title: visibleText(`Extism: input for ${what}`), prompt: 'Sent as UTF-8 bytes', value: 'Hello, World!' });
      return text === undefined ? undefined : new TextEncoder().encode(text);
    }
    case 'file': {
      const uris = await vscode.window.showOpenDialog({ title: visibleText(`Input for ${what}`), canSelectMany: false, openLabel: 'Use as input' });
      return uris?.[0] ? vscode.workspace.fs.readFile(uris[0]) : undefined;
    }
  }
}

/** Asks for a call file to append to, among those found, or a new one. */
export async function pickCallFileTarget(found: readonly vscode.Uri[], newLabel: string): Promise<vscode.Uri | 'new' | undefined> {
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = [
    ...found.map((uri) => ({ label: iconLabelText(vscode.workspace.asRelativePath(uri)), uri })),
    { label: `$(new-file) ${newLabel}` },
  ];
  const chosen = await vscode.window.showQuickPick(items, { title: 'Add the call to a call file', placeHolder: 'A call file to append it to' });
  if (!chosen) return undefined;
  return chosen.uri ?? 'new';
}

/** An existing call file of the workspace, or a new one (saved where a person says). */
export async function pickCallFile(): Promise<string | undefined> {
  const existing = await vscode.workspace.findFiles(`**/*${CALL_FILE_SUFFIX}`, '**/node_modules/**', 200);
  const NEW = 'New call file…';
  const items: (vscode.QuickPickItem & { file?: string })[] = [
    { label: `$(new-file) ${NEW}` },
    ...existing.map((uri) => ({ label: iconLabelText(vscode.workspace.asRelativePath(uri)), file: uri.fsPath })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Extism: Record Calls to a Call File', placeHolder: 'The call file that the calls are appended to' });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: 'Extism: Record Calls to a New Call File',
    filters: { 'Extism call files': ['json'] },
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `recorded${CALL_FILE_SUFFIX}`) } : {}),
  });
  if (!uri) return undefined;
  return uri.fsPath.endsWith(CALL_FILE_SUFFIX) ? uri.fsPath : `${uri.fsPath.replace(/\.json$/i, '')}${CALL_FILE_SUFFIX}`;
}
