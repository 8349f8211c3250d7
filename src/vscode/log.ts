import * as vscode from 'vscode';
import type { LogEntry } from '../core';

/** The "Extism IPC" log channel: host events, plugin logs, and the detail behind every error toast. */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Extism IPC', { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  /** What the runtime process wrote to its stderr (warnings, a fatal error before it died). */
  runtimeOutput(text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.channel.warn(`[runtime] ${line}`);
  }

  /** A plugin's own `log_*` call. */
  plugin(entry: LogEntry): void {
    const line = `[#${entry.pluginId} ${entry.name}] ${entry.message}`;
    switch (entry.level) {
      case 'trace': this.channel.trace(line); break;
      case 'debug': this.channel.debug(line); break;
      case 'info': this.channel.info(line); break;
      case 'warn': this.channel.warn(line); break;
      case 'error': this.channel.error(line); break;
    }
  }

  /** Logs the error with its kind and stack; returns the one-line message. */
  error(context: string, error: unknown): string {
    const message = errorMessage(error);
    const kind = error instanceof Error ? error.name : 'Error';
    this.channel.error(`${context}: ${kind}: ${message}`);
    if (error instanceof Error && error.stack) this.channel.debug(error.stack);
    return message;
  }

  /**
   * A short toast naming plugin, function and reason, with the actions that fix it (if any) and
   * "Show Log" for the detail.
   */
  async toast(message: string, ...fixes: ToastAction[]): Promise<void> {
    const short = message.length > 300 ? `${message.slice(0, 297)}…` : message;
    const choice = await vscode.window.showErrorMessage(`Extism: ${short}`, ...fixes.map((f) => f.title), 'Show Log');
    if (choice === 'Show Log') this.channel.show(true);
    else {
      try {
        await fixes.find((f) => f.title === choice)?.run();
      } catch (error) {
        this.error(choice ?? 'fix', error);
      }
    }
  }

  dispose(): void {
    this.channel.dispose();
  }
}

/** A button of an error toast that fixes what failed (Open Settings, Grant and Retry). */
export interface ToastAction {
  title: string;
  run(): unknown;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
