import * as vscode from 'vscode';
import { visibleText } from '../core';
import type { PluginHost, PluginInfo } from '../core';
import { code, joinMarkdown, Markdown, markdownString, md } from './markdown';
import { SHOW_RUNTIME_EXPORTS, shownExports } from './exportsShown';

/** A node of the Live Plugins tree: a plugin, or one export of a plugin. */
export type PluginNode =
  | { kind: 'plugin'; id: number }
  | { kind: 'export'; pluginId: number; name: string };

/** contextValues; package.json's menus are gated on them. */
export const CONTEXT = { root: 'plugin.root', spawned: 'plugin.spawned', export: 'export' } as const;

/**
 * The process tree of live plugins: a plugin spawned by another is its child. It only maps the
 * host's "plugins changed" events to `onDidChangeTreeData`; commands change the host, never the tree.
 */
export class PluginTreeProvider implements vscode.TreeDataProvider<PluginNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<PluginNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly nodes = new Map<number, PluginNode>();
  private readonly exportNodes = new Map<string, PluginNode>();
  private readonly subscription: { dispose(): void };
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: PluginHost) {
    const plugins = host.onDidChangePlugins(() => this.refreshSoon());
    const setting = vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(SHOW_RUNTIME_EXPORTS) && this.refreshSoon());
    this.subscription = { dispose: () => [plugins, setting].forEach((d) => d.dispose()) };
  }

  /** Coalesces a burst of changes (a spawn bomb, a call counter per nested call) into one refresh. */
  private refreshSoon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire(undefined);
    }, 30);
  }

  /** The same node object for the same plugin, so `TreeView.reveal` and selections stay stable. */
  pluginNode(id: number): PluginNode {
    let node = this.nodes.get(id);
    if (!node) {
      node = { kind: 'plugin', id };
      this.nodes.set(id, node);
    }
    return node;
  }

  private exportNode(pluginId: number, name: string): PluginNode {
    const key = `${pluginId}:${name}`;
    let node = this.exportNodes.get(key);
    if (!node) {
      node = { kind: 'export', pluginId, name };
      this.exportNodes.set(key, node);
    }
    return node;
  }

  getChildren(node?: PluginNode): PluginNode[] {
    const plugins = this.host.plugins();
    if (!node) {
      const live = new Set(plugins.map((p) => p.id));
      for (const id of this.nodes.keys()) if (!live.has(id)) this.nodes.delete(id);
      for (const [key, n] of this.exportNodes) if (n.kind === 'export' && !live.has(n.pluginId)) this.exportNodes.delete(key);
      return plugins.filter((p) => p.parentId === null || !live.has(p.parentId)).map((p) => this.pluginNode(p.id));
    }
    if (node.kind === 'export') return [];
    const plugin = this.host.plugin(node.id);
    if (!plugin) return [];
    return [
      ...plugins.filter((p) => p.parentId === plugin.id).map((p) => this.pluginNode(p.id)),
      ...shownExports(plugin.exports).map((name) => this.exportNode(plugin.id, name)),
    ];
  }

  getParent(node: PluginNode): PluginNode | undefined {
    if (node.kind === 'export') return this.pluginNode(node.pluginId);
    const parentId = this.host.plugin(node.id)?.parentId;
    return parentId != null && this.host.plugin(parentId) ? this.pluginNode(parentId) : undefined;
  }

  getTreeItem(node: PluginNode): vscode.TreeItem {
    if (node.kind === 'export') return exportItem(node.pluginId, node.name);
    const plugin = this.host.plugin(node.id);
    if (!plugin) return new vscode.TreeItem(`#${node.id} (ended)`);
    return pluginItem(plugin, this.host.plugins().some((p) => p.parentId === plugin.id));
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/**
 * A plugin's item. Labels and descriptions are plain text (string labels render no `$(icon)`), made
 * visible with `visibleText`; the tooltip is Markdown built only through `md` and `code`.
 */
function pluginItem(p: PluginInfo, hasChildren: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(
    visibleText(`#${p.id} ${p.name}`),
    hasChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = `plugin:${p.id}`;
  const calls = `${p.calls} call${p.calls === 1 ? '' : 's'}`;
  const badges = grantBadges(p);
  item.description = [p.errors ? `${calls}, ${p.errors} failed` : calls, ...badges].join(' · ');
  item.contextValue = p.parentId === null ? CONTEXT.root : CONTEXT.spawned;
  item.iconPath = new vscode.ThemeIcon(
    p.parentId === null ? 'plug' : 'type-hierarchy-sub',
    p.errors ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined,
  );
  const reloaded = p.reloadedAt === null ? '' : `, reloaded ${new Date(p.reloadedAt).toLocaleTimeString()}`;
  item.tooltip = markdownString(
    md`**#${p.id} ${p.name}**${p.parentId !== null ? md` — spawned by #${p.parentId}` : md``}`,
    md`file ${code(p.source)}`,
    md`exports: ${list(p.exports)}${more(p.unlisted.exports)}`,
    md`imports: ${list(p.imports)}${more(p.unlisted.imports)}`,
    ...(p.hostFunctions.length ? [md`host functions: ${servedBy(p)}`] : []),
    ...(p.manifest ? [md`manifest ${code(p.manifest)}`] : []),
    md`grants: ${describeGrants(p)}`,
    md`config: ${list(p.configKeys)}${more(p.unlisted.configKeys)}`,
    md`${calls}, ${p.errors} failed; loaded ${new Date(p.loadedAt).toLocaleTimeString()}${reloaded}`,
  );
  return item;
}

function grantBadges(p: PluginInfo): string[] {
  const badges: string[] = [];
  if (p.grants.wasi && p.imports.some((i) => i.startsWith('wasi_snapshot_preview1.'))) badges.push('WASI');
  if (p.grants.allowedHosts.length) badges.push('HTTP');
  if (Object.keys(p.grants.allowedPaths).length) badges.push('files');
  return badges;
}

function describeGrants(p: PluginInfo): Markdown {
  const paths = Object.entries(p.grants.allowedPaths).map(([h, g]) => md`${code(h)} → ${code(g)}`);
  return joinMarkdown(
    [
      md`WASI ${p.grants.wasi ? 'granted' : 'not granted'}`,
      md`hosts ${p.grants.allowedHosts.length ? list(p.grants.allowedHosts) : NONE}`,
      md`paths ${paths.length ? joinMarkdown(paths, ', ') : NONE}`,
      md`response headers ${p.grants.httpResponseHeaders ? 'shown' : 'not shown'}`,
    ],
    '; ',
  );
}

function exportItem(pluginId: number, name: string): vscode.TreeItem {
  const item = new vscode.TreeItem(visibleText(name), vscode.TreeItemCollapsibleState.None);
  item.id = `export:${pluginId}:${name}`;
  item.description = 'export';
  item.contextValue = CONTEXT.export;
  item.iconPath = new vscode.ThemeIcon('symbol-method');
  item.tooltip = visibleText(`Call ${name} of plugin #${pluginId}`);
  item.command = { command: 'extismIpc.callPlugin', title: 'Call…', arguments: [pluginId, name] };
  return item;
}

/** Which of its imports each host-function module serves: `kv.mjs`: `extism:host/user.kv_read`, ... */
function servedBy(p: PluginInfo): Markdown {
  const byFile = new Map<string, string[]>();
  for (const h of p.hostFunctions) byFile.set(h.file, [...(byFile.get(h.file) ?? []), h.import]);
  return joinMarkdown([...byFile].map(([file, imports]) => md`${list(imports)} from ${code(file)}`), '; ');
}

/** The note after a list the runtime bounded: how many entries it left out. */
function more(unlisted: number): string {
  return unlisted ? ` … (${unlisted} more)` : '';
}

const NONE = new Markdown('_none_');

function list(items: readonly string[]): Markdown {
  return items.length ? joinMarkdown(items.map(code), ', ') : NONE;
}
