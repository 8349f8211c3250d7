import * as path from 'node:path';
import * as vscode from 'vscode';
import { fileExists } from './fileExists';
import { hostFunctionStub, IpcError } from '../core';
import type { PluginHost, PluginRule, Remedy } from '../core';

/** A button on an error's notification: what it does, and whether the failed command runs again after it. */
export interface RemedyAction {
  title: string;
  run(): Promise<'retry' | 'done'>;
}

export interface RemedyServices {
  host: PluginHost;
  /** Reads the settings and applies them to the host now, resolving once the runtime has them. */
  applySettings(): Promise<void>;
}

const SECTION = 'extismIpc';

/**
 * The actions that fix a failure the host knows the remedy of. `label` makes plugin text fit for a
 * button (it is the plugin's, not ours). A workspace that is not trusted gets no grants, so none.
 */
export function remedyActions(error: unknown, s: RemedyServices, label: (text: string) => string): RemedyAction[] {
  const remedy = error instanceof IpcError ? error.remedy : undefined;
  if (!remedy || !vscode.workspace.isTrusted) return [];
  const openSettings: RemedyAction = {
    title: 'Open Settings',
    run: async () => {
      await vscode.commands.executeCommand('workbench.action.openSettings', remedy.kind === 'allowHost' ? `${SECTION}.grants.allowedHosts` : `${SECTION}.plugins`);
      return 'done';
    },
  };
  switch (remedy.kind) {
    case 'grantWasi':
      return [
        {
          title: `Grant WASI to ${label(remedy.plugin)} and Retry`,
          run: async () => {
            await updateRule(remedy.plugin, (rule) => ({ ...rule, wasi: true }));
            await s.applySettings();
            await reloadLive(s.host, remedy.plugin);
            return 'retry';
          },
        },
        openSettings,
      ];
    case 'allowHost':
      return [
        {
          title: `Allow ${label(remedy.host)} for ${label(remedy.plugin)} and Retry`,
          run: async () => {
            await updateRule(remedy.plugin, (rule) => ({ ...rule, allowedHosts: [...new Set([...(rule.allowedHosts ?? []), remedy.host])] }));
            await s.applySettings();
            await reloadLive(s.host, remedy.plugin);
            return 'retry';
          },
        },
        openSettings,
      ];
    case 'supplyImports':
      return [{ title: 'Create Host Functions Module', run: async () => (await createStubModule(remedy), 'done') }];
    case 'rebuildOldAbi':
      return [];
  }
}

/** Changes one plugin's entry of `extismIpc.plugins` where the workspace keeps its settings. */
async function updateRule(plugin: string, change: (rule: PluginRule) => PluginRule): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const inspected = config.inspect<Record<string, PluginRule>>('plugins');
  const current = (target === vscode.ConfigurationTarget.Workspace ? inspected?.workspaceValue : inspected?.globalValue) ?? {};
  // a plugin's name is its data: a fresh null-prototype copy, the entry set as an own property
  const next: Record<string, PluginRule> = Object.assign(Object.create(null), current);
  const rule = Object.hasOwn(next, plugin) && typeof next[plugin] === 'object' && next[plugin] !== null ? next[plugin] : {};
  Object.defineProperty(next, plugin, { value: change(rule), enumerable: true, writable: true, configurable: true });
  await config.update('plugins', { ...next }, target);
}

/** Live plugins of that name take grants at load: load them again, keeping ids and vars. */
async function reloadLive(host: PluginHost, name: string): Promise<void> {
  for (const p of host.plugins()) if (p.name === name) await host.reload(p.id);
}

/**
 * Writes a host-function module with a stub per missing import beside the workspace's plugins,
 * lists it in `extismIpc.hostFunctions` and opens it.
 */
async function createStubModule(remedy: Extract<Remedy, { kind: 'supplyImports' }>): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) throw new Error('Create Host Functions Module: open a folder first; the module is written into it');
  const safeName = remedy.plugin.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_').slice(0, 64) || 'plugin';
  let uri = vscode.Uri.joinPath(folder, 'host-functions', `${safeName}.mjs`);
  for (let n = 2; await fileExists(uri); n++) uri = vscode.Uri.joinPath(folder, 'host-functions', `${safeName}-${n}.mjs`);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(hostFunctionStub(remedy.plugin, remedy.imports)));
  const config = vscode.workspace.getConfiguration(SECTION);
  const listed = config.inspect<string[]>('hostFunctions')?.workspaceValue ?? [];
  const entry = path.relative(folder.fsPath, uri.fsPath).split(path.sep).join('/');
  await config.update('hostFunctions', [...listed, entry], vscode.ConfigurationTarget.Workspace);
  await vscode.window.showTextDocument(uri);
}
