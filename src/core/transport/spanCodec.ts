import type { Caller } from '../model/registry';
import { PREVIEW_BYTES, Span } from '../../shared/traceRecords';

/**
 * Ended spans packed into a few typed arrays and a string table, so that a batch of thousands of
 * nested calls crosses from the worker in one cheap message instead of thousands of cloned objects.
 */
export interface SpanBatch {
  count: number;
  numbers: Float64Array;
  heads: Uint8Array;
  strings: string[];
}

// Per span, in `numbers`: 16 slots.
const SLOTS = 16;
const CALLERS: Exclude<Caller, number>[] = ['command', 'cli', 'api'];

export class SpanEncoder {
  private numbers = new Float64Array(SLOTS * 256);
  private heads = new Uint8Array(64 * 256);
  private headBytes = 0;
  private count = 0;
  private strings: string[] = [];
  private stringIds = new Map<string, number>();

  get size(): number {
    return this.count;
  }

  /** The last string of each field and its id (-1: none since the last batch). */
  private readonly recent: string[] = ['', '', '', '', ''];
  private readonly recentIds: number[] = [-1, -1, -1, -1, -1];

  /**
   * Names repeat from span to span (a caller calling the same export): each field checks its own
   * last one first.
   */
  private intern(s: string, field: number): number {
    if (s === this.recent[field] && this.recentIds[field] >= 0) return this.recentIds[field];
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    this.recent[field] = s;
    this.recentIds[field] = id;
    return id;
  }

  /**
   * Copies the first PREVIEW_BYTES with one `set` (a byte loop over a view of plugin memory costs
   * several times more); only a longer head needs a view of its first bytes.
   */
  private head(bytes: Uint8Array): number {
    // `length`, not `byteLength`: the same for bytes, and V8 reads it several times faster
    const length = bytes.length;
    const n = length <= PREVIEW_BYTES ? length : PREVIEW_BYTES;
    if (this.headBytes + n > this.heads.length) {
      const grown = new Uint8Array(this.heads.length * 2);
      grown.set(this.heads.subarray(0, this.headBytes));
      this.heads = grown;
    }
    const at = this.headBytes;
    if (n <= 16) {
      const heads = this.heads;
      for (let i = 0; i < n; i++) heads[at + i] = bytes[i];
    } else this.heads.set(n === length ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, n), at);
    this.headBytes = at + n;
    return n;
  }

  add(s: Span): void {
    if ((this.count + 1) * SLOTS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    const n = this.numbers;
    const o = this.count++ * SLOTS;
    n[o] = s.id;
    n[o + 1] = s.parentId ?? -1;
    n[o + 2] = typeof s.caller === 'number' ? s.caller : -1 - CALLERS.indexOf(s.caller);
    n[o + 3] = this.intern(s.callerName, 0);
    n[o + 4] = s.calleeId;
    n[o + 5] = this.intern(s.calleeName, 1);
    n[o + 6] = this.intern(s.func, 2);
    n[o + 7] = s.inputBytes;
    n[o + 8] = s.outputBytes;
    n[o + 9] = this.head(s.inputHead);
    n[o + 10] = this.head(s.outputHead);
    n[o + 11] = s.depth;
    n[o + 12] = s.start;
    n[o + 13] = s.durationMs;
    n[o + 14] = s.status === 'ok' ? 0 : this.intern(s.error ?? '', 3) + 1;
    n[o + 15] = s.bound === undefined ? 0 : this.intern(s.bound, 4) + 1;
  }

  /** The batch so far (its buffers are handed over: transfer them), and a fresh start. */
  take(): SpanBatch {
    const batch: SpanBatch = {
      count: this.count,
      numbers: this.numbers.slice(0, this.count * SLOTS),
      heads: this.heads.slice(0, this.headBytes),
      strings: this.strings,
    };
    this.count = 0;
    this.headBytes = 0;
    this.strings = [];
    this.stringIds = new Map();
    this.recentIds.fill(-1);
    return batch;
  }
}

export function decodeSpans(batch: SpanBatch): Span[] {
  const spans: Span[] = new Array(batch.count);
  const n = batch.numbers;
  const str = batch.strings;
  let head = 0;
  for (let i = 0; i < batch.count; i++) {
    const o = i * SLOTS;
    const inLen = n[o + 9];
    const outLen = n[o + 10];
    const inputHead = batch.heads.subarray(head, head + inLen);
    const outputHead = batch.heads.subarray(head + inLen, head + inLen + outLen);
    head += inLen + outLen;
    const caller = n[o + 2];
    const status = n[o + 14];
    const span: Span = {
      kind: 'call',
      id: n[o],
      parentId: n[o + 1] < 0 ? null : n[o + 1],
      caller: caller >= 0 ? caller : CALLERS[-1 - caller],
      callerName: str[n[o + 3]],
      calleeId: n[o + 4],
      calleeName: str[n[o + 5]],
      func: str[n[o + 6]],
      inputBytes: n[o + 7],
      outputBytes: n[o + 8],
      inputHead,
      outputHead,
      depth: n[o + 11],
      start: n[o + 12],
      durationMs: n[o + 13],
      status: status === 0 ? 'ok' : 'error',
    };
    if (status !== 0) span.error = str[status - 1];
    if (n[o + 15] !== 0) span.bound = str[n[o + 15] - 1];
    spans[i] = span;
  }
  return spans;
}

/** The highest span id in a batch, without decoding it. */
export function lastSpanIdOf(batch: SpanBatch): number {
  let last = 0;
  for (let i = 0; i < batch.count; i++) last = Math.max(last, batch.numbers[i * SLOTS]);
  return last;
}
