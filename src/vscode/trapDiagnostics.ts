import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { FailedCall, frameText, PluginHost, StackFrame, topFrame, visibleText } from '../core';

/** A plugin's id in a frame's label (`plugin #2 (callee)`). */
function pluginIdOf(frame: StackFrame): number | undefined {
  const match = /^plugin #(\d+) /.exec(frame.plugin);
  return match ? Number(match[1]) : undefined;
}

/**
 * Problems at the source line where a plugin trapped or failed, from the DWARF of its module: one
 * diagnostic per failed call's top frame whose file exists, with the rest of the stack as related
 * locations. A plugin's diagnostics last while it is live: they go when it is unregistered or
 * reloaded, or when the runtime restarts.
 */
export class TrapDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('extism-traps');
  /** The diagnostics of each live plugin that failed, by file. */
  private readonly byPlugin = new Map<number, Map<string, vscode.Diagnostic[]>>();
  private readonly subscriptions: vscode.Disposable[];
  /** When each plugin with diagnostics was last reloaded: a new value means new code. */
  private readonly reloads = new Map<number, unknown>();

  constructor(private readonly host: PluginHost) {
    this.subscriptions = [
      host.onDidFailCall((failure) => this.add(failure)),
      host.onDidChangePlugins((change) => {
        if (change.kind === 'reset') this.clear();
        else if (change.kind === 'removed') this.forget(change.plugin.id);
        else if (change.kind === 'changed' && this.reloads.has(change.plugin.id) && this.reloads.get(change.plugin.id) !== change.plugin.reloadedAt) {
          this.forget(change.plugin.id);
        }
      }),
      host.onDidStopRuntime(() => this.clear()),
    ];
  }

  private add(failure: FailedCall): void {
    const frames = failure.error.frames;
    const top = topFrame(frames);
    if (!top || top.file === undefined || top.line === undefined || !fs.existsSync(top.file)) return;
    const id = pluginIdOf(top) ?? failure.pluginId;
    const diagnostic = new vscode.Diagnostic(rangeOf(top), visibleText(`${failure.error.message} at ${frameText(top)}`), vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'Extism';
    diagnostic.relatedInformation = (frames ?? [])
      .filter((f) => f !== top && f.crossing === undefined && f.file !== undefined && f.line !== undefined)
      .slice(0, 20)
      .map((f) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(f.file as string), rangeOf(f)), visibleText(`${f.plugin}: ${f.function}`)));
    let files = this.byPlugin.get(id);
    if (!files) this.byPlugin.set(id, (files = new Map()));
    // the latest failure at each line: a plugin that keeps failing there shows one problem
    const list = (files.get(top.file) ?? []).filter((d) => d.range.start.line !== diagnostic.range.start.line);
    list.push(diagnostic);
    files.set(top.file, list.slice(-20));
    if (!this.reloads.has(id)) this.reloads.set(id, this.host.plugin(id)?.reloadedAt);
    this.render();
  }

  private forget(id: number): void {
    if (!this.byPlugin.delete(id)) return;
    this.reloads.delete(id);
    this.render();
  }

  private clear(): void {
    this.byPlugin.clear();
    this.reloads.clear();
    this.collection.clear();
  }

  private render(): void {
    const all = new Map<string, vscode.Diagnostic[]>();
    for (const files of this.byPlugin.values()) {
      for (const [file, list] of files) all.set(file, [...(all.get(file) ?? []), ...list]);
    }
    this.collection.clear();
    for (const [file, list] of all) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}

/** The frame's line (from its column to the line's end when the column is known). */
export function rangeOf(frame: StackFrame): vscode.Range {
  const line = Math.max(0, (frame.line ?? 1) - 1);
  const column = Math.max(0, (frame.column ?? 1) - 1);
  return new vscode.Range(line, column, line, Number.MAX_SAFE_INTEGER);
}
