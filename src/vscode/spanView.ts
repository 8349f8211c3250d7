import type { LifeEvent, Span, TraceRecord } from '../core';
import type { RecordView, SpanView } from '../shared/protocol';

const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\v': '\\v', '\f': '\\f' };

/**
 * A short preview of the first bytes: printable UTF-8 as it reads (control characters escaped),
 * anything else as hex; `…` when there is more.
 */
export function previewBytes(head: Uint8Array, total: number): string {
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
    ? text.replace(/[\t\n\r\v\f]/g, (c) => ESCAPES[c] ?? c)
    : `0x${[...head].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  return total > head.byteLength ? `${shown}…` : shown;
}

/** The core's span as the panel shows it: previews rendered, bytes left behind. */
export function toSpanView(s: Span): SpanView {
  return {
    id: s.id,
    parentId: s.parentId,
    caller: typeof s.caller === 'number' ? `#${s.caller} ${s.callerName}` : s.caller,
    calleeId: s.calleeId,
    calleeName: s.calleeName,
    func: s.func,
    inputBytes: s.inputBytes,
    outputBytes: s.outputBytes,
    inputPreview: previewBytes(s.inputHead, s.inputBytes),
    outputPreview: previewBytes(s.outputHead, s.outputBytes),
    depth: s.depth,
    start: s.start,
    durationMs: s.durationMs,
    status: s.status,
    ...(s.error !== undefined ? { error: s.error } : {}),
  };
}

function toLifeView(e: LifeEvent): RecordView {
  return { kind: e.kind, time: e.time, pluginId: e.pluginId, name: e.name, parentId: e.parentId, spanId: e.spanId };
}

export function toRecordView(r: TraceRecord): RecordView {
  return r.kind === 'call' ? { kind: 'call', ...toSpanView(r) } : toLifeView(r);
}
