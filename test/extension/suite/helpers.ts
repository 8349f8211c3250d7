import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtismIpcApi, TestingHooks } from '../../../src/vscode/api';
import type { PluginNode } from '../../../src/vscode/pluginTree';
import type { FromWebview, RecordView, SpanView } from '../../../src/shared/protocol';

export const EXTENSION_ID = 'extism-ipc.extism-ipc';
export const SEED_OUTPUT = '{"count":3,"total":3,"vowels":"aeiouAEIOU"}';
/** dist/test/extension/suite -> the repository root. */
export const REPO = path.resolve(__dirname, '..', '..', '..', '..');

export async function getApi(): Promise<ExtismIpcApi> {
  const ext = vscode.extensions.getExtension<ExtismIpcApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** The extension's internals, which it exposes only under test (ExtensionMode.Test). */
export function hooks(api: ExtismIpcApi): TestingHooks {
  assert.ok(api.testing, 'the extension exposes its test hooks only when the extension host runs tests');
  return api.testing;
}

export function cmd<T = unknown>(id: string, ...args: unknown[]): Thenable<T> {
  return vscode.commands.executeCommand<T>(id, ...args);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `fn` returns something other than undefined/false. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Sets a user setting and waits until the host's policy shows it (configure is posted before any later call). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('extismIpc').update(key, value, vscode.ConfigurationTarget.Global);
}

/** A clean slate between tests: no plugins, no trace, default settings. */
export async function reset(): Promise<ExtismIpcApi> {
  const api = await getApi();
  for (const key of ['limits.maxCallDepth', 'limits.callTimeoutMs', 'permissions', 'trace.maxSpans', 'grants.wasi', 'grants.allowedHosts', 'grants.allowedPaths', 'grants.fromManifests', 'grants.httpResponseHeaders', 'bindings', 'reloadOnChange', 'hostFunctions']) {
    if (vscode.workspace.getConfiguration('extismIpc').inspect(key)?.globalValue !== undefined) await setSetting(key, undefined);
  }
  await waitFor('default policy', () => hooks(api).policy().maxCallDepth === 16 && hooks(api).policy().callTimeoutMs === 10_000 && !hooks(api).policy().wasi);
  await cmd('extismIpc.unregisterAll');
  await cmd('extismIpc.clearTrace');
  await waitFor('empty tree', () => hooks(api).tree.getChildren().length === 0);
  return api;
}

/** The tree as `#id name` labels, nested: [{label, children}]. */
export interface TreeShape {
  label: string;
  id: string | undefined;
  description: string | undefined;
  children: TreeShape[];
}

export function treeShape(api: ExtismIpcApi, node?: PluginNode): TreeShape[] {
  const tree = hooks(api).tree;
  return tree.getChildren(node).map((n) => {
    const item = tree.getTreeItem(n);
    return {
      label: typeof item.label === 'string' ? item.label : item.label?.label ?? '',
      id: item.id,
      description: typeof item.description === 'string' ? item.description : undefined,
      children: treeShape(api, n),
    };
  });
}

/** Shows the Inter-Plugin Calls panel and waits for its webview to say `ready`. */
export async function showPanel(api: ExtismIpcApi): Promise<void> {
  const panel = hooks(api).panel;
  const ready = nextMessage(api, (m) => m.type === 'ready', 20_000);
  await cmd('extismIpc.showTrace');
  if (!panel.isReady) await ready;
  else ready.catch(() => undefined);
}

export function nextMessage(api: ExtismIpcApi, pred: (m: FromWebview) => boolean, timeoutMs = 10_000): Promise<FromWebview> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('no such message from the webview'));
    }, timeoutMs);
    const sub = hooks(api).messages.onDidReceiveMessage((m) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(m);
    });
  });
}

/** The spans the panel was sent (snapshot and deltas), latest state of each, by id. */
export function postedSpans(api: ExtismIpcApi): Map<number, SpanView> {
  const out = new Map<number, SpanView>();
  const take = (r: RecordView | SpanView) => {
    if ('kind' in r && r.kind !== 'call') return;
    out.set(r.id, r as SpanView);
  };
  for (const m of hooks(api).messages.posted) {
    if (m.type === 'clear') out.clear();
    if (m.type === 'snapshot') {
      out.clear();
      m.records.forEach(take);
      m.running.forEach(take);
    }
    if (m.type === 'records') m.records.forEach(take);
  }
  return out;
}

/** Rejects-with check that returns the error message. */
export async function rejects(p: Thenable<unknown>, pattern: RegExp): Promise<string> {
  try {
    await p;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    assert.match(message, pattern);
    return message;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

/** Closes every editor without a save prompt. */
export async function closeEditors(): Promise<void> {
  for (let i = 0; i < 50 && vscode.window.visibleTextEditors.length; i++) {
    await cmd('workbench.action.focusFirstEditorGroup');
    await cmd('workbench.action.revertAndCloseActiveEditor');
  }
  await cmd('workbench.action.closeAllEditors');
}
