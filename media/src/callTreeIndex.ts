// Which calls the panel's tree shows and under which parent: the filter (a call that matches, and the
// calls above it as context) and the children of every row, in the order they started.
import type { LifeView, SpanView } from '../../src/shared/protocol';

/** A row of the tree: a call, or a plugin's life event. */
export type Item = { kind: 'span'; span: SpanView; time: number } | { kind: 'life'; event: LifeView; time: number };

/** The filter: text a call's plugin, function, caller or host function contains, and failures only. */
export interface Filter {
  text: string;
  failedOnly: boolean;
}

export function filtering(f: Filter): boolean {
  return f.text.trim() !== '' || f.failedOnly;
}

function matches(s: SpanView, f: Filter): boolean {
  if (f.failedOnly && s.status !== 'error') return false;
  const q = f.text.trim().toLowerCase();
  if (!q) return true;
  return [`${s.calleeName}.${s.func}`, s.caller, s.host ?? ''].some((t) => t.toLowerCase().includes(q));
}

/** Calls the filter shows (by id): true for a match, false for a call above one (shown as context); null: no filter, all. */
export type Shown = Map<number, boolean> | null;

/** What the filter shows of `spans`, and how many calls match. */
export function applyFilter(spans: ReadonlyMap<number, SpanView>, f: Filter): { shown: Shown; count: number } {
  if (!filtering(f)) return { shown: null, count: spans.size };
  const shown = new Map<number, boolean>();
  for (const s of spans.values()) {
    if (!matches(s, f)) continue;
    shown.set(s.id, true);
    for (let p = s.parentId === null ? undefined : spans.get(s.parentId); p && !shown.has(p.id); p = p.parentId === null ? undefined : spans.get(p.parentId)) shown.set(p.id, false);
  }
  return { shown, count: [...shown.values()].filter(Boolean).length };
}

/** The rows under each parent (null: the top level), oldest first; life events only when nothing is filtered. */
export function childrenIndex(spans: ReadonlyMap<number, SpanView>, life: readonly LifeView[], shown: Shown): Map<number | null, Item[]> {
  const index = new Map<number | null, Item[]>();
  const push = (parent: number | null, item: Item) => {
    const list = index.get(parent);
    if (list) list.push(item);
    else index.set(parent, [item]);
  };
  for (const s of spans.values()) {
    if (shown && !shown.has(s.id)) continue;
    push(s.parentId !== null && spans.has(s.parentId) ? s.parentId : null, { kind: 'span', span: s, time: s.start });
  }
  if (!shown) for (const e of life) push(e.spanId !== null && spans.has(e.spanId) ? e.spanId : null, { kind: 'life', event: e, time: e.time });
  for (const list of index.values()) list.sort((a, b) => a.time - b.time);
  return index;
}

/** A call and every call under it that the index holds, depth first. */
export function callsUnder(root: SpanView, index: ReadonlyMap<number | null, Item[]>): SpanView[] {
  const members: SpanView[] = [];
  const collect = (s: SpanView) => {
    members.push(s);
    for (const item of index.get(s.id) ?? []) if (item.kind === 'span') collect(item.span);
  };
  collect(root);
  return members;
}
