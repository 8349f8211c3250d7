import * as vscode from 'vscode';
import { failureText, IpcError, visibleText } from '../core';
import type { LogEntry, LogLevel } from '../core';
import { showError } from './notify';

/**
 * The "Extism IPC" log channel: host events, plugin logs, and the detail behind every error toast.
 * Every entry is written by `write`, on one line, with controls shown as escapes (`visibleText`):
 * a plugin cannot end an entry and forge the next one.
 */
export class Log implements vscode.Disposable {
  private readonly output: vscode.LogOutputChannel;

  constructor() {
    this.output = vscode.window.createOutputChannel('Extism IPC', { log: true });
  }

  /** Shows the channel without taking the focus. */
  show(): void {
    this.output.show(true);
  }

  private write(level: LogLevel, text: string): void {
    const line = visibleText(text);
    switch (level) {
      case 'trace': this.output.trace(line); break;
      case 'debug': this.output.debug(line); break;
      case 'info': this.output.info(line); break;
      case 'warn': this.output.warn(line); break;
      case 'error': this.output.error(line); break;
    }
  }

  info(message: string): void {
    this.write('info', message);
  }

  warn(message: string): void {
    this.write('warn', message);
  }

  /** An error that has no exception behind it (a runtime that stopped). */
  errorLine(message: string): void {
    this.write('error', message);
  }

  /** What the runtime process wrote to its stderr (warnings, a fatal error before it died): an entry a line. */
  runtimeOutput(text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.write('warn', `[runtime] ${line}`);
  }

  /** A plugin's own `log_*` call. */
  plugin(entry: LogEntry): void {
    this.write(entry.level, `[#${entry.pluginId} ${entry.name}] ${entry.message}`);
  }

  /** Logs the error with its kind and stack (an entry a line); returns the one-line message. */
  error(context: string, error: unknown): string {
    const message = errorMessage(error);
    const kind = error instanceof Error ? error.name : 'Error';
    this.write('error', `${context}: ${kind}: ${message}`);
    // a failure inside plugins: its stack under it, a frame a line (the top frame is on the first)
    if (error instanceof IpcError && error.frames?.length) {
      for (const line of failureText(message, error.frames, error.notes).split('\n').slice(1)) this.write('error', line);
    }
    if (error instanceof Error && error.stack) for (const line of error.stack.split('\n')) this.write('debug', line);
    return message;
  }

  /**
   * A short toast naming plugin, function and reason, with the actions that fix it (if any) and
   * "Show Log" for the detail.
   */
  async toast(message: string, ...fixes: ToastAction[]): Promise<void> {
    const chars = [...message];
    const short = chars.length > 300 ? `${chars.slice(0, 297).join('')}…` : message;
    const choice = await showError(`Extism: ${short}`, ...fixes.map((f) => f.title), 'Show Log');
    if (choice === 'Show Log') this.show();
    else {
      try {
        await fixes.find((f) => f.title === choice)?.run();
      } catch (error) {
        this.error(choice ?? 'fix', error);
      }
    }
  }

  dispose(): void {
    this.output.dispose();
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
