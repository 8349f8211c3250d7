// The plugin overview (the custom editor of a `.wasm`): exports with a Call button each, imports and
// who serves them, memory, debug information, PDK. Every text that comes from the module is set with
// textContent; the data comes from the extension after `ready`.
import { dispatch } from '../../src/shared/protocol';
import type { Handlers } from '../../src/shared/protocol';
import type { FromOverview, OverviewData, OverviewExport, OverviewImport, OverviewMemory, ToOverview } from '../../src/shared/overviewProtocol';
import { formatBytes } from './format';
import { vscodeApi } from './vscodeApi';

/** UI state only: which folded sections the person opened or closed. */
interface UiState {
  open: Record<string, boolean>;
}

const vscode = vscodeApi<FromOverview, UiState>();
const ui: UiState = vscode.getState() ?? { open: {} };
const root = document.getElementById('root') as HTMLElement;

/** An element with a class and its text (never markup). */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function append(parent: HTMLElement, ...children: (Node | string | null)[]): HTMLElement {
  for (const c of children) if (c !== null) parent.append(c);
  return parent;
}

function section(title: string, count: string | null, ...body: (Node | null)[]): HTMLElement {
  const s = h('section', 'block');
  const head = append(h('h2'), title);
  if (count) head.append(h('span', 'count', count));
  return append(s, head, ...body);
}

/** A folded part that remembers whether the person opened it. */
function folded(key: string, summary: string, openByDefault: boolean, ...body: Node[]): HTMLDetailsElement {
  const d = h('details');
  d.open = ui.open[key] ?? openByDefault;
  d.append(h('summary', undefined, summary), ...body);
  d.addEventListener('toggle', () => {
    ui.open[key] = d.open;
    vscode.setState(ui);
  });
  return d;
}

function exportRow(e: OverviewExport): HTMLElement {
  const row = h('li', 'row');
  row.append(h('span', 'name mono', e.name));
  if (e.kind !== 'function') row.append(h('span', 'tag', e.kind));
  if (e.kind === 'function') {
    const call = h('button', 'call', 'Call…');
    call.type = 'button';
    call.title = `Call ${e.name} (registers the plugin if it is not live, then asks for the input)`;
    call.addEventListener('click', () => vscode.postMessage({ type: 'call', name: e.name }));
    row.append(call);
  }
  return row;
}

function memoryText(m: OverviewMemory): string {
  const pages = (n: number) => `${n} page${n === 1 ? '' : 's'} (${formatBytes(n * 65536)})`;
  const parts = [`initial ${pages(m.initial)}`, m.maximum === null ? 'no maximum' : `maximum ${pages(m.maximum)}`];
  if (m.shared) parts.push('shared');
  if (m.memory64) parts.push('64-bit');
  parts.push(m.imported ? `imported from ${m.imported}` : 'defined here');
  parts.push(m.exportedAs.length ? `exported as ${m.exportedAs.join(', ')}` : 'not exported');
  return parts.join(' · ');
}

function facts(rows: [string, string | Node][]): HTMLElement {
  const dl = h('dl', 'facts');
  for (const [k, v] of rows) dl.append(h('dt', undefined, k), typeof v === 'string' ? h('dd', undefined, v) : append(h('dd'), v));
  return dl;
}

function render(d: OverviewData, reportRenders: boolean): void {
  const own = d.exports.filter((e) => !e.runtime);
  const runtime = d.exports.filter((e) => e.runtime);
  const unserved = d.imports.filter((i) => !i.served);

  const header = h('header', 'head');
  header.append(h('h1', undefined, d.fileName), h('span', 'muted', `${d.path} · ${formatBytes(d.size)}`));
  const actions = h('div', 'actions');
  if (d.live) {
    const live = h('button', 'link', `live as #${d.live.id} ${d.live.name}`);
    live.type = 'button';
    live.title = 'Reveal it in Live Plugins';
    const id = d.live.id;
    live.addEventListener('click', () => vscode.postMessage({ type: 'reveal', pluginId: id }));
    actions.append(live);
  } else {
    const register = h('button', 'primary', 'Register Plugin');
    register.type = 'button';
    register.addEventListener('click', () => vscode.postMessage({ type: 'register' }));
    actions.append(register);
  }
  header.append(actions);

  const notes: HTMLElement[] = [];
  if (unserved.length) notes.push(h('p', 'warn', `${unserved.length} import${unserved.length === 1 ? '' : 's'} nobody serves here: the plugin will not load as things stand (see Imports).`));
  if (!d.usesExtism) notes.push(h('p', 'muted', 'It imports nothing from extism:host/env: it cannot read its input or set its output through Extism (not an Extism plugin, or one that only computes).'));

  const exportList = append(h('ul', 'list'), ...own.map(exportRow));
  if (!own.length) exportList.append(h('li', 'muted', 'No exports of its own.'));
  const runtimeList = append(h('ul', 'list'), ...runtime.map(exportRow));
  const exportsBody: Node[] = [exportList];
  if (runtime.length) exportsBody.push(folded('runtime', `PDK runtime and linker exports (${runtime.length})`, d.showRuntimeExports, runtimeList));
  if (d.moreExports) exportsBody.push(h('p', 'muted', `… and ${d.moreExports} more not listed`));

  const table = (list: OverviewImport[]) => {
    const t = h('table', 'imports');
    const head = t.createTHead().insertRow();
    for (const title of ['Import', 'Type', 'Served by']) head.append(h('th', undefined, title));
    const body = t.createTBody();
    for (const i of list) {
      const tr = body.insertRow();
      if (!i.served) tr.className = 'unserved';
      const name = append(h('td', 'mono'), h('span', 'module', `${i.module}.`), h('span', 'name', i.name));
      tr.append(name, h('td', 'mono muted', i.kind === 'function' ? (i.type ?? '') : i.kind), h('td', i.served ? 'server' : 'server warn', i.server));
    }
    return t;
  };
  const others = d.imports.filter((i) => !i.kernel);
  const kernel = d.imports.filter((i) => i.kernel);
  const importsBody: Node[] = [];
  if (others.length) importsBody.push(table(others));
  if (kernel.length) importsBody.push(folded('kernel', `Extism kernel, extism:host/env (${kernel.length}): ${kernel.map((i) => i.name).join(', ')}`, !others.length, table(kernel)));
  if (!d.imports.length) importsBody.push(h('p', 'muted', 'No imports.'));
  if (d.moreImports) importsBody.push(h('p', 'muted', `… and ${d.moreImports} more not listed`));

  const pdk = d.pdk ? append(h('span'), h('strong', undefined, d.pdk.language), d.pdk.evidence.length ? h('span', 'muted', ` — ${d.pdk.evidence.join(', ')}`) : null) : h('span', 'muted', 'not recognised');
  const debug = [d.hasNameSection ? 'name section (function names in traps)' : 'no name section', d.dwarf.length ? `DWARF: ${d.dwarf.join(', ')}` : 'no DWARF'];
  if (d.externalDebugInfo) debug.push(`debug information elsewhere: ${d.externalDebugInfo}`);
  const module = facts([
    ['PDK', pdk],
    ['Size', `${formatBytes(d.size)} · ${d.functions} function${d.functions === 1 ? '' : 's'} defined`],
    ['Memory', d.memories.length ? d.memories.map(memoryText).join('\n') : 'none'],
    ['Debug', debug.join(' · ')],
    ...(d.kernel ? [['Kernel', d.kernel.merged ? `merged into the module here (${d.kernel.why}): its input and output calls run inlined` : `an instance of its own here: ${d.kernel.why}`] as [string, string]] : []),
    ...d.producers.map(([field, values]): [string, string] => [`Producers: ${field}`, values.join(', ')]),
  ]);
  const custom = d.customSections.length
    ? folded('custom', `Custom sections (${d.customSections.length})`, false, append(h('ul', 'list'), ...d.customSections.map((c) => append(h('li', 'row'), h('span', 'name mono', c.name), h('span', 'muted', formatBytes(c.size))))))
    : null;

  root.replaceChildren(
    header,
    ...notes,
    section('Exports', `${own.length}${runtime.length ? ` + ${runtime.length} runtime` : ''}`, ...exportsBody),
    section('Imports', `${d.imports.length + d.moreImports}`, ...importsBody),
    section('Module', null, module, custom),
  );
  if (reportRenders) vscode.postMessage({ type: 'rendered', exports: own.length, runtimeExports: runtime.length, imports: d.imports.length, unserved: unserved.length, problem: null });
}

const handlers: Handlers<ToOverview> = {
  overview: (m) => render(m.data, m.reportRenders),
  problem: (m) => {
    const header = append(h('header', 'head'), h('h1', undefined, m.fileName), h('span', 'muted', m.size === null ? m.path : `${m.path} · ${formatBytes(m.size)}`));
    root.replaceChildren(header, append(h('p', 'error'), h('strong', undefined, 'This file cannot be shown as a plugin: '), m.error));
    if (m.reportRenders) vscode.postMessage({ type: 'rendered', exports: 0, runtimeExports: 0, imports: 0, unserved: 0, problem: m.error });
  },
};

window.addEventListener('message', (event: MessageEvent<unknown>) => dispatch(handlers, event.data));
vscode.postMessage({ type: 'ready' });
