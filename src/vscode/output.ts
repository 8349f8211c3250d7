import * as vscode from 'vscode';
import { renderBytes, RenderedBytes } from './outputText';

/** The scheme of the read-only output documents: `extism-output:/<plugin>.<function>`. */
export const OUTPUT_SCHEME = 'extism-output';
/** Outputs kept for their documents; the least recently shown goes first. */
export const KEPT_OUTPUTS = 32;

/** Whose output a document shows. */
export interface OutputTarget {
  pluginId: number;
  plugin: string;
  func: string;
}

interface Kept {
  uri: vscode.Uri;
  target: OutputTarget;
  rendered: RenderedBytes;
}

/**
 * One read-only document per plugin.function, reused and updated on every call of it: never dirty,
 * nothing to save, nothing piling up. The path is the plugin's and the function's names, encoded so
 * that neither can form another path segment or a query (a `.` in the plugin's name is encoded too,
 * so the first `.` always ends it); a second live plugin of the same name gets its id in the path,
 * and a plugin that ended leaves its documents to the next plugin of its name.
 */
export class OutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  /** By `id:function`, least recently shown first. */
  private readonly kept = new Map<string, Kept>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(OUTPUT_SCHEME, this);

  /** `isLive` says whether a plugin id is still live: a plugin that ended leaves its documents to the next of its name. */
  constructor(private readonly isLive: (pluginId: number) => boolean) {}

  /** Shows the output of a call of `target` in its document, creating or updating it. */
  async show(target: OutputTarget, bytes: Uint8Array, viewColumn: vscode.ViewColumn = vscode.ViewColumn.Active): Promise<vscode.TextEditor> {
    const key = `${target.pluginId}:${target.func}`;
    const uri = this.kept.get(key)?.uri ?? this.uriFor(target);
    this.kept.delete(key);
    const rendered = renderBytes(bytes, 'output');
    this.kept.set(key, { uri, target, rendered });
    while (this.kept.size > KEPT_OUTPUTS) this.kept.delete(this.kept.keys().next().value as string);
    this.changeEmitter.fire(uri);
    let doc = await vscode.workspace.openTextDocument(uri);
    if (doc.languageId !== rendered.language) doc = await vscode.languages.setTextDocumentLanguage(doc, rendered.language);
    return vscode.window.showTextDocument(doc, { preview: true, viewColumn });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const key = uri.toString();
    for (const k of this.kept.values()) if (k.uri.toString() === key) return k.rendered.text;
    return '(this output is no longer kept: call the function again to see its output here)';
  }

  private uriFor(target: OutputTarget): vscode.Uri {
    const name = encodeURIComponent(target.plugin).replace(/\./g, '%2E');
    const func = encodeURIComponent(target.func);
    const plain = vscode.Uri.from({ scheme: OUTPUT_SCHEME, path: `/${name}.${func}` });
    let taken = false;
    for (const [key, k] of this.kept) {
      if (k.target.pluginId === target.pluginId || k.uri.toString() !== plain.toString()) continue;
      if (this.isLive(k.target.pluginId)) taken = true;
      else this.kept.delete(key);
    }
    return taken ? vscode.Uri.from({ scheme: OUTPUT_SCHEME, path: `/${name}.${func} (#${target.pluginId})` }) : plain;
  }

  dispose(): void {
    this.registration.dispose();
    this.changeEmitter.dispose();
    this.kept.clear();
  }
}
