import type { SpanView } from '../../src/shared/protocol';
import { calleeLabel } from '../../src/shared/traceRecords';
import { durationOf, formatMs, span } from './format';

/** The timeline of one call: a title, a lane per nesting depth with a bar per call, an axis. */
export function timelineOf(root: SpanView, members: readonly SpanView[], selected: number | null): HTMLElement[] {
  const t0 = root.start;
  const total = Math.max(durationOf(root), 0.001);
  const header = document.createElement('div');
  header.className = 'timeline-header';
  header.append(span('timeline-title', `${root.caller} → #${root.calleeId} ${root.calleeName}.${root.func}`), span('timeline-total', formatMs(total)));
  const lanes = document.createElement('div');
  lanes.className = 'timeline-lanes';
  lanes.setAttribute('role', 'list');
  const baseDepth = root.depth;
  let maxLane = 0;
  for (const s of members) {
    const lane = s.depth - baseDepth;
    maxLane = Math.max(maxLane, lane);
    const bar = document.createElement('div');
    bar.className = `bar status-${s.status}${s.id === selected ? ' selected' : ''}`;
    bar.setAttribute('role', 'listitem');
    const left = ((s.start - t0) / total) * 100;
    const width = (durationOf(s) / total) * 100;
    bar.style.left = `${Math.min(Math.max(left, 0), 99.5)}%`;
    bar.style.width = `${Math.max(Math.min(width, 100 - left), 0.5)}%`;
    bar.style.top = `${lane * 24}px`;
    bar.textContent = s.host ? `host ${s.host}` : `${s.calleeName}.${s.func}`;
    bar.title = `${calleeLabel(s)}: ${formatMs(durationOf(s))}, ${s.status}${s.error ? ` (${s.error})` : ''}`;
    bar.dataset.span = String(s.id);
    lanes.append(bar);
  }
  lanes.style.height = `${(maxLane + 1) * 24}px`;
  const axis = document.createElement('div');
  axis.className = 'timeline-axis';
  axis.append(span('', '0'), span('', formatMs(total / 2)), span('', formatMs(total)));
  return [header, lanes, axis];
}
