// The "Inter-Plugin Calls" webview: a live span tree (caller -> callee.function, bytes, duration,
// status) that follows new calls, a filter, a timeline of the newest call (or a pinned one) and the
// detail of the selected call. It keeps only UI state (collapsed rows, selection, filter, pin) in
// getState/setState; the data comes from the extension: a snapshot after `ready`, then deltas.
// Here: the state, the messages, the toolbar and rendering; the calls held (callStore), what the tree
// shows (callTreeIndex), its rows (callRows), its keys (treeKeys), the timeline and the detail apart.
import { dispatch } from '../../src/shared/protocol';
import { treeRows } from './callRows';
import { CallStore } from './callStore';
import { applyFilter, callsUnder, childrenIndex, filtering, Item, Shown } from './callTreeIndex';
import { detailAction, detailOf } from './detail';
import { span } from './format';
import { timelineOf } from './timeline';
import { treeKey } from './treeKeys';
import { vscodeApi } from './vscodeApi';
import type { CallDetail, FromWebview, Handlers, ToWebview } from '../../src/shared/protocol';

interface UiState {
  collapsed: number[];
  selected: number | null;
  filter?: string;
  failedOnly?: boolean;
  /** The call kept in the timeline, if pinned. */
  pinned?: number | null;
}

const vscode = vscodeApi<FromWebview, UiState>();
const saved = vscode.getState();

const calls = new CallStore();
/** Every span by id (ended and running), as the extension sent them. */
const spans = calls.spans;
let paused = false;
let reportRenders = false;
const collapsed = new Set<number>(saved?.collapsed ?? []);
let selected: number | null = saved?.selected ?? null;
let focusedKey: string | null = null;
let filterText = saved?.filter ?? '';
let failedOnly = saved?.failedOnly ?? false;
/** The root call the timeline keeps while new calls come (pinned), or null: the newest. */
let pinned: number | null = saved?.pinned ?? null;
/** The call a person picked, shown in the timeline until a newer call comes (unless pinned). */
let looking: number | null = null;
/** The detail of the selected call, once the extension sent it. */
let detail: CallDetail | null = null;
/** Whether the tree keeps the newest call in view (the person has not scrolled up). */
let following = true;
/** Top-level calls that came while the person was scrolled up. */
let unseen = 0;
/** Scroll the selected row into view at the next render (a command revealed it). */
let scrollToSelected = false;

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
};
const treeEl = el<HTMLUListElement>('tree');
const emptyEl = el<HTMLParagraphElement>('empty');
const noMatchEl = el<HTMLParagraphElement>('noMatch');
const timelineEl = el<HTMLDivElement>('timeline');
const summaryEl = el<HTMLSpanElement>('summary');
const pauseBtn = el<HTMLButtonElement>('pause');
const callsEl = el<HTMLElement>('calls');
const newCallsBtn = el<HTMLButtonElement>('newCalls');
const filterEl = el<HTMLInputElement>('filter');
const failedOnlyEl = el<HTMLInputElement>('failedOnly');
const pinBtn = el<HTMLButtonElement>('pin');
const detailEl = el<HTMLElement>('detail');
filterEl.value = filterText;
failedOnlyEl.checked = failedOnly;

// ---- messages ----

const handlers: Handlers<ToWebview> = {
  snapshot: (m) => {
    calls.clear();
    paused = m.paused;
    calls.maxSpans = m.maxSpans;
    reportRenders = m.reportRenders;
    for (const r of m.records) calls.add(r);
    for (const s of m.running) spans.set(s.id, s);
    if (m.select !== null) selectCall(m.select);
    else if (selected !== null) requestDetail();
    scheduleRender();
  },
  records: (m) => {
    for (const r of m.records) {
      if (r.kind === 'call') {
        const before = spans.get(r.id);
        if (!before && r.parentId === null) newRoot();
        // the selected call ended: its bytes can be shown now
        if (r.id === selected && before?.status === 'running' && r.status !== 'running') requestDetail();
      }
      calls.add(r);
    }
    calls.trim();
    scheduleRender();
  },
  clear: () => {
    calls.clear();
    selected = null;
    detail = null;
    looking = null;
    pinned = null;
    unseen = 0;
    saveState();
    scheduleRender();
  },
  select: (m) => {
    selectCall(m.spanId);
    scheduleRender();
  },
  filter: (m) => {
    filterEl.value = filterText = m.text;
    failedOnlyEl.checked = failedOnly = m.failedOnly;
    saveState();
    scheduleRender();
  },
  detail: (m) => {
    if (m.detail.spanId !== selected) return;
    detail = m.detail;
    scheduleRender();
  },
};

/** A new top-level call: the timeline moves to it unless pinned; the tree follows it or counts it. */
function newRoot(): void {
  looking = null;
  if (!following) unseen++;
}

/** Selects a call a command made and brings it into view. */
function selectCall(id: number): void {
  selected = id;
  focusedKey = `s${id}`;
  looking = id;
  scrollToSelected = true;
  // a call deep in a collapsed one: open the calls above it
  for (let s = spans.get(id); s && s.parentId !== null; s = spans.get(s.parentId)) collapsed.delete(s.parentId);
  saveState();
  requestDetail();
}

function requestDetail(): void {
  if (detail?.spanId !== selected) detail = null;
  if (selected !== null) vscode.postMessage({ type: 'detail', spanId: selected });
}

window.addEventListener('message', (event: MessageEvent<unknown>) => dispatch(handlers, event.data));

// ---- toolbar ----

pauseBtn.addEventListener('click', () => {
  paused = !paused;
  vscode.postMessage({ type: 'pause', paused });
  renderToolbar();
});
el<HTMLButtonElement>('clear').addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
el<HTMLButtonElement>('export').addEventListener('click', () => vscode.postMessage({ type: 'export' }));
filterEl.addEventListener('input', () => {
  filterText = filterEl.value;
  saveState();
  scheduleRender();
});
failedOnlyEl.addEventListener('change', () => {
  failedOnly = failedOnlyEl.checked;
  saveState();
  scheduleRender();
});
pinBtn.addEventListener('click', () => {
  pinned = pinned === null ? shownRoot : null;
  if (pinned === null) looking = null;
  saveState();
  scheduleRender();
});
newCallsBtn.addEventListener('click', () => {
  following = true;
  unseen = 0;
  scrollToEnd();
  scheduleRender();
});
callsEl.addEventListener('scroll', () => {
  const atEnd = callsEl.scrollHeight - callsEl.scrollTop - callsEl.clientHeight < 4;
  if (atEnd === following) return;
  following = atEnd;
  if (atEnd) unseen = 0;
  renderNewCalls();
});

function scrollToEnd(): void {
  callsEl.scrollTop = callsEl.scrollHeight;
}

function renderNewCalls(): void {
  newCallsBtn.hidden = following || unseen === 0;
  newCallsBtn.textContent = `${unseen} new call${unseen === 1 ? '' : 's'} ↓`;
}

function renderToolbar(): void {
  pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  pauseBtn.setAttribute('aria-pressed', String(paused));
  pauseBtn.title = paused ? 'Resume live updates' : 'Pause live updates';
  const all = [...spans.values()];
  const failed = all.filter((s) => s.status === 'error').length;
  const running = all.filter((s) => s.status === 'running').length;
  const parts = [`${all.length} call${all.length === 1 ? '' : 's'}`];
  if (filtering(currentFilter())) parts.push(`${shownCount} shown`);
  if (failed) parts.push(`${failed} failed`);
  if (running) parts.push(`${running} running`);
  if (paused) parts.push('paused');
  summaryEl.textContent = parts.join(' · ');
}

// ---- the tree ----

function currentFilter() {
  return { text: filterText, failedOnly };
}

/** Calls the filter shows (by id): true for a match, false for a call above one (shown as context). */
let shownSpans: Shown = null;
let shownCount = 0;

function renderTree(index: Map<number | null, Item[]>): void {
  treeEl.replaceChildren(treeRows(index, { collapsed, selected, shown: shownSpans }));
  emptyEl.hidden = spans.size > 0 || calls.life.length > 0;
  noMatchEl.hidden = !emptyEl.hidden || shownSpans === null || shownCount > 0;
  // Keep the keyboard focus on the same row across re-renders (roving tabindex).
  const rows = visibleRows();
  const target = rows.find((r) => r.dataset.key === focusedKey) ?? null;
  for (const r of rows) r.tabIndex = -1;
  if (target) {
    target.tabIndex = 0;
    if (treeEl.contains(document.activeElement) || document.activeElement === document.body) target.focus({ preventScroll: true });
  } else if (rows[0]) {
    rows[0].tabIndex = 0;
  }
  treeEl.tabIndex = rows.length ? -1 : 0;
}

function visibleRows(): HTMLLIElement[] {
  return [...treeEl.querySelectorAll<HTMLLIElement>('li[role="treeitem"]')];
}

// ---- the timeline: the selected call (or the latest) and everything under it ----

/** The root call the timeline shows. */
let shownRoot: number | null = null;

function renderTimeline(index: Map<number | null, Item[]>): void {
  const roots = (index.get(null) ?? []).filter((i): i is Extract<Item, { kind: 'span' }> => i.kind === 'span');
  const rootFor = (id: number | null) => (id !== null ? calls.rootOf(id) : undefined);
  const root = rootFor(pinned) ?? rootFor(looking) ?? roots[roots.length - 1]?.span;
  shownRoot = root?.id ?? null;
  pinBtn.hidden = !root;
  pinBtn.textContent = pinned !== null ? 'Pinned' : 'Pin';
  pinBtn.setAttribute('aria-pressed', String(pinned !== null));
  pinBtn.title = pinned !== null ? 'Unpin: show the newest call as calls come' : 'Keep this call in the timeline while new calls come';
  timelineEl.replaceChildren();
  if (!root) {
    timelineEl.append(span('timeline-empty', 'The timeline of a call appears here.'));
    return;
  }
  timelineEl.append(...timelineOf(root, callsUnder(root, index), selected));
}

function renderDetail(): void {
  const s = selected !== null ? spans.get(selected) : undefined;
  detailEl.hidden = !s;
  if (!s) {
    detailEl.replaceChildren();
    return;
  }
  detailEl.replaceChildren(...detailOf(s, detail?.spanId === s.id ? detail : null));
}

// ---- rendering, throttled to one per frame ----

let frame = 0;
function scheduleRender(): void {
  if (!frame) frame = requestAnimationFrame(render);
}

function render(): void {
  frame = 0;
  ({ shown: shownSpans, count: shownCount } = applyFilter(spans, currentFilter()));
  const index = childrenIndex(spans, calls.life, shownSpans);
  renderToolbar();
  renderTree(index);
  renderTimeline(index);
  renderDetail();
  const row = scrollToSelected && selected !== null ? treeEl.querySelector(`li[data-span="${selected}"]`) : null;
  if (row) {
    scrollToSelected = false;
    row.scrollIntoView({ block: 'nearest' });
  } else if (following) {
    scrollToEnd();
  }
  renderNewCalls();
  if (!reportRenders) return;
  const all = [...spans.values()];
  vscode.postMessage({
    type: 'rendered',
    spans: all.length,
    running: all.filter((s) => s.status === 'running').length,
    errors: all.filter((s) => s.status === 'error').length,
    shown: shownCount,
    selected,
    detail: detail?.spanId === selected ? selected : null,
  });
}

// Running spans show a live duration.
setInterval(() => {
  for (const s of spans.values()) {
    if (s.status === 'running') {
      scheduleRender();
      return;
    }
  }
}, 500);

function saveState(): void {
  vscode.setState({ collapsed: [...collapsed], selected, filter: filterText, failedOnly, pinned });
}

// ---- mouse and keyboard ----

function select(li: HTMLLIElement): void {
  focusedKey = li.dataset.key ?? null;
  for (const r of visibleRows()) r.tabIndex = -1;
  li.tabIndex = 0;
  li.focus();
  const id = li.dataset.span ? Number(li.dataset.span) : null;
  if (id !== null && id !== selected) {
    selected = id;
    looking = id;
    saveState();
    requestDetail();
    scheduleRender();
  }
}

function toggle(li: HTMLLIElement, expand?: boolean): void {
  const id = li.dataset.span ? Number(li.dataset.span) : null;
  if (id === null || !li.hasAttribute('aria-expanded')) return;
  const open = !collapsed.has(id);
  const want = expand ?? !open;
  if (want === open) return;
  if (want) collapsed.delete(id);
  else collapsed.add(id);
  saveState();
  scheduleRender();
}

function reveal(li: HTMLLIElement): void {
  const plugin = Number(li.dataset.plugin);
  if (Number.isInteger(plugin)) vscode.postMessage({ type: 'revealPlugin', pluginId: plugin });
}

treeEl.addEventListener('click', (e) => {
  const li = (e.target as HTMLElement).closest('li[role="treeitem"]');
  if (!(li instanceof HTMLLIElement)) return;
  if ((e.target as HTMLElement).classList.contains('twisty')) toggle(li);
  select(li);
});
treeEl.addEventListener('dblclick', (e) => {
  const li = (e.target as HTMLElement).closest('li[role="treeitem"]');
  if (li instanceof HTMLLIElement) reveal(li);
});
treeEl.addEventListener('focus', () => {
  const rows = visibleRows();
  (rows.find((r) => r.tabIndex === 0) ?? rows[0])?.focus();
});
treeEl.addEventListener('keydown', (e) => {
  const current = document.activeElement instanceof HTMLLIElement ? document.activeElement : undefined;
  if (treeKey(e.key, visibleRows(), current, { select, toggle, reveal })) e.preventDefault();
});
timelineEl.addEventListener('click', (e) => {
  const id = Number((e.target as HTMLElement).dataset.span);
  if (!Number.isInteger(id)) return;
  selected = id;
  focusedKey = `s${id}`;
  saveState();
  requestDetail();
  scheduleRender();
});
detailEl.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest('button[data-action]');
  const message = button instanceof HTMLButtonElement && selected !== null ? detailAction(button, selected) : undefined;
  if (message) vscode.postMessage(message);
});

renderToolbar();
vscode.postMessage({ type: 'ready' });
