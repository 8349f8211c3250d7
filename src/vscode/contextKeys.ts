import * as vscode from 'vscode';
import type { PluginHost } from '../core';

/** `extismIpc.hasPlugins`, which gates the palette entries and title actions that need a live plugin. */
export function trackContextKeys(host: PluginHost): vscode.Disposable {
  let last: boolean | undefined;
  const update = () => {
    const has = host.plugins().length > 0;
    if (has === last) return;
    last = has;
    void vscode.commands.executeCommand('setContext', 'extismIpc.hasPlugins', has);
  };
  update();
  const sub = host.onDidChangePlugins(update);
  return new vscode.Disposable(() => sub.dispose());
}
