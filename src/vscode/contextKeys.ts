import * as vscode from 'vscode';
import type { PluginHost } from '../core';

/**
 * `extismIpc.hasPlugins`, which gates the palette entries and title actions that need a live
 * plugin, and `extismIpc.hasCalled`, set once the first call ran (the walkthrough's call step
 * completes on it, whichever way the call was made).
 */
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
  let called: { dispose(): void } | undefined = host.onDidChangeCallsRunning(() => {
    if (host.runningCalls === 0 || !called) return;
    called.dispose();
    called = undefined;
    void vscode.commands.executeCommand('setContext', 'extismIpc.hasCalled', true);
  });
  return new vscode.Disposable(() => {
    sub.dispose();
    called?.dispose();
  });
}
