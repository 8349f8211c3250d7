import * as vscode from 'vscode';
import { notificationText } from '../core';

/** Notifications shown, as VS Code got their text; kept only while the extension's own tests run. */
let shown: string[] | undefined;

/** Starts keeping the text of every notification (for the extension's own tests); returns the list. */
export function recordNotifications(): readonly string[] {
  shown ??= [];
  return shown;
}

/** The message as a notification gets it: one line, no `[label](link)`, controls shown as escapes. */
function text(message: string): string {
  const escaped = notificationText(message);
  shown?.push(escaped);
  return escaped;
}

/**
 * The only callers of `window.show*Message` and of notification progress: every notification's
 * text goes through `notificationText`, whatever it holds. Items are this extension's own labels.
 */
export function showError<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showErrorMessage(text(message), ...items);
}

export function showWarning<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(text(message), ...items);
}

export function showInformation<T extends string>(message: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(text(message), ...items);
}

/** A cancellable progress notification titled `title`. */
export function withNotificationProgress<R>(title: string, task: (token: vscode.CancellationToken) => Thenable<R>): Thenable<R> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: text(title), cancellable: true }, (_progress, token) => task(token));
}
