import * as vscode from 'vscode';
import { notificationText, visibleText } from '../core';

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

/** Buttons as VS Code shows them (a label may hold a plugin's name), and the label each stands for. */
async function choose<T extends string>(show: (text: string, ...items: string[]) => Thenable<string | undefined>, message: string, items: T[]): Promise<T | undefined> {
  const shownAs = new Map(items.map((item) => [visibleText(item), item] as const));
  const choice = await show(text(message), ...shownAs.keys());
  return choice === undefined ? undefined : shownAs.get(choice);
}

/**
 * The only callers of `window.show*Message` and of notification progress: every notification's
 * text goes through `notificationText`, and every button's through `visibleText`, whatever they hold.
 */
export function showError<T extends string>(message: string, ...items: T[]): Promise<T | undefined> {
  return choose((m, ...i) => vscode.window.showErrorMessage(m, ...i), message, items);
}

export function showWarning<T extends string>(message: string, ...items: T[]): Promise<T | undefined> {
  return choose((m, ...i) => vscode.window.showWarningMessage(m, ...i), message, items);
}

export function showInformation<T extends string>(message: string, ...items: T[]): Promise<T | undefined> {
  return choose((m, ...i) => vscode.window.showInformationMessage(m, ...i), message, items);
}

/**
 * A modal warning that asks before something a person cannot undo: resolves true only if they
 * chose `action` (Cancel, Escape or closing it answer no).
 */
export async function confirmModal(message: string, detail: string, action: string): Promise<boolean> {
  const label = visibleText(action);
  const choice = await vscode.window.showWarningMessage(text(message), { modal: true, detail: text(detail) }, label);
  return choice === label;
}

/** A cancellable progress notification titled `title`. */
export function withNotificationProgress<R>(title: string, task: (token: vscode.CancellationToken) => Thenable<R>): Thenable<R> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: text(title), cancellable: true }, (_progress, token) => task(token));
}
