import * as path from 'node:path';
import * as vscode from 'vscode';
import { kernelPathLine, PluginHost, RuntimeTransport } from './core';
import { registerCallFileLens } from './vscode/callFileLens';
import { CallFileTests } from './vscode/callFileTests';
import { ReloadOnChange } from './vscode/reloadOnChange';
import { createApi, ExtismIpcApi } from './vscode/api';
import { registerCommands } from './vscode/commands';
import type { MadeCall } from './vscode/commands';
import { registerRecordCalls } from './vscode/recordCalls';
import { CallDebugger, registerDebugCall } from './vscode/debugCall';
import { registerProfileCommand } from './vscode/profileCommand';
import { TrapDiagnostics } from './vscode/trapDiagnostics';
import { watchHost } from './vscode/hostEvents';
import { trackContextKeys } from './vscode/contextKeys';
import { Log } from './vscode/log';
import { recordNotifications } from './vscode/notify';
import { PluginNode, PluginTreeProvider } from './vscode/pluginTree';
import { onDidChangeSettings, readSettings } from './vscode/settings';
import { StatusBar } from './vscode/statusBar';
import { CALLS_VIEW, PanelMessageLog, registerPanelCommands, TracePanel } from './vscode/tracePanel';
import { applySettings, createHost } from './vscode/hostSettings';
import { HostFunctionsWatch } from './vscode/hostFunctionsWatch';
import { OutputDocuments } from './vscode/output';
import { CallDetails } from './vscode/callDetail';
import { CallHistory } from './vscode/callHistory';
import { InputEditors } from './vscode/inputEditor';
import { OVERVIEW_VIEW_TYPE, OverviewMessageLog, PluginOverviewProvider } from './vscode/pluginOverview';

let host: PluginHost | undefined;

/** Builds the core from the settings, then the views, then the commands. */
export function activate(context: vscode.ExtensionContext): ExtismIpcApi {
  const started = performance.now();
  const log = new Log();
  const samplesDir = vscode.Uri.joinPath(context.extensionUri, 'plugins').fsPath;
  // modules other extensions add through the API: their code, loaded whatever the workspace trust
  const apiHostFunctions: string[] = [];
  const currentSettings = () => {
    const s = readSettings(samplesDir);
    s.options.hostFunctions = [...(s.options.hostFunctions ?? []), ...apiHostFunctions];
    return s;
  };
  const settings = currentSettings();
  // The runtime in a process of its own, as language servers run: its death never takes the
  // extension host (and every other extension) with it.
  const runtime = context.asAbsolutePath(path.join('dist', 'runtime.js'));
  const transport: RuntimeTransport = { kind: 'child-process', entry: runtime, onStderr: (text) => log.runtimeOutput(text) };
  host = createHost(settings, log, transport);
  const h = host;
  const underTest = context.extensionMode === vscode.ExtensionMode.Test;
  const messages = underTest ? new PanelMessageLog() : undefined;
  const overviewMessages = underTest ? new OverviewMessageLog() : undefined;

  const debugging = new CallDebugger(log, context.extensionPath);
  const callTests = new CallFileTests(samplesDir, transport, log, debugging);
  const tree = new PluginTreeProvider(h);
  const treeView = vscode.window.createTreeView<PluginNode>('extismIpc.livePlugins', { treeDataProvider: tree, showCollapseAll: true });
  const outputs = new OutputDocuments((id) => h.plugin(id) !== undefined);
  const panel = new TracePanel(h, context.extensionUri, maxSpans, new CallDetails(h, log), messages);
  const status = new StatusBar(h);
  const hostFunctionsWatch = new HostFunctionsWatch(() => update());
  /** Applies the settings as they are now; resolves once the runtime has them (false: refused, said). */
  const apply = (): Promise<boolean> => {
    const fresh = currentSettings();
    hostFunctionsWatch.watch(fresh.options.hostFunctions ?? []);
    return applySettings(h, fresh, log, treeView);
  };
  const update = (): void => void apply();
  const applyNow = async (): Promise<void> => {
    if (!(await apply())) throw new Error('the settings were not applied (the log says why)');
  };
  const inputEditors = new InputEditors();
  const callsMade = new vscode.EventEmitter<MadeCall>();
  const history = new CallHistory(context.workspaceState, () => void vscode.commands.executeCommand('setContext', 'extismIpc.hasLastCall', true));
  hostFunctionsWatch.watch(settings.options.hostFunctions ?? []);
  void applySettings(h, settings, log, treeView, false);

  context.subscriptions.push(
    log,
    tree,
    treeView,
    panel,
    outputs,
    status,
    vscode.window.registerWebviewViewProvider(CALLS_VIEW, panel),
    ...registerPanelCommands(panel, h),
    inputEditors,
    ...registerCommands({ host: h, log, samplesDir, tree, treeView, panel, outputs, history, inputEditors, applySettings: applyNow, callsMade }),
    ...registerDebugCall({ host: h, log, debugging }),
    registerProfileCommand(h, log, vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'profiles')),
    new TrapDiagnostics(h),
    vscode.window.registerCustomEditorProvider(OVERVIEW_VIEW_TYPE, new PluginOverviewProvider(h, context.extensionUri, overviewMessages), {
      supportsMultipleEditorsPerDocument: true,
    }),
    watchHost(h, log),
    callTests,
    new ReloadOnChange(h, log),
    hostFunctionsWatch,
    ...registerCallFileLens(h, log, outputs, panel, callTests, samplesDir, callsMade),
    callsMade,
    ...registerRecordCalls(callsMade.event, log, samplesDir),
    trackContextKeys(h),
    onDidChangeSettings(update),
  );
  const activationMs = performance.now() - started;
  // the extension's internals, for its own tests only: the test runner alone switches this on
  const testing = messages && overviewMessages && { activationMs, policy: () => h.currentPolicy, tree, treeView, panel, messages, overviewMessages, callTests, notifications: recordNotifications() };
  const addHostFunctions = async (file: string): Promise<vscode.Disposable> => {
    if (!path.isAbsolute(file)) throw new Error(`addHostFunctions: "${file}" is not an absolute path`);
    apiHostFunctions.push(file);
    const remove = () => {
      const i = apiHostFunctions.indexOf(file);
      if (i >= 0) apiHostFunctions.splice(i, 1);
      update();
    };
    update();
    try {
      await h.hostFunctions();
    } catch (error) {
      remove();
      throw error;
    }
    return new vscode.Disposable(remove);
  };
  const { api, disposables } = createApi(h, addHostFunctions, testing);
  context.subscriptions.push(...disposables, ...(messages ? [messages] : []), ...(overviewMessages ? [overviewMessages] : []));
  // the runtime's process runs on the same binary as this one (Electron's Node), so the same V8
  log.info(`activated in ${activationMs.toFixed(1)} ms; ${kernelPathLine()}; plugin directories: ${settings.options.pluginDirs?.join(', ')}`);
  return api;
}

function maxSpans(): number {
  return vscode.workspace.getConfiguration('extismIpc').get<number>('trace.maxSpans', 2000);
}

/** Closes every plugin and ends the runtime process. */
export async function deactivate(): Promise<void> {
  const h = host;
  host = undefined;
  await h?.dispose();
}
