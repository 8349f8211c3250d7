// The rows of the panel's tree: a call (status, caller, callee, sizes, previews, duration, fuel, its
// error) or a plugin's life event, nested by caller. Plugin text goes in through textContent only.
import type { LifeView, SpanView } from '../../src/shared/protocol';
import { calleeLabel } from '../../src/shared/traceRecords';
import type { Item, Shown } from './callTreeIndex';
import { formatBytes, formatFuel, formatMs, span } from './format';

/** What the rows show besides the calls: which are collapsed, which is selected, what the filter shows. */
export interface RowState {
  collapsed: ReadonlySet<number>;
  selected: number | null;
  shown: Shown;
}

function spanRow(s: SpanView, level: number, hasChildren: boolean, state: RowState): HTMLLIElement {
  const li = document.createElement('li');
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.key = `s${s.id}`;
  li.dataset.span = String(s.id);
  li.dataset.plugin = String(s.calleeId);
  li.tabIndex = -1;
  if (hasChildren) li.setAttribute('aria-expanded', String(!state.collapsed.has(s.id)));
  li.setAttribute('aria-selected', String(state.selected === s.id));
  const row = document.createElement('div');
  row.className = `row status-${s.status}${state.shown?.get(s.id) === false ? ' context' : ''}`;
  row.append(
    span('twisty', hasChildren ? (state.collapsed.has(s.id) ? '▸' : '▾') : ''),
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

/** The tree's rows from the index, nested in groups; a collapsed call's calls are left out. */
export function treeRows(index: ReadonlyMap<number | null, Item[]>, state: RowState): DocumentFragment {
  const frag = document.createDocumentFragment();
  const walk = (parent: number | null, into: Node, level: number) => {
    for (const item of index.get(parent) ?? []) {
      if (item.kind === 'life') {
        into.appendChild(lifeRow(item.event, level));
        continue;
      }
      const kids = index.get(item.span.id) ?? [];
      const li = spanRow(item.span, level, kids.length > 0, state);
      into.appendChild(li);
      if (kids.length && !state.collapsed.has(item.span.id)) {
        const group = document.createElement('ul');
        group.setAttribute('role', 'group');
        li.append(group);
        walk(item.span.id, group, level + 1);
      }
    }
  };
  walk(null, frag, 1);
  return frag;
}
