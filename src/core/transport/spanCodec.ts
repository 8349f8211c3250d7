import { Caller, cutName, MAX_NAME_CHARS } from '../model/registry';
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
/** The most UTF-16 code units of a span's error that cross (a plugin's own error text is cut at 64 KiB already). */
export const MAX_ERROR_CHARS = 64 * 1024;

/**
 * A span as it may cross: the names in it (its function, a plugin's, an import's) cut at
 * MAX_NAME_CHARS and its error at MAX_ERROR_CHARS, with a note, as the encoder cuts them.
 */
export function boundSpan(s: Span): Span {
  const b: Span = { ...s, callerName: cutName(s.callerName), calleeName: cutName(s.calleeName), func: cutName(s.func) };
  if (s.error !== undefined) b.error = cutName(s.error, MAX_ERROR_CHARS);
  if (s.bound !== undefined) b.bound = cutName(s.bound);
  if (s.host !== undefined) b.host = cutName(s.host);
  return b;
}

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
const BOUND = 13; // 0 for none, 1 + a bound import's string, -1 - a user host function's
const FUEL = 14; // -1 when fuel is not counted
const FUEL_TOTAL = 15;
const FIELDS = 16;
/** The most slots one span takes: its mask, every field, start and duration. */
const MAX_SLOTS = 1 + FIELDS + 2;
const CALLERS: Exclude<Caller, number>[] = ['command', 'cli', 'api', 'callFile'];

export class SpanEncoder {
  private numbers = new Float64Array(MAX_SLOTS * 256);
  private used = 0;
  private heads = new Uint8Array(64 * 256);
  private headBytes = 0;
  private count = 0;
  private lastId = 0;
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  // the span before, as given (a field is compared before anything is interned or copied)
  private prevId = 0;
  private prevParent = 0;
  private prevCaller: Caller = 0;
  private prevCallerName = '';
  private prevCalleeId = 0;
  private prevCalleeName = '';
  private prevFunc = '';
  private prevInputBytes = 0;
  private prevOutputBytes = 0;
  private prevDepth = 0;
  private prevError: string | null = null;
  private prevBound: string | null = null;
  private prevHost = false;
  private prevFuel = -1;
  private prevFuelTotal = -1;
  /** Where the last input and output heads written lie in `heads`, and their lengths. */
  private prevInput = 0;
  private prevInputLength = 0;
  private prevOutput = 0;
  private prevOutputLength = 0;

  get size(): number {
    return this.count;
  }

  /** The id of a string in the batch's table; a string longer than `max` goes in cut, with a note. */
  private intern(s: string, max = MAX_NAME_CHARS): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s.length > max ? cutName(s, max) : s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /**
   * Whether the first PREVIEW_BYTES of `bytes` are the `length` bytes at `at` in `heads`. (`length`,
   * not `byteLength`, on views: the same for bytes, and V8 reads it several times faster.)
   */
  private sameHead(bytes: Uint8Array, n: number, at: number, length: number): boolean {
    if (n !== length) return false;
    const heads = this.heads;
    let i = 0;
    while (i < n && bytes[i] === heads[at + i]) i++;
    return i === n;
  }

  /** Appends the first `n` bytes of a head to `heads`; returns where they start. */
  private appendHead(bytes: Uint8Array, n: number): number {
    if (this.headBytes + n > this.heads.length) {
      const grown = new Uint8Array(this.heads.length * 2);
      grown.set(this.heads.subarray(0, this.headBytes));
      this.heads = grown;
    }
    const at = this.headBytes;
    if (n <= 16) {
      const to = this.heads;
      for (let i = 0; i < n; i++) to[at + i] = bytes[i];
    } else this.heads.set(n === bytes.length ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, n), at);
    this.headBytes = at + n;
    return at;
  }

  add(s: Span): void {
    if (this.used + MAX_SLOTS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers.subarray(0, this.used));
      this.numbers = grown;
    }
    const v = this.numbers;
    const maskAt = this.used;
    let at = maskAt + 1;
    let mask = 0;
    // a batch's first span is written whole
    const all = this.count === 0;
    const id = s.id;
    if (all || id !== this.prevId + 1) {
      mask |= 1 << ID;
      v[at++] = id;
    }
    this.prevId = id;
    if (id > this.lastId) this.lastId = id;
    const parent = s.parentId ?? -1;
    if (all || parent !== this.prevParent) {
      mask |= 1 << PARENT;
      v[at++] = this.prevParent = parent;
    }
    const caller = s.caller;
    if (all || caller !== this.prevCaller) {
      mask |= 1 << CALLER;
      v[at++] = typeof caller === 'number' ? caller : -1 - CALLERS.indexOf(caller);
      this.prevCaller = caller;
    }
    if (all || s.callerName !== this.prevCallerName) {
      mask |= 1 << CALLER_NAME;
      v[at++] = this.intern((this.prevCallerName = s.callerName));
    }
    if (all || s.calleeId !== this.prevCalleeId) {
      mask |= 1 << CALLEE_ID;
      v[at++] = this.prevCalleeId = s.calleeId;
    }
    if (all || s.calleeName !== this.prevCalleeName) {
      mask |= 1 << CALLEE_NAME;
      v[at++] = this.intern((this.prevCalleeName = s.calleeName));
    }
    if (all || s.func !== this.prevFunc) {
      mask |= 1 << FUNC;
      v[at++] = this.intern((this.prevFunc = s.func));
    }
    if (all || s.inputBytes !== this.prevInputBytes) {
      mask |= 1 << INPUT_BYTES;
      v[at++] = this.prevInputBytes = s.inputBytes;
    }
    if (all || s.outputBytes !== this.prevOutputBytes) {
      mask |= 1 << OUTPUT_BYTES;
      v[at++] = this.prevOutputBytes = s.outputBytes;
    }
    const input = s.inputHead;
    const inputLength = input.length <= PREVIEW_BYTES ? input.length : PREVIEW_BYTES;
    if (all || !this.sameHead(input, inputLength, this.prevInput, this.prevInputLength)) {
      mask |= 1 << INPUT_HEAD;
      v[at++] = this.prevInputLength = inputLength;
      this.prevInput = this.appendHead(input, inputLength);
    }
    const output = s.outputHead;
    const outputLength = output.length <= PREVIEW_BYTES ? output.length : PREVIEW_BYTES;
    if (all || !this.sameHead(output, outputLength, this.prevOutput, this.prevOutputLength)) {
      mask |= 1 << OUTPUT_HEAD;
      v[at++] = this.prevOutputLength = outputLength;
      this.prevOutput = this.appendHead(output, outputLength);
    }
    if (all || s.depth !== this.prevDepth) {
      mask |= 1 << DEPTH;
      v[at++] = this.prevDepth = s.depth;
    }
    const error = s.status === 'ok' ? null : s.error ?? '';
    if (all || error !== this.prevError) {
      mask |= 1 << STATUS;
      v[at++] = error === null ? 0 : this.intern(error, MAX_ERROR_CHARS) + 1;
      this.prevError = error;
    }
    // a bound call's import as 1 + its string, a user host function's as -1 - its string
    const host = s.bound === undefined && s.host !== undefined;
    const via = s.bound ?? s.host ?? null;
    if (all || via !== this.prevBound || host !== this.prevHost) {
      mask |= 1 << BOUND;
      v[at++] = via === null ? 0 : host ? -1 - this.intern(via) : this.intern(via) + 1;
      this.prevBound = via;
      this.prevHost = host;
    }
    // a burst of the same call spends the same fuel: nothing written
    const fuel = s.fuel ?? -1;
    if (all || fuel !== this.prevFuel) {
      mask |= 1 << FUEL;
      v[at++] = this.prevFuel = fuel;
    }
    const fuelTotal = s.fuelTotal ?? -1;
    if (all || fuelTotal !== this.prevFuelTotal) {
      mask |= 1 << FUEL_TOTAL;
      v[at++] = this.prevFuelTotal = fuelTotal;
    }
    v[at++] = s.start;
    v[at++] = s.durationMs;
    v[maskAt] = mask;
    this.used = at;
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
    const via = v[BOUND];
    if (via > 0) span.bound = str[via - 1];
    else if (via < 0) span.host = str[-1 - via];
    if (v[FUEL] >= 0) span.fuel = v[FUEL];
    if (v[FUEL_TOTAL] >= 0) span.fuelTotal = v[FUEL_TOTAL];
    spans[i] = span;
  }
  return spans;
}

/** The highest span id in a batch, without decoding it. */
export function lastSpanIdOf(batch: SpanBatch): number {
  return batch.lastId;
}
