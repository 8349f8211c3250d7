import * as vscode from 'vscode';

/** Whether bytes read as text: valid UTF-8 without control characters other than whitespace. */
export function isText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000e-\u001f]/.test(text);
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

/** Opens a plugin's output in an untitled editor: as text (JSON highlighted) or as a hex dump. */
export async function showOutput(bytes: Uint8Array, viewColumn = vscode.ViewColumn.Active): Promise<vscode.TextEditor> {
  let content: string;
  let language: string;
  if (isText(bytes)) {
    content = new TextDecoder().decode(bytes);
    language = looksLikeJson(content) ? 'json' : 'plaintext';
  } else {
    content = hexDump(bytes);
    language = 'plaintext';
  }
  const doc = await vscode.workspace.openTextDocument({ content, language });
  return vscode.window.showTextDocument(doc, { preview: true, viewColumn });
}

function looksLikeJson(s: string): boolean {
  const t = s.trim();
  if (!/^[[{]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
