import * as vscode from 'vscode';
import type { PluginHost } from '../core';

/** The live plugin count; spins while a call is under way; click shows the Live Plugins view. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('extismIpc.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: { dispose(): void }[];
  private running = 0;

  constructor(private readonly host: PluginHost) {
    this.item.name = 'Extism IPC';
    this.item.command = 'extismIpc.livePlugins.focus';
    this.subscriptions = [host.onDidChangePlugins(() => this.update())];
    this.update();
    this.item.show();
  }

  /** Marks a call started by this extension as under way until `done` settles. */
  track<T>(done: Promise<T>): Promise<T> {
    this.running++;
    this.update();
    const end = () => {
      this.running--;
      this.update();
    };
    done.then(end, end);
    return done;
  }

  private update(): void {
    const n = this.host.plugins().length;
    const icon = this.running ? '$(sync~spin)' : '$(plug)';
    this.item.text = `${icon} ${n}`;
    this.item.tooltip = `Extism: ${n} live plugin${n === 1 ? '' : 's'}${this.running ? ', a call is running' : ''}`;
    this.item.accessibilityInformation = { label: this.item.tooltip };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
