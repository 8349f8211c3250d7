// Small renderings the webview's tree and timeline share: sizes, durations, labelled spans.
import type { SpanView } from '../../src/shared/protocol';

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatMs(ms: number): string {
  return ms < 1 ? `${Math.round(ms * 1000)} µs` : ms < 1000 ? `${ms.toFixed(2)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** `1,204 fuel` (its own work), with the total of the calls under it when they spent any; '' when not counted. */
export function formatFuel(s: Pick<SpanView, 'fuel' | 'fuelTotal'>): string {
  if (s.fuel === undefined) return '';
  const own = `${s.fuel.toLocaleString('en-US')} fuel`;
  return s.fuelTotal !== undefined && s.fuelTotal !== s.fuel ? `${own} (${s.fuelTotal.toLocaleString('en-US')} in all)` : own;
}

/** A `<span>` with a class, its text and an optional tooltip. */
export function span(cls: string, text: string, title?: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  if (title) s.title = title;
  return s;
}

/** A running span's duration so far; an ended one's as recorded. */
export function durationOf(s: SpanView): number {
  return s.status === 'running' ? Date.now() - s.start : s.durationMs;
}
