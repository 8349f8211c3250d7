// The "Inter-Plugin Calls" webview: a live span tree (caller -> callee.function, bytes, duration,
// status) and a timeline of the selected call. It keeps only UI state (collapsed rows, selection)
// in getState/setState; the data comes from the extension: a snapshot after `ready`, then deltas.
import { dispatch } from '../../src/shared/protocol';
import { calleeLabel } from '../../src/shared/traceRecords';
import { formatBytes, formatMs, span } from './format';
import { timelineOf } from './timeline';
import type { FromWebview, Handlers, LifeView, RecordView, SpanView, ToWebview } from '../../src/shared/protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): UiState | undefined;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface UiState {
  collapsed: number[];
  selected: number | null;
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

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
};
const treeEl = el<HTMLUListElement>('tree');
const emptyEl = el<HTMLParagraphElement>('empty');
const timelineEl = el<HTMLDivElement>('timeline');
const summaryEl = el<HTMLSpanElement>('summary');
const pauseBtn = el<HTMLButtonElement>('pause');

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
    scheduleRender();
  },
  records: (m) => {
    for (const r of m.records) add(r);
    trim();
    scheduleRender();
  },
  clear: () => {
    spans.clear();
    life = [];
    selected = null;
    scheduleRender();
  },
};

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

function renderToolbar(): void {
  pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  pauseBtn.setAttribute('aria-pressed', String(paused));
  pauseBtn.title = paused ? 'Resume live updates' : 'Pause live updates';
  const all = [...spans.values()];
  const failed = all.filter((s) => s.status === 'error').length;
  const running = all.filter((s) => s.status === 'running').length;
  const parts = [`${all.length} call${all.length === 1 ? '' : 's'}`];
  if (failed) parts.push(`${failed} failed`);
  if (running) parts.push(`${running} running`);
  if (paused) parts.push('paused');
  summaryEl.textContent = parts.join(' · ');
}

// ---- the tree ----

type Item = { kind: 'span'; span: SpanView; time: number } | { kind: 'life'; event: LifeView; time: number };

function childrenIndex(): Map<number | null, Item[]> {
  const index = new Map<number | null, Item[]>();
  const push = (parent: number | null, item: Item) => {
    const list = index.get(parent);
    if (list) list.push(item);
    else index.set(parent, [item]);
  };
  for (const s of spans.values()) push(s.parentId !== null && spans.has(s.parentId) ? s.parentId : null, { kind: 'span', span: s, time: s.start });
  for (const e of life) push(e.spanId !== null && spans.has(e.spanId) ? e.spanId : null, { kind: 'life', event: e, time: e.time });
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
  row.className = `row status-${s.status}`;
  row.append(
    span('twisty', hasChildren ? (collapsed.has(s.id) ? '▸' : '▾') : ''),
    span('icon', s.status === 'ok' ? '✓' : s.status === 'error' ? '✗' : '◌', s.status),
    span('caller', s.caller),
    span('arrow', s.bound ? '⇢' : '→', s.bound ? `bound call through ${s.bound}` : s.host ? 'a host function the user supplied' : 'call_plugin or a call from the host'),
    ...(s.bound ? [span('bound', 'bound', `a bound call: ${s.bound}`)] : []),
    ...(s.host ? [span('bound', 'host', `a host function: ${s.host}`)] : []),
    span('callee', calleeLabel(s), 'Double-click or press R to reveal the plugin in Live Plugins'),
    span('bytes', `in ${formatBytes(s.inputBytes)}`),
    span('preview', s.inputPreview, s.inputPreview),
    span('bytes', `out ${formatBytes(s.outputBytes)}`),
    span('preview', s.outputPreview, s.outputPreview),
    span('duration', s.status === 'running' ? 'running…' : formatMs(s.durationMs)),
  );
  li.append(row);
  if (s.error) {
    const err = span('error', s.error);
    err.setAttribute('role', 'note');
    li.append(err);
  }
  li.setAttribute(
    'aria-label',
    `${s.caller} calls ${s.host ? `host function ${s.host}` : `${s.calleeName} ${s.func}`}${s.bound ? ` through bound import ${s.bound}` : ''}, in ${s.inputBytes} bytes, out ${s.outputBytes} bytes, ${s.status === 'running' ? 'running' : formatMs(s.durationMs)}, ${s.status}${s.error ? `: ${s.error}` : ''}`,
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

function renderTimeline(index: Map<number | null, Item[]>): void {
  const roots = (index.get(null) ?? []).filter((i): i is Extract<Item, { kind: 'span' }> => i.kind === 'span');
  const root = (selected !== null ? rootOf(selected) : undefined) ?? roots[roots.length - 1]?.span;
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

// ---- rendering, throttled to one per frame ----

let frame = 0;
function scheduleRender(): void {
  if (!frame) frame = requestAnimationFrame(render);
}

function render(): void {
  frame = 0;
  const index = childrenIndex();
  renderToolbar();
  renderTree(index);
  renderTimeline(index);
  if (!reportRenders) return;
  const all = [...spans.values()];
  vscode.postMessage({
    type: 'rendered',
    spans: all.length,
    running: all.filter((s) => s.status === 'running').length,
    errors: all.filter((s) => s.status === 'error').length,
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
  vscode.setState({ collapsed: [...collapsed], selected });
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
    saveState();
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
  scheduleRender();
});

renderToolbar();
vscode.postMessage({ type: 'ready' });
