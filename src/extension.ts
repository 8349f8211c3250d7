import * as vscode from 'vscode';
import { PluginHost } from './core';
import { createApi, ExtismIpcApi } from './vscode/api';
import { registerCommands } from './vscode/commands';
import { watchHost } from './vscode/hostEvents';
import { trackContextKeys } from './vscode/contextKeys';
import { Log } from './vscode/log';
import { PluginNode, PluginTreeProvider } from './vscode/pluginTree';
import { onDidChangeSettings, readSettings } from './vscode/settings';
import { StatusBar } from './vscode/statusBar';
import { CALLS_VIEW, TracePanel } from './vscode/tracePanel';
import { applySettings, createHost } from './vscode/hostSettings';

let host: PluginHost | undefined;

/** Builds the core from the settings, then the views, then the commands. */
export function activate(context: vscode.ExtensionContext): ExtismIpcApi {
  const started = performance.now();
  const log = new Log();
  const samplesDir = vscode.Uri.joinPath(context.extensionUri, 'plugins').fsPath;
  const settings = readSettings(samplesDir);
  host = createHost(settings, log);
  const h = host;

  const tree = new PluginTreeProvider(h);
  const treeView = vscode.window.createTreeView<PluginNode>('extismIpc.livePlugins', { treeDataProvider: tree, showCollapseAll: true });
  const panel = new TracePanel(h, context.extensionUri, maxSpans);
  const status = new StatusBar(h);
  const update = (): void => applySettings(h, readSettings(samplesDir), log, treeView);
  applySettings(h, settings, log, treeView, false);

  context.subscriptions.push(
    log,
    tree,
    treeView,
    panel,
    status,
    vscode.window.registerWebviewViewProvider(CALLS_VIEW, panel),
    ...registerCommands({ host: h, log, samplesDir, tree, treeView, panel, status }),
    watchHost(h, log),
    trackContextKeys(h),
    onDidChangeSettings(update),
  );
  const activationMs = performance.now() - started;
  const { api, disposables } = createApi(h, { activationMs, policy: () => h.currentPolicy, tree, treeView, panel });
  context.subscriptions.push(...disposables);
  log.info(`activated in ${activationMs.toFixed(1)} ms; plugin directories: ${settings.options.pluginDirs?.join(', ')}`);
  return api;
}

function maxSpans(): number {
  return vscode.workspace.getConfiguration('extismIpc').get<number>('trace.maxSpans', 2000);
}

/** Closes every plugin and the runtime worker. */
export async function deactivate(): Promise<void> {
  const h = host;
  host = undefined;
  await h?.dispose();
}
