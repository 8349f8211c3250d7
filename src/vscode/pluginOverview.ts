import * as path from 'node:path';
import * as vscode from 'vscode';
import { importServed, importServer, kernelPlan, splitExports, summarizeModule } from '../core';
import type { ImportContext, ImportServer, ModuleSummary, PluginHost, PluginInfo, ServedImport } from '../core';
import type { FromOverview, OverviewData, OverviewExport, ToOverview } from '../shared/overviewProtocol';
import { dispatch, Handlers } from '../shared/protocol';
import { SHOW_RUNTIME_EXPORTS, showRuntimeExports } from './exportsShown';
import { liveFromFile } from './pluginFiles';
import { showWebviewPage, WebviewPage } from './webviewHtml';
import { WebviewMessageLog } from './webviewMessageLog';

export const OVERVIEW_VIEW_TYPE = 'extismIpc.pluginOverview';
const KEPT_MESSAGES = 100;
/** Changes of live plugins, the file or the settings are coalesced into one refresh. */
const REFRESH_MS = 150;

/** The messages between overviews and their webviews (kept only under ExtensionMode.Test). */
export class OverviewMessageLog extends WebviewMessageLog<ToOverview, FromOverview> {
  constructor() {
    super(KEPT_MESSAGES);
  }
}

/**
 * The overview of a `.wasm` (a read-only custom editor, instead of the binary-file warning): its
 * exports with a Call button each, its imports and who serves them here, its memory, size, debug
 * information and PDK. The module is read (bounded) in the core's `summarizeModule`; nothing runs.
 */
export class PluginOverviewProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly host: PluginHost,
    private readonly extensionUri: vscode.Uri,
    private readonly messageLog?: OverviewMessageLog,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    showWebviewPage(panel.webview, this.extensionUri, OVERVIEW_PAGE);
    const uri = document.uri;
    let ready = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let generation = 0;
    const post = (message: ToOverview) => {
      this.messageLog?.sent(message);
      void panel.webview.postMessage(message);
    };
    const send = async () => {
      const mine = ++generation;
      const message = await this.message(uri);
      // a later refresh started meanwhile: its message wins
      if (mine === generation && ready) post(message);
    };
    const refreshSoon = () => {
      if (!ready || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void send();
      }, REFRESH_MS);
    };
    const run = (command: string, ...args: unknown[]) => void vscode.commands.executeCommand(command, ...args).then(undefined, () => undefined);
    const handlers: Handlers<FromOverview> = {
      ready: () => {
        ready = true;
        void send();
      },
      // the commands report their own failures to the person (a toast, the log)
      call: (m) => run('extismIpc.callPlugin', uri, m.name),
      register: () => run('extismIpc.registerPlugin', uri),
      reveal: (m) => run('extismIpc.revealPlugin', m.pluginId),
      rendered: () => undefined,
    };
    const watcher = uri.scheme === 'file' ? vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath))) : undefined;
    const subscriptions: { dispose(): void }[] = [
      panel.webview.onDidReceiveMessage((m: unknown) => {
        dispatch(handlers, m);
        this.messageLog?.got(m);
      }),
      // hidden, the webview's document is discarded; it says `ready` again when shown
      panel.onDidChangeViewState(() => {
        if (!panel.visible) ready = false;
      }),
      this.host.onDidChangePlugins(refreshSoon),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['bindings', 'grants.wasi', 'hostFunctions'].some((k) => e.affectsConfiguration(`extismIpc.${k}`)) || e.affectsConfiguration(SHOW_RUNTIME_EXPORTS)) refreshSoon();
      }),
      ...(watcher ? [watcher, watcher.onDidChange(refreshSoon), watcher.onDidCreate(refreshSoon), watcher.onDidDelete(refreshSoon)] : []),
    ];
    panel.onDidDispose(() => {
      if (timer) clearTimeout(timer);
      for (const s of subscriptions.splice(0)) s.dispose();
    });
  }

  /** What the webview shows for the file now: its overview, or why it cannot be read. */
  private async message(uri: vscode.Uri): Promise<ToOverview> {
    const reportRenders = this.messageLog !== undefined;
    const fileName = path.basename(uri.path);
    const shown = uri.scheme === 'file' ? vscode.workspace.asRelativePath(uri) : uri.toString();
    const problem = (error: string, size: number | null = null): ToOverview => ({ type: 'problem', fileName, path: shown, size, error, reportRenders });
    let bytes: Uint8Array;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      const max = this.host.currentPolicy.maxModuleBytes;
      if (stat.size > max) return problem(`the file is larger than extismIpc.limits.maxModuleBytes (${max} bytes); it is not read`, stat.size);
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch (error) {
      return problem(`the file could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    const summary = summarizeModule(bytes);
    if (!summary.ok) return problem(summary.error, summary.size);
    const file = uri.scheme === 'file' ? uri.fsPath : undefined;
    const live = file === undefined ? undefined : liveFromFile(this.host, file);
    const context = await this.importContext(fileName, live);
    return { type: 'overview', data: overviewData(summary, fileName, shown, live, context, kernelPlan(bytes)), reportRenders };
  }

  /** Who can serve imports here: the live plugin's own view of it, else the settings and loaded host functions. */
  private async importContext(fileName: string, live: PluginInfo | undefined): Promise<ImportContext> {
    const policy = this.host.currentPolicy;
    const name = live?.name ?? fileName.replace(/\.wasm$/i, '');
    const bindings = Object.hasOwn(policy.bindings, name) ? policy.bindings[name] : [];
    if (live) return { wasi: live.grants.wasi, bindings, hostFunctions: live.hostFunctions };
    let hostFunctions: ServedImport[] = [];
    try {
      hostFunctions = await this.host.hostFunctions();
    } catch {
      // a module that did not load serves nothing; the log already says why
    }
    return { wasi: policy.wasi, bindings, hostFunctions };
  }
}

/** The core's summary as the webview shows it: own exports first, each import with who serves it. */
export function overviewData(s: ModuleSummary, fileName: string, shown: string, live: PluginInfo | undefined, context: ImportContext, kernel: OverviewData['kernel']): OverviewData {
  const functions = s.exports.filter((e) => e.kind === 'function').map((e) => e.name);
  const { own, runtime } = splitExports(functions);
  const runtimeSet = new Set(runtime);
  const exports: OverviewExport[] = [
    ...own.map((name) => ({ name, kind: 'function', runtime: false })),
    ...s.exports.filter((e) => e.kind !== 'function' || runtimeSet.has(e.name)).map((e) => ({ name: e.name, kind: e.kind, runtime: true })),
  ];
  return {
    fileName,
    path: shown,
    size: s.size,
    live: live ? { id: live.id, name: live.name } : null,
    exports,
    moreExports: s.moreExports,
    showRuntimeExports: showRuntimeExports(),
    imports: s.imports
      .map((imp) => {
        const server = importServer(imp, context);
        return { module: imp.module, name: imp.name, kind: imp.kind, type: imp.type, server: describeServer(server, imp.kind), served: importServed(server), kernel: server.kind === 'kernel' };
      })
      .sort((a, b) => rank(a) - rank(b)),
    moreImports: s.moreImports,
    functions: s.functions,
    memories: s.memories,
    hasNameSection: s.hasNameSection,
    dwarf: s.dwarf,
    externalDebugInfo: s.externalDebugInfo,
    producers: Object.entries(s.producers ?? {}),
    pdk: s.pdk,
    customSections: s.customSections,
    usesExtism: s.usesExtism,
    kernel,
  };
}

/** Imports nobody serves first, then the others, then the kernel's (`sort` keeps the module's order within each). */
function rank(i: { served: boolean; kernel: boolean }): number {
  return !i.served ? 0 : i.kernel ? 2 : 1;
}

function describeServer(server: ImportServer, kind: string): string {
  switch (server.kind) {
    case 'kernel':
      return 'Extism kernel (extism:host/env)';
    case 'host':
      return server.what === 'abort' ? 'this host (AssemblyScript abort: the message becomes the error)' : `this host's ${server.what}`;
    case 'wasi':
      return server.granted ? 'WASI (granted)' : 'WASI, not granted: the plugin will not load (extismIpc.grants.wasi)';
    case 'linked':
      return `linked module "${server.module}"`;
    case 'binding':
      return `binding to ${server.target}`;
    case 'hostFunction':
      return `host functions ${path.basename(server.file)}`;
    case 'nobody':
      return kind === 'function' ? 'nobody: the plugin will not load' : `nobody (this host offers no ${kind} imports): the plugin will not load`;
  }
}

const OVERVIEW_PAGE: WebviewPage = {
  title: 'Extism Plugin Overview',
  script: 'overview.js',
  style: 'overview.css',
  body: '<main id="root" aria-live="polite"><p class="muted">Reading the module…</p></main>',
};
