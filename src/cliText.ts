// The CLI's only writers to stdout and stderr. Text goes through the terminal's escaper
// (`terminalText`), so what a plugin chose (its logs, WASI output, errors, names in the trace) can
// neither start an escape sequence (retitle the terminal, write the clipboard with OSC 52, clear
// the screen) nor overwrite a line; a plugin's output bytes stay unchanged in a pipe.
import { terminalText, visibleText } from './core';

/** Text to stderr; newlines stay. */
export function errText(text: string): void {
  process.stderr.write(terminalText(text));
}

/** Text to stdout; newlines stay. */
export function outText(text: string): void {
  process.stdout.write(terminalText(text));
}

/** One log entry to stderr, on one line (a newline in it is shown as `\n`). */
export function errLine(text: string): void {
  process.stderr.write(`${visibleText(text)}\n`);
}

/**
 * A plugin's output to stdout: the bytes unchanged in a pipe or a file; read as UTF-8 and escaped
 * on a terminal, where they would otherwise be the terminal's commands.
 */
export function outBytes(bytes: Uint8Array): Promise<void> {
  const chunk = process.stdout.isTTY ? terminalText(new TextDecoder().decode(bytes)) : bytes;
  return new Promise((resolve) => process.stdout.write(chunk, () => resolve()));
}
