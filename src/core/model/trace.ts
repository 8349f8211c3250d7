import { visibleText } from './displayText';
import { Emitter } from './events';
import { calleeLabel, callerText, Span, TraceRecord } from '../../shared/traceRecords';

export type { LifeEvent, Span, TraceRecord } from '../../shared/traceRecords';
export { PREVIEW_BYTES } from '../../shared/traceRecords';

/**
 * A short preview of the first bytes: printable UTF-8 as it reads (whitespace, C1 controls, bidi
 * and other invisible characters escaped as `visibleText` shows them), anything else as hex; `…`
 * when there is more.
 */
export function preview(head: Uint8Array, total: number): string {
  if (total === 0) return '';
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head);
  } catch {
    // A multi-byte character cut at the end of the head still reads as text.
    const cut = new TextDecoder('utf-8').decode(head);
    text = /\ufffd$/.test(cut) && !/\ufffd/.test(cut.slice(0, -1)) ? cut.slice(0, -1) : undefined;
  }
  const printable = text !== undefined && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text);
  const shown = printable && text !== undefined
    ? visibleText(text).replace(/\t/g, '\\t')
    : `0x${[...head].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  return total > head.byteLength ? `${shown}…` : shown;
}

/** A bounded record of recent spans and life events, with events as they arrive. */
export class TraceStore {
  private records: TraceRecord[] = [];
  /** Batches of ended spans not decoded yet: nobody listens, so they wait until someone reads. */
  private deferred: { count: number; decode: () => Span[] }[] = [];
  private deferredCount = 0;
  private readonly running = new Map<number, Span>();
  private readonly onRecordEmitter = new Emitter<TraceRecord>();
  private readonly onClearEmitter = new Emitter<void>();
  /** A span started (status running), a span ended, or a plugin started or ended. */
  readonly onRecord = this.onRecordEmitter.event;
  readonly onClear = this.onClearEmitter.event;

  constructor(private maxRecords = 10_000) {}

  setMaxRecords(n: number): void {
    this.maxRecords = n;
    this.trim();
  }

  add(record: TraceRecord): void {
    // a running span waits beside the records; an ended one keeps the order of the batches before it
    if (this.deferredCount && !(record.kind === 'call' && record.status === 'running')) this.materialize();
    if (record.kind === 'call' && record.status === 'running') {
      if (this.running.has(record.id)) return;
      this.running.set(record.id, record);
    } else {
      if (record.kind === 'call') this.running.delete(record.id);
      this.records.push(record);
      this.trim();
    }
    this.onRecordEmitter.fire(record);
  }

  /**
   * Ended spans that arrive packed: decoded at once when someone listens, else when first read.
   * Keeps a burst of nested calls cheap for the runtime when no view is open.
   */
  addDeferred(count: number, decode: () => Span[]): void {
    if (count === 0) return;
    if (this.onRecordEmitter.hasListeners) {
      for (const span of decode()) this.add(span);
      return;
    }
    this.deferred.push({ count, decode });
    this.deferredCount += count;
    // batches that newer ones push out of the window are dropped without being decoded
    while (this.deferredCount - this.deferred[0].count >= this.maxRecords) {
      this.deferredCount -= this.deferred.shift()!.count;
      this.records = [];
    }
  }

  private materialize(): void {
    const batches = this.deferred;
    this.deferred = [];
    this.deferredCount = 0;
    for (const batch of batches) {
      for (const span of batch.decode()) {
        this.running.delete(span.id);
        this.records.push(span);
      }
      this.trim();
    }
  }

  /** Ended spans and life events, oldest first. */
  all(): TraceRecord[] {
    this.materialize();
    return this.records.slice(-this.maxRecords);
  }

  spans(): Span[] {
    return this.all().filter((r): r is Span => r.kind === 'call');
  }

  runningSpans(): Span[] {
    this.materialize();
    return [...this.running.values()];
  }

  /** Ends every running span with an error: the runtime that ran them is gone. */
  endRunning(reason: string): void {
    this.materialize();
    const end = Date.now();
    for (const span of [...this.running.values()]) {
      this.add({ ...span, status: 'error', error: reason, durationMs: Math.max(0, end - span.start) });
    }
  }

  clear(): void {
    this.records = [];
    this.deferred = [];
    this.deferredCount = 0;
    this.onClearEmitter.fire();
  }

  /** Trims in chunks, so keeping a full store bounded costs O(1) per record, not a splice each. */
  private trim(): void {
    const slack = Math.max(16, this.maxRecords >> 3);
    if (this.records.length > this.maxRecords + slack) this.records.splice(0, this.records.length - this.maxRecords);
  }

  dispose(): void {
    this.onRecordEmitter.dispose();
    this.onClearEmitter.dispose();
  }
}

function callerLabel(s: Span): string {
  return callerText(s);
}

/** A span's line of the text tree; what a plugin chose in it (names, imports, errors) made visible. */
function treeLine(s: Span): string {
  const status = s.status === 'ok' ? 'ok' : `${s.status.toUpperCase()}: ${s.error ?? ''}`;
  const call = `${callerLabel(s)} -> ${calleeLabel(s)}${s.bound ? ` (bound ${s.bound})` : ''}`;
  return visibleText(`${call}  in ${s.inputBytes} B, out ${s.outputBytes} B, ${formatMs(s.durationMs)}${fuelText(s)}, ${status}`);
}

/** `, fuel 120 (total 480)`: its own work, and with its callees' when they spent any. */
export function fuelText(s: Pick<Span, 'fuel' | 'fuelTotal'>): string {
  if (s.fuel === undefined) return '';
  const total = s.fuelTotal !== undefined && s.fuelTotal !== s.fuel ? ` (total ${s.fuelTotal})` : '';
  return `, fuel ${s.fuel}${total}`;
}

function formatMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

/**
 * The call tree as text: caller -> callee.function, bytes in/out, duration, status; a line per
 * span, with control and invisible characters shown as escapes (`visibleText`).
 */
export function formatTraceTree(records: readonly TraceRecord[]): string {
  const spans = records.filter((r): r is Span => r.kind === 'call');
  const children = new Map<number | null, Span[]>();
  const ids = new Set(spans.map((s) => s.id));
  for (const s of spans) {
    const parent = s.parentId !== null && ids.has(s.parentId) ? s.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: number | null, indent: string): void => {
    const list = (children.get(parent) ?? []).sort((a, b) => a.start - b.start);
    list.forEach((s, i) => {
      const last = i === list.length - 1;
      const branch = parent === null ? '' : last ? '└─ ' : '├─ ';
      lines.push(`${indent}${branch}${treeLine(s)}`);
      walk(s.id, parent === null ? indent : indent + (last ? '   ' : '│  '));
    });
  };
  walk(null, '');
  return lines.join('\n');
}

/** Chrome Trace Event JSON (the object form), which Perfetto and chrome://tracing open. */
export function toChromeTrace(records: readonly TraceRecord[]): { traceEvents: object[]; displayTimeUnit: string } {
  const us = (ms: number) => Math.round(ms * 1000);
  const traceEvents: object[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'Extism IPC' } },
    { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'plugin runtime' } },
  ];
  for (const r of records) {
    if (r.kind === 'call') {
      traceEvents.push({
        name: r.host !== undefined ? `host ${r.host}` : `${r.calleeName}.${r.func}`,
        cat: (r.bound ? 'call,bound' : r.host !== undefined ? 'call,host' : 'call') + (r.status === 'ok' ? '' : ',error'),
        ph: 'X',
        ts: us(r.start),
        dur: Math.max(us(r.durationMs), 0),
        pid: 1,
        tid: 1,
        args: {
          span: r.id,
          parentSpan: r.parentId,
          caller: callerLabel(r),
          callee: r.host !== undefined ? `host ${r.host}` : `#${r.calleeId} ${r.calleeName}`,
          inputBytes: r.inputBytes,
          outputBytes: r.outputBytes,
          input: preview(r.inputHead, r.inputBytes),
          output: preview(r.outputHead, r.outputBytes),
          status: r.status,
          ...(r.error ? { error: r.error } : {}),
          ...(r.bound ? { bound: r.bound } : {}),
          ...(r.host !== undefined ? { host: r.host } : {}),
          ...(r.fuel !== undefined ? { fuel: r.fuel, fuelTotal: r.fuelTotal } : {}),
        },
      });
    } else {
      traceEvents.push({
        name: r.pluginId ? `${r.kind} #${r.pluginId} ${r.name}` : `${r.kind} ${r.name}`.trim(),
        cat: r.kind,
        ph: 'i',
        s: 'p',
        ts: us(r.time),
        pid: 1,
        tid: 1,
        args: { plugin: r.pluginId, parent: r.parentId, span: r.spanId, ...(r.reason !== undefined ? { reason: r.reason } : {}) },
      });
    }
  }
  return { traceEvents, displayTimeUnit: 'ms' };
}
