// Snapshots of call outputs: `<name>.extism-calls.snap.json` beside a call file, keyed by call
// (a group's calls after the group's name), text as text and other bytes as base64.
import { jsonDeeperThan } from './jsonDepth';

/** `check`: compare, write what is missing; `update`: write what differs too; `ci`: compare, a missing one fails. */
export type SnapshotMode = 'check' | 'update' | 'ci';

/** A stored output: text, or bytes that are not text. */
export type Snapshot = { output: string } | { base64: string };

/** The snapshot file of a call file: `x.extism-calls.json` -> `x.extism-calls.snap.json`. */
export function snapshotFileOf(callFile: string): string {
  return callFile.replace(/(\.json)?$/i, '.snap.json');
}

/** The bytes as a snapshot: text when they are UTF-8 with no controls but tab and line ends, else base64. */
export function snapshotOf(bytes: Uint8Array): Snapshot {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const clean = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text);
  return clean ? { output: text } : { base64: Buffer.from(bytes).toString('base64') };
}

/** The bytes a snapshot stands for. */
export function snapshotBytes(s: Snapshot): Uint8Array {
  return 'output' in s ? Buffer.from(s.output, 'utf8') : Buffer.from(s.base64, 'base64');
}

/** A snapshot file's text read as snapshots by key (a Map: keys are names from the file); throws a message when it is not one. */
export function parseSnapshots(text: string): Map<string, Snapshot> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || jsonDeeperThan(raw, 3)) throw new Error('must be an object of snapshots by call name');
  const found = new Map<string, Snapshot>();
  for (const [key, value] of Object.entries(raw)) {
    const v = value as Record<string, unknown> | null;
    if (v && typeof v.output === 'string' && Object.keys(v).length === 1) found.set(key, { output: v.output });
    else if (v && typeof v.base64 === 'string' && Object.keys(v).length === 1) found.set(key, { base64: v.base64 });
    else throw new Error(`"${key}" must be {"output": text} or {"base64": bytes}`);
  }
  return found;
}

/** Snapshots as the file's text: keys sorted, one per line, so a change shows as a small diff. */
export function formatSnapshots(snapshots: ReadonlyMap<string, Snapshot>): string {
  const keys = [...snapshots.keys()].sort();
  const body = keys.map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(snapshots.get(k))}`).join(',\n');
  return keys.length ? `{\n${body}\n}\n` : '{}\n';
}

/** The most lines of each side a line diff compares with its table; beyond, the first differing line is shown. */
const MAX_DIFF_LINES = 2000;

/**
 * A line diff of two texts, unified style: `  ` same, `- ` expected only, `+ ` actual only; lines
 * in common more than 3 lines from a change are left out (`…`). Beyond MAX_DIFF_LINES lines, the first line that
 * differs, with its number.
 */
export function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return `line ${i + 1} differs:\n- ${a[i] ?? '(no line)'}\n+ ${b[i] ?? '(no line)'}`;
  }
  // longest common subsequence table, from the ends
  const n = a.length;
  const m = b.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const lines: { mark: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      lines.push({ mark: ' ', text: a[i++] });
      j++;
    } else if (j < m && (i >= n || lcs[i * (m + 1) + j + 1] > lcs[(i + 1) * (m + 1) + j])) lines.push({ mark: '+', text: b[j++] });
    else lines.push({ mark: '-', text: a[i++] });
  }
  const near = (k: number) => lines.slice(Math.max(0, k - 3), k + 4).some((l) => l.mark !== ' ');
  const out: string[] = [];
  let skipped = false;
  lines.forEach((l, k) => {
    if (near(k)) {
      out.push(`${l.mark} ${l.text}`);
      skipped = false;
    } else if (!skipped) {
      out.push('…');
      skipped = true;
    }
  });
  return out.join('\n');
}

/** Where two byte strings first differ: `byte 3: expected 0x41, got 0x42` (or where one ends). */
export function firstByteDiff(expected: Uint8Array, actual: Uint8Array): string {
  const n = Math.min(expected.length, actual.length);
  let i = 0;
  while (i < n && expected[i] === actual[i]) i++;
  const hex = (x: number | undefined) => (x === undefined ? 'the end' : `0x${x.toString(16).padStart(2, '0')}`);
  return `byte ${i} differs: expected ${hex(expected[i])}, got ${hex(actual[i])} (${expected.length} bytes expected, ${actual.length} came)`;
}
