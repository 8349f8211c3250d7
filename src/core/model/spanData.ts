import type { StackFrame } from './stackFrames';
// The input and output of recent calls, kept bounded in the runtime so a view can show a nested
// call's bytes on demand: nothing more crosses to the face per call than the span's preview.

/** The bytes of one call as far as they were kept: heads up to SPAN_DATA_BYTES each, and the full sizes. */
export interface SpanData {
  spanId: number;
  input: Uint8Array;
  inputBytes: number;
  output: Uint8Array;
  outputBytes: number;
  /** A failed call's stack inside plugins. */
  frames?: StackFrame[];
}

/** How much of each of a call's input and output is kept (the rest is counted, not kept). */
export const SPAN_DATA_BYTES = 64 * 1024;
/** How many recent calls are kept. */
export const SPAN_DATA_CALLS = 256;
/** The bytes kept for all of them together: older calls go first when a newer one needs room. */
export const SPAN_DATA_ARENA = 4 * 1024 * 1024;

/**
 * A ring of the last calls' heads in one preallocated arena: adding a call copies its heads and
 * allocates nothing. Bytes are written at a logical position that only grows (a write that would
 * cross the arena's end starts at the next lap instead); a call's bytes are intact while less than
 * one arena has been written after they started.
 */
export class SpanDataRing {
  /** Allocated at the first call kept: a runtime that never traces never pays for it. */
  private arena: Uint8Array | undefined;
  private readonly arenaBytes: number;
  private readonly ids: Float64Array;
  private readonly starts: Float64Array;
  private readonly lengths: Uint32Array;
  private readonly totals: Float64Array;
  private next = 0;
  /** The logical position of the next write. */
  private written = 0;

  constructor(
    private readonly perCall = SPAN_DATA_BYTES,
    private readonly calls = SPAN_DATA_CALLS,
    arenaBytes = SPAN_DATA_ARENA,
  ) {
    this.arenaBytes = Math.max(arenaBytes, 2 * perCall);
    this.ids = new Float64Array(calls).fill(-1);
    this.starts = new Float64Array(calls);
    this.lengths = new Uint32Array(calls * 2);
    this.totals = new Float64Array(calls * 2);
  }

  /** Keeps the heads of a call's input and output (the views are read now, not later). */
  add(spanId: number, input: Uint8Array, output: Uint8Array): void {
    const max = this.perCall;
    const inLength = input.length < max ? input.length : max;
    const outLength = output.length < max ? output.length : max;
    const arena = (this.arena ??= new Uint8Array(this.arenaBytes));
    const size = arena.length;
    let at = this.written;
    const offset = at % size;
    if (offset + inLength + outLength > size) at += size - offset;
    const physical = at % size;
    arena.set(inLength === input.length ? input : input.subarray(0, inLength), physical);
    arena.set(outLength === output.length ? output : output.subarray(0, outLength), physical + inLength);
    this.written = at + inLength + outLength;
    const slot = this.next;
    this.next = slot + 1 === this.calls ? 0 : slot + 1;
    this.ids[slot] = spanId;
    this.starts[slot] = at;
    this.lengths[2 * slot] = inLength;
    this.lengths[2 * slot + 1] = outLength;
    this.totals[2 * slot] = input.length;
    this.totals[2 * slot + 1] = output.length;
  }

  /** A copy of what was kept of a call, or undefined when it was never kept or was pushed out. */
  get(spanId: number): SpanData | undefined {
    const slot = this.ids.indexOf(spanId);
    const arena = this.arena;
    if (slot < 0 || !arena) return undefined;
    const start = this.starts[slot];
    const size = arena.length;
    if (this.written - start > size) return undefined;
    const physical = start % size;
    const inLength = this.lengths[2 * slot];
    const outLength = this.lengths[2 * slot + 1];
    return {
      spanId,
      input: arena.slice(physical, physical + inLength),
      inputBytes: this.totals[2 * slot],
      output: arena.slice(physical + inLength, physical + inLength + outLength),
      outputBytes: this.totals[2 * slot + 1],
    };
  }

  clear(): void {
    this.ids.fill(-1);
    this.next = 0;
  }
}
