// Acting in the workbench as a person does, from a test in the extension host: click, type, press
// keys, read what is on screen. Each function logs one `__VSCT_ACT__` request; the runner in
// Chromium's driver (test/extension/runner/act.mjs) performs it and writes the reply to a file that
// this side waits for. The protocol: test/extension/runner/act-protocol.ts. Needs run.sh's runner.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ActMethods, ActOp, ActReply, DialogState, NotificationState, QuickPickState, Target, TextPattern, WebviewText } from '../runner/act-protocol';
import { REPO, sleep } from './helpers';

export type { DialogState, NotificationState, QuickPickState, Target, TextPattern, WebviewText };

let nextId = 1;
const replyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsct-act-'));

/** True when the runner that performs the requests is there (run.sh's; not @vscode/test-electron). */
export function canAct(): boolean {
  return process.env.VSCODE_TEST_SHOTS === '1';
}

/**
 * Sends one request and waits for its reply; rejects with the runner's error. `timeoutMs` bounds
 * the runner's wait for the element; this side waits that long plus the round trip.
 */
export async function act<Op extends ActOp>(op: Op, params: ActMethods[Op]['params'], timeoutMs = 10_000): Promise<ActMethods[Op]['result']> {
  if (!canAct()) throw new Error(`workbench action "${op}": needs test/extension/runner/run.sh (its runner performs the actions)`);
  const id = nextId++;
  const reply = path.join(replyDir, `${id}.json`);
  console.log(`__VSCT_ACT__ ${JSON.stringify({ id, reply, op, timeoutMs, ...params })}`);
  const deadline = Date.now() + timeoutMs + 15_000;
  while (!fs.existsSync(reply)) {
    if (Date.now() > deadline) throw new Error(`workbench action "${op}" (#${id}): no reply after ${timeoutMs + 15_000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const answer = JSON.parse(fs.readFileSync(reply, 'utf8')) as ActReply<Op>;
  fs.rmSync(reply, { force: true });
  if (!answer.ok) throw new Error(`workbench action "${op}": ${answer.error}`);
  return answer.result;
}

/** A regular expression as the protocol carries it. */
export function re(r: RegExp): TextPattern {
  return { regex: r.source, flags: r.flags };
}

export const click = (target: Target) => act('click', { target });
/** Clicks the tree row labelled exactly `label` (e.g. `#1 run`), in the view `view` if given. */
export const clickTreeRow = (label: string, view?: string) => act('clickTreeRow', { label, ...(view ? { view } : {}) });
/** Clicks a view's title-bar action by its title, e.g. ('Live Plugins', 'Register Plugin…'). */
export const clickViewTitleAction = (view: string, action: string) => act('clickViewTitleAction', { view, action });
/**
 * Clicks the button `button` of the notification whose message matches. With the smoke-test driver
 * on (run.sh needs it for the console channel) the workbench shows no toasts: every notification
 * is in the notification center, which this opens first and closes after.
 */
export async function clickNotificationButton(message: string | RegExp, button: string): Promise<void> {
  await vscode.commands.executeCommand('notifications.showList');
  try {
    await act('clickNotificationButton', { message: typeof message === 'string' ? message : re(message), button });
  } finally {
    await vscode.commands.executeCommand('notifications.hideList');
  }
}
/** Types into whatever has focus (the quick pick's box when one is open). */
export const typeText = (text: string) => act('type', { text });
/** The quick pick has focus when it opens: typing filters it. */
export const typeInQuickPick = typeText;
/** Presses a key or chord in Playwright's names: 'Enter', 'Escape', 'ArrowDown', 'Control+A'. */
export const pressKey = (key: string) => act('press', { key });
/**
 * The notifications not yet closed, as the notification center lists them (the workbench shows no
 * toasts under the smoke-test driver); opens the center to read it and closes it again, which also
 * closes an open quick pick.
 */
export async function notifications(): Promise<NotificationState[]> {
  await vscode.commands.executeCommand('notifications.showList');
  try {
    return await act('notifications', {});
  } finally {
    await vscode.commands.executeCommand('notifications.hideList');
  }
}
export const quickPick = (): Promise<QuickPickState | null> => act('quickPick', {});
export const quickPickItems = async () => (await quickPick())?.items ?? [];
export const dialogs = (): Promise<DialogState[]> => act('dialogs', {});
export const texts = (css: string) => act('texts', { css });
export const html = (css: string) => act('html', { css });
/** The shown elements matching `css` inside the webviews: their text and whether their box cuts it. */
export const webviewTexts = (css: string) => act('webviewTexts', { css });

/** Polls a reading of the workbench until `pred` holds; returns the last reading. */
export async function waitForScreen<T>(what: string, read: () => Promise<T>, pred: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const value = await read();
    if (pred(value)) return value;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Closes every notification (toasts and the center): a clean screen for the next check. */
export async function clearNotifications(): Promise<void> {
  await vscode.commands.executeCommand('notifications.clearAll');
}

// ---- what a person does in several steps ----

/** Waits for the quick pick titled `title` (a new picker replaces the last one). */
export async function pickerTitled(title: string): Promise<QuickPickState> {
  const q = await waitForScreen(`the quick pick "${title}"`, quickPick, (p) => p?.title === title);
  assert.ok(q);
  return q;
}

/** Picks the item labelled `label` in the open quick pick: types `typed` (the label itself by default), waits until the item is first and focused, presses Enter. */
export async function pickItem(label: string, typed = label): Promise<void> {
  await typeInQuickPick(typed);
  await waitForScreen(`"${label}" first`, quickPick, (q) => !!q?.items[0]?.focused && q.items[0].label === label);
  await pressKey('Enter');
}

/** Runs a command from the palette as a person does: F1, type its title, Enter on the first match. */
export async function palette(title: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.showCommands');
  await waitForScreen('the command palette', quickPick, (q) => q !== null && q.value.startsWith('>'));
  await pickItem(title);
}

/**
 * Waits for the notification whose message matches and returns it; another extension's may be on
 * screen too (TypeScript's "Fetching data for better TypeScript IntelliSense" once a module opened).
 */
export async function notificationMatching(message: RegExp): Promise<NotificationState> {
  const shown = await waitForScreen(`a notification matching ${message}`, notifications, (n) => n.some((x) => message.test(x.message)));
  return shown.find((x) => message.test(x.message))!;
}

/** What is on screen a second after the last change, so that a late second message would show: dialogs, notifications. */
export async function settled(): Promise<{ notes: NotificationState[]; dialogs: DialogState[] }> {
  await sleep(1000);
  return { dialogs: await dialogs(), notes: await notifications() };
}

/** A screenshot of the notification center, as test/screenshots/<name> (gitignored). */
export async function shootNotifications(name: string): Promise<void> {
  const shots = path.join(REPO, 'test', 'screenshots');
  fs.mkdirSync(shots, { recursive: true });
  const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
  await vscode.commands.executeCommand('notifications.showList');
  await sleep(300);
  await shot(path.join(shots, name));
  await vscode.commands.executeCommand('notifications.hideList');
}
