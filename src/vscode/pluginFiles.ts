import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PluginHost, PluginInfo } from '../core';

/**
 * The plugin file a command argument names: a Uri (the explorer's context menu, the overview) or a
 * path to a `.wasm` or a manifest (absolute or workspace-relative); undefined for anything else (an
 * id, a tree node, a plugin name).
 */
export function pluginFileOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg !== 'string' || !/\.(wasm|json)$/i.test(arg) || !/[\\/]/.test(arg)) return undefined;
  if (path.isAbsolute(arg)) return arg;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, arg) : path.resolve(arg);
}

/** The live plugin a person registered from this file, if any (not one a plugin spawned). */
export function liveFromFile(host: PluginHost, file: string): PluginInfo | undefined {
  const wanted = path.resolve(file);
  return host.plugins().find((p) => p.parentId === null && path.resolve(p.source) === wanted);
}

/** The live plugin of this file, registering it (through the Register Plugin command) if it is not live. */
export async function livePluginOf(host: PluginHost, file: string): Promise<PluginInfo | undefined> {
  const live = liveFromFile(host, file);
  if (live) return live;
  const id = await vscode.commands.executeCommand<number | undefined>('extismIpc.registerPlugin', file);
  return id === undefined ? undefined : host.plugin(id);
}
