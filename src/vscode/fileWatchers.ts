import * as path from 'node:path';
import * as vscode from 'vscode';

/** One watcher per file of a set that changes over time; a change or a (re)creation reports the file. */
export class FileWatchers implements vscode.Disposable {
  private readonly watchers = new Map<string, vscode.FileSystemWatcher>();

  constructor(private readonly changed: (file: string) => void) {}

  /** Watches exactly these files: new ones get a watcher, the ones no longer wanted lose theirs. */
  watch(files: Iterable<string>): void {
    const wanted = new Set(files);
    for (const [file, watcher] of this.watchers) {
      if (wanted.has(file)) continue;
      watcher.dispose();
      this.watchers.delete(file);
    }
    for (const file of wanted) {
      if (this.watchers.has(file)) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
      watcher.onDidChange(() => this.changed(file));
      watcher.onDidCreate(() => this.changed(file));
      this.watchers.set(file, watcher);
    }
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.dispose();
    this.watchers.clear();
  }
}
