import * as vscode from 'vscode';
import type { PluginHost } from '../core';

/** Live plugins and calls running, said in words; spins while a call is under way (from any face); click shows the Live Plugins view. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('extismIpc.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: { dispose(): void }[];

  constructor(private readonly host: PluginHost) {
    this.item.name = 'Extism IPC';
    this.item.command = 'extismIpc.livePlugins.focus';
    this.subscriptions = [host.onDidChangePlugins(() => this.update()), host.onDidChangeCallsRunning(() => this.update())];
    this.update();
    this.item.show();
  }

  private update(): void {
    const n = this.host.plugins().length;
    const running = this.host.runningCalls;
    const plugins = `${n} plugin${n === 1 ? '' : 's'}`;
    const calls = running ? ` · ${running} call${running === 1 ? '' : 's'} running` : '';
    this.item.text = `${running ? '$(sync~spin)' : '$(plug)'} Extism: ${plugins}${calls}`;
    this.item.tooltip = `Extism: ${n} live plugin${n === 1 ? '' : 's'}${running ? `, ${running} call${running === 1 ? '' : 's'} running` : ''}. Click to show Live Plugins.`;
    this.item.accessibilityInformation = { label: this.item.tooltip };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
