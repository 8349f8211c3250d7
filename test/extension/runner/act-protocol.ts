// The workbench-action protocol between a test in the extension host and the runner in Chromium's
// driver (run-ext-tests.mjs, act.mjs). Types only: the test side imports them (workbench.ts); the
// runner is plain JavaScript and follows them.
//
// A request is one console line from the extension host:
//   __VSCT_ACT__ {"id":1,"reply":"/abs/reply.json","op":"clickTreeRow","label":"#1 run"}
// The runner performs the requests one at a time, in order, with Playwright on the workbench page,
// and writes an ActReply as JSON to `reply` (to `reply.tmp`, then renamed, so a reader never sees
// half a file). The test side polls for the file, reads it and removes it.

/** Text to find: a string is a case-sensitive substring; `{ regex, flags }` a regular expression. */
export type TextPattern = string | { regex: string; flags?: string };

/** An element: by CSS selector, or by ARIA role and accessible name; `within` scopes it to a CSS selector. */
export type Target = ({ css: string } | { role: string; name?: TextPattern; exact?: boolean }) & {
  within?: string;
  /** Which of several matches (0-based); without it, more than one match is an error. */
  nth?: number;
};

/** A notification, as shown in a toast or in the notification center. */
export interface NotificationState {
  message: string;
  /** From the notification's icon; 'unknown' when it shows none. */
  severity: 'error' | 'warning' | 'info' | 'unknown';
  /** The source line ("Extension: …") when shown. */
  source?: string;
  /** The titles of its buttons, in order. */
  buttons: string[];
  /** In the notification center (else a toast). */
  inCenter: boolean;
}

/** The open quick pick or input box. */
export interface QuickPickState {
  title?: string;
  placeholder?: string;
  /** What is typed in its box. */
  value: string;
  /** Its rendered rows (a long list renders only what is in view), separators left out. */
  items: QuickPickItemState[];
  /** The validation or prompt message under the box, if any. */
  message?: string;
}

export interface QuickPickItemState {
  label: string;
  description?: string;
  detail?: string;
  /** The row the keyboard is on (Enter accepts it). */
  focused: boolean;
}

/** A modal dialog (VS Code's own, rendered in the page). */
export interface DialogState {
  message: string;
  detail?: string;
  buttons: string[];
}

/** An element of a webview: its text (all of it, shown or not) and whether its box cuts it. */
export interface WebviewText {
  text: string;
  /** Its content is wider than its box: an ellipsis or the edge hides part of it. */
  cut: boolean;
}

/** Every operation: its parameters and its result. */
export interface ActMethods {
  /** Clicks an element (waits until it is visible and enabled). */
  click: { params: { target: Target }; result: null };
  /** Clicks the row of a tree whose label is exactly `label`, in the view named `view` if given. */
  clickTreeRow: { params: { label: string; view?: string }; result: null };
  /** Clicks the title-bar action of a view whose title (tooltip) starts with `action`. */
  clickViewTitleAction: { params: { view: string; action: string }; result: null };
  /** Clicks the button `button` of the notification whose message matches `message`. */
  clickNotificationButton: { params: { message: TextPattern; button: string }; result: null };
  /** Types text with the keyboard into whatever has focus (a quick pick's box, an editor). */
  type: { params: { text: string }; result: null };
  /** Presses a key or a chord, in Playwright's names: 'Enter', 'Escape', 'ArrowDown', 'Control+A'. */
  press: { params: { key: string }; result: null };
  /**
   * The visible notifications: the toasts, and the notification center's list when it is open
   * (under the smoke-test driver the workbench shows no toasts: open the center first).
   */
  notifications: { params: Record<string, never>; result: NotificationState[] };
  /** The open quick pick or input box; null when none is open. */
  quickPick: { params: Record<string, never>; result: QuickPickState | null };
  /** The open modal dialogs. */
  dialogs: { params: Record<string, never>; result: DialogState[] };
  /** The visible text (innerText) of each element matching a CSS selector. */
  texts: { params: { css: string }; result: string[] };
  /** The outer HTML of each element matching a CSS selector (to write a new selector against). */
  html: { params: { css: string }; result: string[] };
  /**
   * The shown elements matching a CSS selector inside the webviews (every frame but the
   * workbench's): each one's whole text, and whether it is cut (its text is wider than its box).
   */
  webviewTexts: { params: { css: string }; result: WebviewText[] };
}

export type ActOp = keyof ActMethods;

/** What the test logs after `__VSCT_ACT__ `. `timeoutMs` bounds the wait for an element (default 10 s). */
export type ActRequest = {
  [Op in ActOp]: { id: number; reply: string; op: Op; timeoutMs?: number } & ActMethods[Op]['params'];
}[ActOp];

/** What the runner writes to the request's `reply` file. */
export type ActReply<Op extends ActOp = ActOp> =
  | { id: number; ok: true; result: ActMethods[Op]['result'] }
  | { id: number; ok: false; error: string };
