import * as vscode from 'vscode';

/**
 * The messages between a webview and the extension, kept only when the extension host runs tests
 * (ExtensionMode.Test): the test runner alone switches it on. `To` goes to the webview, `From`
 * comes from it; the last `kept` of each are kept, newest last.
 */
export class WebviewMessageLog<To, From> implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<From>();
  /** Every message from the webview (tests wait on `ready` and `rendered`). */
  readonly onDidReceiveMessage = this.emitter.event;
  /** The last messages posted to the webview, newest last. */
  readonly posted: To[] = [];
  /** The last messages received from the webview, newest last. */
  readonly received: From[] = [];

  constructor(private readonly kept: number) {}

  sent(message: To): void {
    this.keep(this.posted, message);
  }

  /** A message as the webview sent it: kept when it has the shape of a message (an object with a `type`). */
  got(message: unknown): void {
    if (typeof message !== 'object' || message === null || !('type' in message)) return;
    this.keep(this.received, message as From);
    this.emitter.fire(message as From);
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > this.kept) list.splice(0, list.length - this.kept);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
