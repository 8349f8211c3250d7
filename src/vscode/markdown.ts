import * as vscode from 'vscode';
import { markdownCode, markdownText } from '../core';

/** Markdown this extension wrote, with what a plugin chose inside it escaped. */
export class Markdown {
  constructor(readonly value: string) {}
}

/**
 * Markdown from a template: the literal parts are ours; every value is text, escaped with
 * `markdownText`, unless it is already `Markdown` (from `md` or `code`).
 */
export function md(parts: TemplateStringsArray, ...values: (string | number | Markdown)[]): Markdown {
  let out = parts[0];
  values.forEach((v, i) => {
    out += (v instanceof Markdown ? v.value : markdownText(String(v))) + parts[i + 1];
  });
  return new Markdown(out);
}

/** Text as a code span that no backtick in it can close. */
export function code(text: string): Markdown {
  return new Markdown(markdownCode(text));
}

/** Markdown items joined with a separator of ours. */
export function joinMarkdown(items: readonly Markdown[], separator: string): Markdown {
  return new Markdown(items.map((m) => m.value).join(separator));
}

/**
 * The only way this extension makes a `MarkdownString` (tooltips): paragraphs of `Markdown`, not
 * trusted (no `command:` links), no HTML, no `$(icon)` syntax.
 */
export function markdownString(...paragraphs: Markdown[]): vscode.MarkdownString {
  const result = new vscode.MarkdownString(paragraphs.map((p) => p.value).join('\n\n'));
  result.isTrusted = false;
  result.supportHtml = false;
  result.supportThemeIcons = false;
  return result;
}
