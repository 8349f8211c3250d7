import type { Caller } from '../model/registry';
import { PREVIEW_BYTES, Span } from '../../shared/traceRecords';

/**
 * Ended spans packed into a few typed arrays and a string table, so that a batch of thousands of
 * nested calls crosses from the runtime in one cheap message instead of thousands of cloned objects.
 *
 * Each span is written as what differs from the span before it in the batch: a mask of the fields
 * that changed, their values, then its start and duration. A burst of nested calls repeats all but
 * its times (the next id, the same caller, callee, sizes and heads), so such a span takes 24 bytes
 * instead of 160: across a child process, whose pipe costs some 3 ns a byte, that is most of what
 * tracing a nested call costs.
 */
export interface SpanBatch {
  count: number;
  numbers: Float64Array;
  heads: Uint8Array;
  strings: string[];
  /** The highest span id in the batch (0 when empty). */
  lastId: number;
}

// The fields, in the order they are written; a set bit in a span's mask means "written".
const ID = 0; // when not written: the id before, plus one
const PARENT = 1;
const CALLER = 2;
const CALLER_NAME = 3;
const CALLEE_ID = 4;
const CALLEE_NAME = 5;
const FUNC = 6;
const INPUT_BYTES = 7;
const OUTPUT_BYTES = 8;
const INPUT_HEAD = 9; // its length; its bytes follow the last head in `heads`
const OUTPUT_HEAD = 10;
const DEPTH = 11;
const STATUS = 12; // 0 for ok, else 1 + the error's string
const BOUND = 13; // 0 for none, else 1 + the import's string
const FIELDS = 14;
/** The most slots one span takes: its mask, every field, start and duration. */
const MAX_SLOTS = 1 + FIELDS + 2;
const CALLERS: Exclude<Caller, number>[] = ['command', 'cli', 'api'];

export class SpanEncoder {
  private numbers = new Float64Array(MAX_SLOTS * 256);
  private used = 0;
  private heads = new Uint8Array(64 * 256);
  private headBytes = 0;
  private count = 0;
  private lastId = 0;
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  /** The values of the span before, as written. */
  private readonly prev = new Float64Array(FIELDS);
  /** Where the last input and output heads written lie in `heads`. */
  private prevInput = 0;
  private prevInputLength = 0;
  private prevOutput = 0;
  private prevOutputLength = 0;
  // the span being written
  private mask = 0;
  private at = 0;

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

  /** Writes a field when it differs from the span before (always for a batch's first span). */
  private field(field: number, value: number): void {
    if (this.count !== 0 && value === this.prev[field]) return;
    this.prev[field] = value;
    this.mask |= 1 << field;
    this.numbers[this.at++] = value;
  }

  /**
   * Writes the first PREVIEW_BYTES of a head unless they are the last head's of the same field;
   * returns where they lie in `heads`. (`length`, not `byteLength`: the same for bytes, and V8
   * reads it several times faster.)
   */
  private head(field: number, bytes: Uint8Array, prevAt: number, prevLength: number): number {
    const length = bytes.length;
    const n = length <= PREVIEW_BYTES ? length : PREVIEW_BYTES;
    const heads = this.heads;
    if (this.count !== 0 && n === prevLength) {
      let i = 0;
      while (i < n && bytes[i] === heads[prevAt + i]) i++;
      if (i === n) return prevAt;
    }
    if (this.headBytes + n > heads.length) {
      const grown = new Uint8Array(heads.length * 2);
      grown.set(heads.subarray(0, this.headBytes));
      this.heads = grown;
    }
    const at = this.headBytes;
    if (n <= 16) {
      const to = this.heads;
      for (let i = 0; i < n; i++) to[at + i] = bytes[i];
    } else this.heads.set(n === length ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, n), at);
    this.headBytes = at + n;
    this.mask |= 1 << field;
    this.numbers[this.at++] = n;
    return at;
  }

  add(s: Span): void {
    if (this.used + MAX_SLOTS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers.subarray(0, this.used));
      this.numbers = grown;
    }
    const maskAt = this.used;
    this.at = maskAt + 1;
    this.mask = 0;
    const id = s.id;
    if (this.count === 0 || id !== this.prev[ID] + 1) {
      this.mask = 1 << ID;
      this.numbers[this.at++] = id;
    }
    this.prev[ID] = id;
    if (id > this.lastId) this.lastId = id;
    this.field(PARENT, s.parentId ?? -1);
    this.field(CALLER, typeof s.caller === 'number' ? s.caller : -1 - CALLERS.indexOf(s.caller));
    this.field(CALLER_NAME, this.intern(s.callerName, 0));
    this.field(CALLEE_ID, s.calleeId);
    this.field(CALLEE_NAME, this.intern(s.calleeName, 1));
    this.field(FUNC, this.intern(s.func, 2));
    this.field(INPUT_BYTES, s.inputBytes);
    this.field(OUTPUT_BYTES, s.outputBytes);
    this.prevInput = this.head(INPUT_HEAD, s.inputHead, this.prevInput, this.prevInputLength);
    this.prevInputLength = Math.min(s.inputHead.length, PREVIEW_BYTES);
    this.prevOutput = this.head(OUTPUT_HEAD, s.outputHead, this.prevOutput, this.prevOutputLength);
    this.prevOutputLength = Math.min(s.outputHead.length, PREVIEW_BYTES);
    this.field(DEPTH, s.depth);
    this.field(STATUS, s.status === 'ok' ? 0 : this.intern(s.error ?? '', 3) + 1);
    this.field(BOUND, s.bound === undefined ? 0 : this.intern(s.bound, 4) + 1);
    const n = this.numbers;
    n[this.at++] = s.start;
    n[this.at++] = s.durationMs;
    n[maskAt] = this.mask;
    this.used = this.at;
    this.count++;
  }

  /** The batch so far (its buffers are handed over: transfer them), and a fresh start. */
  take(): SpanBatch {
    const batch: SpanBatch = {
      count: this.count,
      numbers: this.numbers.slice(0, this.used),
      heads: this.heads.slice(0, this.headBytes),
      strings: this.strings,
      lastId: this.lastId,
    };
    this.count = 0;
    this.used = 0;
    this.headBytes = 0;
    this.lastId = 0;
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
  const v = new Float64Array(FIELDS);
  let o = 0;
  let heads = 0;
  let input = 0;
  let output = 0;
  for (let i = 0; i < batch.count; i++) {
    const mask = n[o++];
    v[ID] = mask & (1 << ID) ? n[o++] : v[ID] + 1;
    for (let f = PARENT; f < FIELDS; f++) {
      if (!(mask & (1 << f))) continue;
      v[f] = n[o++];
      if (f === INPUT_HEAD) {
        input = heads;
        heads += v[f];
      } else if (f === OUTPUT_HEAD) {
        output = heads;
        heads += v[f];
      }
    }
    const caller = v[CALLER];
    const status = v[STATUS];
    const span: Span = {
      kind: 'call',
      id: v[ID],
      parentId: v[PARENT] < 0 ? null : v[PARENT],
      caller: caller >= 0 ? caller : CALLERS[-1 - caller],
      callerName: str[v[CALLER_NAME]],
      calleeId: v[CALLEE_ID],
      calleeName: str[v[CALLEE_NAME]],
      func: str[v[FUNC]],
      inputBytes: v[INPUT_BYTES],
      outputBytes: v[OUTPUT_BYTES],
      inputHead: batch.heads.subarray(input, input + v[INPUT_HEAD]),
      outputHead: batch.heads.subarray(output, output + v[OUTPUT_HEAD]),
      depth: v[DEPTH],
      start: n[o++],
      durationMs: n[o++],
      status: status === 0 ? 'ok' : 'error',
    };
    if (status !== 0) span.error = str[status - 1];
    if (v[BOUND] !== 0) span.bound = str[v[BOUND] - 1];
    spans[i] = span;
  }
  return spans;
}

/** The highest span id in a batch, without decoding it. */
export function lastSpanIdOf(batch: SpanBatch): number {
  return batch.lastId;
}
