import * as path from 'node:path';
import * as vscode from 'vscode';
import { SECTION } from './settings';

const SETTLE_MS = 300;

/**
 * Watches the host-function modules of the settings: when one is saved or rebuilt (and
 * `extismIpc.reloadOnChange` is on), the settings are applied again, which loads the changed module
 * afresh; live plugins that import its functions call the new ones from their next call.
 */
export class HostFunctionsWatch implements vscode.Disposable {
  private readonly watchers = new Map<string, vscode.FileSystemWatcher>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly changed: () => void) {}

  watch(files: readonly string[]): void {
    const wanted = new Set(files);
    for (const [file, watcher] of this.watchers) {
      if (wanted.has(file)) continue;
      watcher.dispose();
      this.watchers.delete(file);
    }
    for (const file of wanted) {
      if (this.watchers.has(file)) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
      watcher.onDidChange(() => this.schedule());
      watcher.onDidCreate(() => this.schedule());
      this.watchers.set(file, watcher);
    }
  }

  private schedule(): void {
    if (!vscode.workspace.getConfiguration(SECTION).get<boolean>('reloadOnChange', true)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed(), SETTLE_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.dispose();
    this.watchers.clear();
  }
}
