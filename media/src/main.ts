// The "Inter-Plugin Calls" webview: a live span tree (caller -> callee.function, bytes, duration,
// status) that follows new calls, a filter, a timeline of the newest call (or a pinned one) and the
// detail of the selected call. It keeps only UI state (collapsed rows, selection, filter, pin) in
// getState/setState; the data comes from the extension: a snapshot after `ready`, then deltas.
import { dispatch } from '../../src/shared/protocol';
import { calleeLabel } from '../../src/shared/traceRecords';
import { detailOf } from './detail';
import { formatBytes, formatFuel, formatMs, span } from './format';
import { timelineOf } from './timeline';
import type { CallDetail, FromWebview, Handlers, LifeView, RecordView, SpanView, ToWebview } from '../../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): UiState | undefined;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  collapsed: number[];
  selected: number | null;
  filter?: string;
  failedOnly?: boolean;
  /** The call kept in the timeline, if pinned. */
  pinned?: number | null;
}

const vscode = acquireVsCodeApi();
const saved = vscode.getState();

/** Every span by id (ended and running) and life events, as the extension sent them. */
const spans = new Map<number, SpanView>();
let life: LifeView[] = [];
let paused = false;
let maxSpans = 2000;
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
    spans.clear();
    life = [];
    paused = m.paused;
    maxSpans = m.maxSpans;
    reportRenders = m.reportRenders;
    for (const r of m.records) add(r);
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
      add(r);
    }
    trim();
    scheduleRender();
  },
  clear: () => {
    spans.clear();
    life = [];
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

function add(r: RecordView): void {
  if (r.kind === 'call') {
    const { kind: _kind, ...view } = r;
    spans.set(view.id, view);
  } else {
    life.push(r);
  }
}

/** Keeps the view bounded like the extension's ring buffer. */
function trim(): void {
  const extra = spans.size - maxSpans;
  if (extra > 0) {
    const ids = [...spans.keys()].sort((a, b) => a - b).slice(0, extra);
    for (const id of ids) if (spans.get(id)?.status !== 'running') spans.delete(id);
  }
  if (life.length > maxSpans) life = life.slice(-maxSpans);
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
  if (filtering()) parts.push(`${shownCount} shown`);
  if (failed) parts.push(`${failed} failed`);
  if (running) parts.push(`${running} running`);
  if (paused) parts.push('paused');
  summaryEl.textContent = parts.join(' · ');
}

// ---- the tree ----

type Item = { kind: 'span'; span: SpanView; time: number } | { kind: 'life'; event: LifeView; time: number };

function filtering(): boolean {
  return filterText.trim() !== '' || failedOnly;
}

function matches(s: SpanView): boolean {
  if (failedOnly && s.status !== 'error') return false;
  const q = filterText.trim().toLowerCase();
  if (!q) return true;
  return [`${s.calleeName}.${s.func}`, s.caller, s.host ?? ''].some((t) => t.toLowerCase().includes(q));
}

/** Calls the filter shows (by id): true for a match, false for a call above one (shown as context). */
let shownSpans: Map<number, boolean> | null = null;
let shownCount = 0;

function applyFilter(): void {
  if (!filtering()) {
    shownSpans = null;
    shownCount = spans.size;
    return;
  }
  const shown = new Map<number, boolean>();
  for (const s of spans.values()) {
    if (!matches(s)) continue;
    shown.set(s.id, true);
    for (let p = s.parentId === null ? undefined : spans.get(s.parentId); p && !shown.has(p.id); p = p.parentId === null ? undefined : spans.get(p.parentId)) shown.set(p.id, false);
  }
  shownSpans = shown;
  shownCount = [...shown.values()].filter(Boolean).length;
}

function childrenIndex(): Map<number | null, Item[]> {
  const index = new Map<number | null, Item[]>();
  const push = (parent: number | null, item: Item) => {
    const list = index.get(parent);
    if (list) list.push(item);
    else index.set(parent, [item]);
  };
  for (const s of spans.values()) {
    if (shownSpans && !shownSpans.has(s.id)) continue;
    push(s.parentId !== null && spans.has(s.parentId) ? s.parentId : null, { kind: 'span', span: s, time: s.start });
  }
  if (!shownSpans) for (const e of life) push(e.spanId !== null && spans.has(e.spanId) ? e.spanId : null, { kind: 'life', event: e, time: e.time });
  for (const list of index.values()) list.sort((a, b) => a.time - b.time);
  return index;
}

function spanRow(s: SpanView, level: number, hasChildren: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.key = `s${s.id}`;
  li.dataset.span = String(s.id);
  li.dataset.plugin = String(s.calleeId);
  li.tabIndex = -1;
  if (hasChildren) li.setAttribute('aria-expanded', String(!collapsed.has(s.id)));
  li.setAttribute('aria-selected', String(selected === s.id));
  const row = document.createElement('div');
  row.className = `row status-${s.status}${shownSpans?.get(s.id) === false ? ' context' : ''}`;
  row.append(
    span('twisty', hasChildren ? (collapsed.has(s.id) ? '▸' : '▾') : ''),
    span('icon', s.status === 'ok' ? '✓' : s.status === 'error' ? '✗' : '◌', s.status),
    span('caller', s.caller, s.caller),
    span('arrow', s.bound ? '⇢' : '→', s.bound ? `bound call through ${s.bound}` : s.host ? 'a host function the user supplied' : 'call_plugin or a call from the host'),
    ...(s.bound ? [span('bound', 'bound', `a bound call: ${s.bound}`)] : []),
    ...(s.host ? [span('bound', 'host', `a host function: ${s.host}`)] : []),
    span('callee', calleeLabel(s), 'Double-click or press R to reveal the plugin in Live Plugins'),
    span('bytes', `in ${formatBytes(s.inputBytes)}`),
    span('preview', s.inputPreview, s.inputPreview),
    span('bytes', `out ${formatBytes(s.outputBytes)}`),
    span('preview', s.outputPreview, s.outputPreview),
    span('duration', s.status === 'running' ? 'running…' : formatMs(s.durationMs)),
    ...(s.fuel !== undefined ? [span('fuel', formatFuel(s), 'fuel: operators its plugin executed in this call (callees excluded), and with the calls under it')] : []),
  );
  li.append(row);
  if (s.error) {
    const err = span('error', s.error);
    err.setAttribute('role', 'note');
    li.append(err);
  }
  li.setAttribute(
    'aria-label',
    `${s.caller} calls ${s.host ? `host function ${s.host}` : `${s.calleeName} ${s.func}`}${s.bound ? ` through bound import ${s.bound}` : ''}, in ${s.inputBytes} bytes, out ${s.outputBytes} bytes, ${s.status === 'running' ? 'running' : formatMs(s.durationMs)}${s.fuel !== undefined ? `, ${formatFuel(s)}` : ''}, ${s.status}${s.error ? `: ${s.error}` : ''}`,
  );
  return li;
}

function lifeRow(e: LifeView, level: number): HTMLLIElement {
  const li = document.createElement('li');
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.key = `l${e.kind}${e.pluginId}`;
  li.dataset.plugin = String(e.pluginId);
  li.tabIndex = -1;
  const row = document.createElement('div');
  row.className = `row life life-${e.kind}`;
  if (e.kind === 'register-failed' || e.kind === 'restart') {
    // no plugin lived: a failed registration, or the runtime stopped with every plugin
    const failed = e.kind === 'register-failed';
    const what = failed ? `${e.parentId !== null ? `#${e.parentId} failed to spawn` : 'failed to register'} ${e.name}` : 'plugin runtime restarted';
    row.append(span('twisty', ''), span('icon', failed ? '✕' : '⟲'), span('life-text', what));
    if (e.reason) row.append(span('life-reason', `: ${e.reason}`));
    li.append(row);
    li.dataset.key = `l${e.kind}${e.time}`;
    li.setAttribute('aria-label', `${what}${e.reason ? `: ${e.reason}` : ''}`);
    return li;
  }
  const what = e.kind === 'spawn' ? (e.parentId !== null ? `#${e.parentId} spawned` : 'registered') : e.kind === 'reload' ? 'reloaded' : 'ended';
  const icon = e.kind === 'spawn' ? '+' : e.kind === 'reload' ? '↻' : '−';
  row.append(span('twisty', ''), span('icon', icon), span('life-text', `${what} #${e.pluginId} ${e.name}`));
  li.append(row);
  li.setAttribute('aria-label', `${what} plugin ${e.pluginId} ${e.name}`);
  return li;
}

function renderTree(index: Map<number | null, Item[]>): void {
  const frag = document.createDocumentFragment();
  const walk = (parent: number | null, into: HTMLElement, level: number) => {
    for (const item of index.get(parent) ?? []) {
      if (item.kind === 'life') {
        into.append(lifeRow(item.event, level));
        continue;
      }
      const kids = index.get(item.span.id) ?? [];
      const li = spanRow(item.span, level, kids.length > 0);
      into.append(li);
      if (kids.length && !collapsed.has(item.span.id)) {
        const group = document.createElement('ul');
        group.setAttribute('role', 'group');
        li.append(group);
        walk(item.span.id, group, level + 1);
      }
    }
  };
  walk(null, frag as unknown as HTMLElement, 1);
  treeEl.replaceChildren(frag);
  emptyEl.hidden = spans.size > 0 || life.length > 0;
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

function rootOf(id: number): SpanView | undefined {
  let s = spans.get(id);
  while (s && s.parentId !== null && spans.has(s.parentId)) s = spans.get(s.parentId);
  return s;
}

/** The root call the timeline shows. */
let shownRoot: number | null = null;

function renderTimeline(index: Map<number | null, Item[]>): void {
  const roots = (index.get(null) ?? []).filter((i): i is Extract<Item, { kind: 'span' }> => i.kind === 'span');
  const rootFor = (id: number | null) => (id !== null ? rootOf(id) : undefined);
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
  const members: SpanView[] = [];
  const collect = (s: SpanView) => {
    members.push(s);
    for (const item of index.get(s.id) ?? []) if (item.kind === 'span') collect(item.span);
  };
  collect(root);
  timelineEl.append(...timelineOf(root, members, selected));
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
  applyFilter();
  const index = childrenIndex();
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
  const rows = visibleRows();
  const current = document.activeElement instanceof HTMLLIElement ? document.activeElement : undefined;
  const i = current ? rows.indexOf(current) : -1;
  const go = (j: number) => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, j))];
    if (row) select(row);
  };
  switch (e.key) {
    case 'ArrowDown': go(i + 1); break;
    case 'ArrowUp': go(i - 1); break;
    case 'Home': go(0); break;
    case 'End': go(rows.length - 1); break;
    case 'ArrowRight':
      if (current?.getAttribute('aria-expanded') === 'false') toggle(current, true);
      else go(i + 1);
      break;
    case 'ArrowLeft':
      if (current?.getAttribute('aria-expanded') === 'true') toggle(current, false);
      else {
        const parent = current?.parentElement?.closest('li[role="treeitem"]');
        if (parent instanceof HTMLLIElement) select(parent);
      }
      break;
    case 'Enter':
    case ' ':
      if (current) toggle(current);
      break;
    case 'r':
    case 'R':
      if (current) reveal(current);
      break;
    default:
      return;
  }
  e.preventDefault();
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
  if (!(button instanceof HTMLButtonElement) || selected === null) return;
  const spanId = selected;
  switch (button.dataset.action) {
    case 'copy-input': vscode.postMessage({ type: 'copy', spanId, part: 'input' }); break;
    case 'copy-output': vscode.postMessage({ type: 'copy', spanId, part: 'output' }); break;
    case 'rerun': vscode.postMessage({ type: 'rerun', spanId }); break;
    case 'add': vscode.postMessage({ type: 'addToCallFile', spanId }); break;
    case 'open-frame': vscode.postMessage({ type: 'openFrame', spanId, index: Number(button.dataset.frame) }); break;
  }
});

renderToolbar();
vscode.postMessage({ type: 'ready' });
