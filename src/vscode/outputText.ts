// How a plugin's bytes read in an editor or the call detail: text as it is, JSON pretty-printed, other
// bytes as a hex dump, nothing said in words; cut for display with a note. No `vscode` here.
import { formatBytes } from '../core';

/** Bytes shown as text, at most. */
export const TEXT_DISPLAY_BYTES = 1024 * 1024;
/** Bytes shown as a hex dump, at most: each byte becomes some five characters of text. */
export const HEX_DISPLAY_BYTES = 64 * 1024;

export interface RenderedBytes {
  kind: 'empty' | 'text' | 'json' | 'hex';
  /** The rendering, with a first line saying what was cut when something was. */
  text: string;
  language: 'json' | 'plaintext';
}

export interface RenderLimits {
  textBytes: number;
  hexBytes: number;
}

/**
 * Renders bytes for reading. `total` is the size of the whole when `bytes` is only its head (what the
 * runtime kept); `what` names them in notes ("output", "input").
 */
export function renderBytes(
  bytes: Uint8Array,
  what: string,
  total = bytes.length,
  limits: RenderLimits = { textBytes: TEXT_DISPLAY_BYTES, hexBytes: HEX_DISPLAY_BYTES },
): RenderedBytes {
  if (total === 0) return { kind: 'empty', text: `(empty ${what}: 0 bytes)`, language: 'plaintext' };
  const textHead = bytes.length > limits.textBytes ? bytes.subarray(0, limits.textBytes) : bytes;
  const text = decodeText(textHead, textHead.length < total);
  if (text !== undefined) {
    const cut = textHead.length < total;
    if (!cut) {
      const json = prettyJson(text);
      if (json !== undefined) return { kind: 'json', text: json, language: 'json' };
    }
    return { kind: 'text', text: cut ? `${cutNote(what, total, textHead.length)}\n${text}` : text, language: 'plaintext' };
  }
  const hexHead = bytes.length > limits.hexBytes ? bytes.subarray(0, limits.hexBytes) : bytes;
  const dump = hexDump(hexHead);
  return { kind: 'hex', text: hexHead.length < total ? `${cutNote(what, total, hexHead.length)}\n${dump}` : dump, language: 'plaintext' };
}

function cutNote(what: string, total: number, shown: number): string {
  return `(cut for display: the ${what} is ${formatBytes(total)}; the first ${formatBytes(shown)} are shown)`;
}

/**
 * The bytes as text when they are valid UTF-8 without control characters other than whitespace;
 * a head cut inside a character still reads (the partial character is dropped).
 */
export function decodeText(bytes: Uint8Array, cut = false): string | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let drop = 0; drop <= (cut ? 3 : 0) && drop <= bytes.length; drop++) {
    let text: string;
    try {
      text = decoder.decode(drop ? bytes.subarray(0, bytes.length - drop) : bytes);
    } catch {
      continue;
    }
    return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  }
  return undefined;
}

/** Whether bytes read as text: valid UTF-8 without control characters other than whitespace. */
export function isText(bytes: Uint8Array): boolean {
  return decodeText(bytes) !== undefined;
}

/** A classic hex dump: offset, 16 bytes in hex, the printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** A JSON object or array pretty-printed; undefined for anything else. */
function prettyJson(s: string): string | undefined {
  const t = s.trim();
  if (!/^[[{]/.test(t)) return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}
