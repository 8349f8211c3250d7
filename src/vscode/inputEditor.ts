import * as vscode from 'vscode';
import { showWarning } from './notify';

export const SEND_INPUT = 'extismIpc.sendInput';
/** True while the active editor is a call's input document: its title shows Send Input. */
const ACTIVE_KEY = 'extismIpc.inputEditorActive';

interface Pending {
  doc: vscode.TextDocument;
  resolve(input: Uint8Array | undefined): void;
}

/**
 * Input written in an editor: an untitled JSON document, sent with Send Input (its title button)
 * or dropped by closing it. The document is closed without a save prompt once sent.
 */
export class InputEditors implements vscode.Disposable {
  private readonly pending = new Set<Pending>();
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.commands.registerCommand(SEND_INPUT, () => this.send()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateKey()),
      vscode.workspace.onDidCloseTextDocument((doc) => this.closed((p) => p.doc === doc)),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.closed) {
          const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri.toString() : undefined;
          if (uri !== undefined && !this.isOpen(uri)) this.closed((p) => p.doc.uri.toString() === uri);
        }
      }),
    ];
  }

  /** Opens a new JSON document; resolves with its bytes once sent, undefined once closed unsent. */
  async write(): Promise<Uint8Array | undefined> {
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: '{}' });
    const input = new Promise<Uint8Array | undefined>((resolve) => this.pending.add({ doc, resolve }));
    await vscode.window.showTextDocument(doc, { preview: false });
    this.updateKey();
    return input;
  }

  private async send(): Promise<void> {
    const active = vscode.window.activeTextEditor?.document;
    const p = [...this.pending].find((q) => q.doc === active) ?? [...this.pending].at(-1);
    if (!p) return;
    const text = p.doc.getText();
    try {
      JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if ((await showWarning(`Extism: the input is not JSON (${reason}). Send it as it is?`, 'Send Anyway')) !== 'Send Anyway') return;
    }
    this.pending.delete(p);
    p.resolve(new TextEncoder().encode(text));
    await this.discard(p.doc);
  }

  /** Closes the document without asking to save it. */
  private async discard(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed) return;
    await vscode.window.showTextDocument(doc, { preview: false });
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    this.updateKey();
  }

  private closed(match: (p: Pending) => boolean): void {
    for (const p of [...this.pending]) {
      if (!match(p)) continue;
      this.pending.delete(p);
      p.resolve(undefined);
    }
    this.updateKey();
  }

  private isOpen(uri: string): boolean {
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri));
  }

  private updateKey(): void {
    const active = vscode.window.activeTextEditor?.document;
    const on = active !== undefined && [...this.pending].some((p) => p.doc === active);
    void vscode.commands.executeCommand('setContext', ACTIVE_KEY, on);
  }

  dispose(): void {
    this.closed(() => true);
    for (const s of this.subscriptions) s.dispose();
  }
}
