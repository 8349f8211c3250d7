import { preview, visibleText } from '../core';
import type { LifeEvent, Span, TraceRecord } from '../core';
import type { RecordView, SpanView } from '../shared/protocol';
import { callerText } from '../shared/traceRecords';

/**
 * The core's span as the panel shows it: previews rendered, bytes left behind, and what a plugin
 * chose (names, errors) with controls and invisible characters shown as escapes (`visibleText`):
 * the webview writes text with `textContent`, which stops HTML but not a bidi override.
 */
export function toSpanView(s: Span): SpanView {
  return {
    id: s.id,
    parentId: s.parentId,
    caller: visibleText(callerText(s)),
    calleeId: s.calleeId,
    calleeName: visibleText(s.calleeName),
    func: visibleText(s.func),
    inputBytes: s.inputBytes,
    outputBytes: s.outputBytes,
    inputPreview: preview(s.inputHead, s.inputBytes),
    outputPreview: preview(s.outputHead, s.outputBytes),
    depth: s.depth,
    start: s.start,
    durationMs: s.durationMs,
    status: s.status,
    ...(s.error !== undefined ? { error: visibleText(s.error) } : {}),
    ...(s.bound !== undefined ? { bound: visibleText(s.bound) } : {}),
    ...(s.host !== undefined ? { host: visibleText(s.host) } : {}),
    ...(s.fuel !== undefined ? { fuel: s.fuel, fuelTotal: s.fuelTotal } : {}),
  };
}

function toLifeView(e: LifeEvent): RecordView {
  return {
    kind: e.kind, time: e.time, pluginId: e.pluginId, name: visibleText(e.name), parentId: e.parentId, spanId: e.spanId,
    ...(e.reason !== undefined ? { reason: visibleText(e.reason) } : {}),
  };
}

export function toRecordView(r: TraceRecord): RecordView {
  return r.kind === 'call' ? { kind: 'call', ...toSpanView(r) } : toLifeView(r);
}
