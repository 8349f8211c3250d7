import * as vscode from 'vscode';
import type { LoadOptions, PluginHost, PluginInfo, PluginsChange, Policy, Span, TraceRecord } from '../core';
import type { PluginNode, PluginTreeProvider } from './pluginTree';
import type { CallFileTests } from './callFileTests';
import type { PanelMessageLog, TracePanel } from './tracePanel';
import type { OverviewMessageLog } from './pluginOverview';

/** What `activate()` returns: the host for other extensions (`getExtension('extism-ipc.extism-ipc').exports`). */
export interface ExtismIpcApi {
  readonly apiVersion: 1;
  /** Loads a `.wasm` path or a plugin name from the plugin directories. */
  register(target: string, options?: LoadOptions): Promise<PluginInfo>;
  /**
   * Calls an export; rejects with the error naming plugin, function and reason. `hostContext`
   * (structured-cloneable data) is what host functions' `callContext.hostContext()` returns during it.
   */
  call(id: number, func: string, input?: string | Uint8Array, hostContext?: unknown): Promise<Uint8Array>;
  /** Ends a plugin and the plugins it spawned. */
  unregister(id: number): Promise<void>;
  /**
   * Adds a JS module (an absolute path) that supplies host functions, in the shape
   * `@extism/extism`'s `createPlugin` takes as `functions`, after the setting's modules; resolves
   * once it is loaded (rejects naming why it did not load). Dispose to take it away again.
   */
  addHostFunctions(file: string): Promise<vscode.Disposable>;
  /** The live plugins, by id. */
  plugins(): PluginInfo[];
  /** Ended spans kept in the ring buffer, oldest first, and the ones still running. */
  spans(): Span[];
  runningSpans(): Span[];
  readonly onDidChangePlugins: vscode.Event<PluginsChange>;
  /** A span started or ended, or a plugin started or ended. */
  readonly onDidRecord: vscode.Event<TraceRecord>;
  /** Only when the extension host runs this extension's own tests (ExtensionMode.Test); not an API. */
  readonly testing?: TestingHooks;
}

export interface TestingHooks {
  readonly activationMs: number;
  /** The policy in force (settings applied). */
  policy(): Policy;
  readonly tree: PluginTreeProvider;
  readonly treeView: vscode.TreeView<PluginNode>;
  readonly panel: TracePanel;
  readonly messages: PanelMessageLog;
  /** The messages between plugin overviews (the `.wasm` custom editor) and their webviews. */
  readonly overviewMessages: OverviewMessageLog;
  readonly callTests: CallFileTests;
  /** The text of every notification shown since activation, as VS Code got it. */
  readonly notifications: readonly string[];
}

export function createApi(
  host: PluginHost,
  addHostFunctions: ExtismIpcApi['addHostFunctions'],
  testing: TestingHooks | undefined,
): { api: ExtismIpcApi; disposables: vscode.Disposable[] } {
  const plugins = new vscode.EventEmitter<PluginsChange>();
  const records = new vscode.EventEmitter<TraceRecord>();
  const subs = [host.onDidChangePlugins((e) => plugins.fire(e)), host.trace.onRecord((r) => records.fire(r))];
  const api: ExtismIpcApi = {
    apiVersion: 1,
    register: (target, options) => host.register(target, options),
    call: (id, func, input, hostContext) => host.call(id, func, input, 'api', hostContext),
    unregister: (id) => host.unregister(id),
    addHostFunctions,
    plugins: () => host.plugins(),
    spans: () => host.trace.spans(),
    runningSpans: () => host.trace.runningSpans(),
    onDidChangePlugins: plugins.event,
    onDidRecord: records.event,
    ...(testing ? { testing } : {}),
  };
  return { api, disposables: [plugins, records, { dispose: () => subs.forEach((s) => s.dispose()) }] };
}
