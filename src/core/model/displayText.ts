// Text a plugin chose (names, messages, logs, outputs) on its way to a person: one escaper per
// sink. Every escaper first makes invisible and control characters visible, the same way for all
// sinks, then breaks the syntax its sink would act on. Only the Markdown escaper escapes backslashes;
// the others are idempotent, so text already made visible (the trace tree) passes through unchanged.

/**
 * What is shown as an escape instead of itself: C0 controls, DEL, C1 controls (0x9b is a CSI),
 * format characters (bidi embeddings, overrides and isolates, zero-width characters, the BOM, tag
 * characters), line and paragraph separators, unpaired surrogates, and the Hangul fillers that
 * render as blanks. Tab is kept; a newline is kept only where the sink has lines.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0) ?? 0;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16).padStart(4, '0')}}`;
}

/**
 * The text with every control and invisible character shown as an escape: `\x1b`, `\x9b`,
 * `\u{202e}`, `\u{d800}` (an unpaired surrogate); `\n` and `\r` by name. Tab stays. With `lines`,
 * newlines stay too (a terminal, a test message); without, the text stays on one line (a log
 * entry, a label, a notification).
 */
export function visibleText(text: string, lines = false): string {
  return text.replace(INVISIBLE, (c) => (c === '\t' || (lines && c === '\n') ? c : escapeChar(c)));
}

/**
 * Plain text for a terminal (the CLI's stdout and stderr, the Test Explorer's output): no byte
 * that starts an escape sequence (ESC, CSI 0x9b, OSC...), no BEL, no carriage return that would
 * overwrite a line; newlines and tabs stay.
 */
export function terminalText(text: string): string {
  return visibleText(text, true);
}

/**
 * Text for Markdown (tooltips, hovers), on one line: every ASCII punctuation character is
 * backslash-escaped, which CommonMark allows for all of them, so no emphasis, code span, link,
 * image, autolink, HTML, entity or heading can start in it; `$(icon)` cannot form either.
 */
export function markdownText(text: string): string {
  return visibleText(text).replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/**
 * Text as a Markdown code span, on one line: nothing in a code span is Markdown (no link, image,
 * HTML, entity or escape), and its fence is one backtick longer than the longest run of backticks
 * in the text, so the text cannot close it. A space pads the text where CommonMark would otherwise
 * take a backtick at its edge for the fence, or strip a space from each end. Empty text is nothing.
 */
export function markdownCode(text: string): string {
  const shown = visibleText(text);
  if (!shown) return '';
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^`|`$/.test(shown) || (/^ .*[^ ].* $/.test(shown)) ? ' ' : '';
  return `${fence}${pad}${shown}${pad}${fence}`;
}

/**
 * Text for a notification (an error, warning or information message, a progress title), on one
 * line. VS Code turns `[label](https://...)`, `[label](command:...)` and `[label](file:...)` in a
 * notification into a link and knows no escape for it, so every `](` is shown as `]\(`: no link
 * can form, and the reader sees where the text had one.
 */
export function notificationText(text: string): string {
  return visibleText(text).replace(/\]\(/g, ']\\(');
}

/**
 * Text for a label that renders `$(name)` as an icon (quick pick items), on one line: `$(` is
 * written `\$(`, VS Code's own escape there, which it shows as `$(`.
 */
export function iconLabelText(text: string): string {
  return visibleText(text).replace(/(?<!\\)\$\(/g, '\\$(');
}
