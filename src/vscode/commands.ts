import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { splitExports, toChromeTrace } from '../core';
import type { PluginHost, PluginInfo } from '../core';
import { IpcError } from '../core';
import type { CallHistory, LastCall } from './callHistory';
import type { InputEditors } from './inputEditor';
import type { Log, ToastAction } from './log';
import { newCallFile } from './newCallFile';
import { confirmModal, showInformation, withNotificationProgress } from './notify';
import type { OutputDocuments } from './output';
import { pickExport, pickInput, pickPlugin, pickRegisterTarget } from './pickers';
import { remedyActions } from './remedies';
import type { RemedyServices } from './remedies';
import { livePluginOf, pluginFileOf } from './pluginFiles';
import type { PluginNode, PluginTreeProvider } from './pluginTree';
import type { TracePanel } from './tracePanel';

/** What the commands act on; they change the host, never the views (the views listen to the host). */
export interface CommandServices {
  host: PluginHost;
  log: Log;
  samplesDir: string;
  tree: PluginTreeProvider;
  treeView: vscode.TreeView<PluginNode>;
  panel: TracePanel;
  outputs: OutputDocuments;
  history: CallHistory;
  inputEditors: InputEditors;
  /** Reads the settings and applies them to the host now (a remedy changed them). */
  applySettings(): Promise<void>;
  /** Told of every call that Call Plugin, Call Again or a call file's Call lens made and that gave an output. */
  callsMade: vscode.EventEmitter<MadeCall>;
}

/** A top-level call made from the editor's commands, with what it gave back. */
export interface MadeCall {
  plugin: PluginInfo;
  func: string;
  input: Uint8Array;
  output: Uint8Array;
}

/** Calls that take longer than this get a progress notification. */
const PROGRESS_AFTER_MS = 400;

export const COMMANDS = {
  register: 'extismIpc.registerPlugin',
  call: 'extismIpc.callPlugin',
  unregister: 'extismIpc.unregisterPlugin',
  unregisterAll: 'extismIpc.unregisterAll',
  showTrace: 'extismIpc.showTrace',
  clearTrace: 'extismIpc.clearTrace',
  exportTrace: 'extismIpc.exportTrace',
  revealSource: 'extismIpc.revealSource',
  revealPlugin: 'extismIpc.revealPlugin',
  showLog: 'extismIpc.showLog',
  restartRuntime: 'extismIpc.restartRuntime',
  reload: 'extismIpc.reloadPlugin',
  trySample: 'extismIpc.tryBundledSample',
  callAgain: 'extismIpc.callAgain',
  newCallFile: 'extismIpc.newCallFile',
} as const;

export function registerCommands(s: CommandServices): vscode.Disposable[] {
  const remedies: RemedyServices = { host: s.host, applySettings: s.applySettings };
  const run = <T>(what: string, interactive: boolean, body: () => Promise<T>) => runCommand(s.log, what, interactive, body, remedies);

  /** Calls and shows the output; the call is kept for Call Again, and a typed input in the history. */
  const callAndShow = async (plugin: PluginInfo, func: string, input: string | Uint8Array, show: boolean, remember: boolean): Promise<string> => {
    const label = `#${plugin.id} ${plugin.name}.${func}`;
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    await s.history.recordCall(plugin, func, bytes, remember);
    const output = await withLateProgress(label, (signal) => s.host.call(plugin.id, func, input, 'command', undefined, { signal }));
    s.log.info(`${label}: in ${byteLength(input)} B, out ${output.byteLength} B`);
    s.callsMade.fire({ plugin, func, input: bytes, output });
    s.panel.revealCommandCall(plugin.id, func, input, output);
    if (show) await s.outputs.show({ pluginId: plugin.id, plugin: plugin.name, func }, output);
    return new TextDecoder().decode(output);
  };

  const pluginOf = async (arg: unknown, title: string): Promise<PluginInfo | undefined> => {
    const id = idOf(arg);
    if (id === undefined) return pickPlugin(s.host.plugins(), title);
    const plugin = s.host.plugin(id);
    if (!plugin) throw new Error(`no live plugin #${id}`);
    return plugin;
  };

  return [
    vscode.commands.registerCommand(COMMANDS.register, (arg?: unknown) => {
      // A target (a path, a plugin name or a Uri) comes from code. A person gives none: the palette
      // passes nothing and the view's title-bar button the focused tree item, and both ask.
      const target = typeof arg === 'string' || arg instanceof vscode.Uri ? arg : undefined;
      let chosen: string | undefined; // kept for a retry (Grant WASI and Retry), which does not ask again
      return run('Register Plugin', target === undefined, async () => {
        chosen ??= target === undefined ? await pickRegisterTarget(s.samplesDir, vscode.workspace.isTrusted) : targetPath(target);
        if (chosen === undefined) return undefined;
        checkTrust(chosen, s.samplesDir);
        const info = await s.host.register(chosen);
        s.log.info(`registered #${info.id} ${info.name} from ${info.source}`);
        if (target === undefined) {
          void s.treeView.reveal(s.tree.pluginNode(info.id), { select: true, focus: false }).then(undefined, () => undefined);
          void showInformation(`Extism: registered #${info.id} ${info.name} (${splitExports(info.exports).own.join(', ')})`);
        }
        return info.id;
      });
    }),

    vscode.commands.registerCommand(COMMANDS.trySample, () => {
      let chosen: string | undefined; // kept for a retry
      return run('Try a Bundled Sample', true, async () => {
        chosen ??= await pickRegisterTarget(s.samplesDir, vscode.workspace.isTrusted, true);
        if (chosen === undefined) return undefined;
        const info = await s.host.register(chosen);
        s.log.info(`registered #${info.id} ${info.name} from ${info.source}`);
        void s.treeView.reveal(s.tree.pluginNode(info.id), { select: true, focus: false }).then(undefined, () => undefined);
        void showInformation(`Extism: registered #${info.id} ${info.name} (${splitExports(info.exports).own.join(', ')})`);
        return info.id;
      });
    }),

    vscode.commands.registerCommand(
      COMMANDS.call,
      (idArg?: number | string | PluginNode | vscode.Uri, funcArg?: unknown, inputArg?: string | Uint8Array, options?: { showOutput?: boolean }) => {
        // the explorer's context menu passes (uri, selected uris): a function name is a string or nothing
        if (typeof funcArg !== 'string') funcArg = undefined;
        const file = pluginFileOf(idArg);
        const fromTree = typeof idArg === 'object' && idArg !== null;
        const interactive = fromTree || idArg === undefined || funcArg === undefined || inputArg === undefined;
        // what was chosen is kept for a retry (a remedy's "… and Retry"), which does not ask again
        let plugin: PluginInfo | undefined;
        let func = funcArg as string | undefined;
        let input = inputArg;
        return run('Call Plugin', interactive, async () => {
          // a file (explorer, overview): its live plugin, registered first if it is not live
          plugin ??= file !== undefined ? await livePluginOf(s.host, file) : await pluginOf(idArg, 'Extism: Call Plugin');
          if (!plugin) return undefined;
          plugin = s.host.plugin(plugin.id) ?? plugin; // reloaded by a remedy: the same id, new grants
          func ??= isExportNode(idArg) ? idArg.name : await pickExport(plugin);
          if (func === undefined) return undefined;
          const picked = input === undefined;
          input ??= await pickInput(`#${plugin.id} ${plugin.name}.${func}`, {
            recent: s.history.recentInputs(plugin.name, func),
            writeJson: () => s.inputEditors.write(),
          });
          if (input === undefined) return undefined;
          return callAndShow(plugin, func, input, options?.showOutput ?? interactive, picked);
        });
      },
    ),

    vscode.commands.registerCommand(COMMANDS.callAgain, () => {
      let plugin: PluginInfo | undefined;
      return run('Call Again', true, async () => {
        const last = s.history.lastCall();
        if (!last) throw new Error('Call Again: no call was made yet; use Call Plugin… first');
        plugin ??= await livePluginFor(last);
        return callAndShow(s.host.plugin(plugin.id) ?? plugin, last.func, last.input, true, false);
      });
    }),

    vscode.commands.registerCommand(COMMANDS.newCallFile, (name?: unknown) =>
      // a name from code (a keybinding, another extension) skips the input box; a person is asked
      run('New Call File', typeof name !== 'string', () => newCallFile(s.host, s.samplesDir, s.history.lastCall(), typeof name === 'string' ? name : undefined)),
    ),

    vscode.commands.registerCommand(COMMANDS.unregister, (arg?: number | PluginNode) =>
      run('Unregister Plugin', arg === undefined || typeof arg === 'object', async () => {
        const plugin = await pluginOf(arg, 'Extism: Unregister Plugin');
        if (!plugin) return;
        await s.host.unregister(plugin.id);
        s.log.info(`unregistered #${plugin.id} ${plugin.name}`);
      }),
    ),

    vscode.commands.registerCommand(COMMANDS.unregisterAll, () =>
      run('Unregister All', true, async () => {
        const n = s.host.plugins().length;
        await s.host.unregisterAll();
        s.log.info(`unregistered all (${n} plugins)`);
      }),
    ),

    vscode.commands.registerCommand(COMMANDS.showTrace, () => run('Show Trace', true, () => s.panel.reveal())),

    vscode.commands.registerCommand(COMMANDS.clearTrace, () =>
      run('Clear Trace', true, async () => {
        s.host.trace.clear();
      }),
    ),

    vscode.commands.registerCommand(COMMANDS.exportTrace, (arg?: unknown) => {
      // a file from code; from a person (the palette, the panel's button) nothing: ask where
      const target = typeof arg === 'string' || arg instanceof vscode.Uri ? arg : undefined;
      return run('Export Trace', target === undefined, async () => {
        const uri = target === undefined ? await askExportTarget() : typeof target === 'string' ? vscode.Uri.file(target) : target;
        if (!uri) return undefined;
        const json = JSON.stringify(toChromeTrace(s.host.trace.all()), null, 1);
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(json));
        s.log.info(`exported ${s.host.trace.spans().length} spans to ${uri.fsPath}`);
        if (target === undefined) void showInformation(`Extism: trace saved to ${path.basename(uri.fsPath)} (open it in Perfetto or chrome://tracing)`);
        return uri;
      });
    }),

    vscode.commands.registerCommand(COMMANDS.revealSource, (arg?: number | PluginNode) =>
      run('Reveal Source', arg === undefined || typeof arg === 'object', async () => {
        const plugin = await pluginOf(arg, 'Extism: Reveal Source');
        if (!plugin) return;
        await revealSource(plugin.source);
      }),
    ),

    vscode.commands.registerCommand(COMMANDS.reload, (arg?: unknown) =>
      run('Reload Plugin', arg === undefined || typeof arg === 'object', async () => {
        const plugin = await pluginOf(arg, 'Plugin to reload from its files');
        if (!plugin) return undefined;
        const info = await s.host.reload(plugin.id);
        s.log.info(`reloaded #${info.id} ${info.name} from ${info.source}`);
        return info.id;
      }),
    ),

    // only the panel's plugin links call it, for a person who clicked one
    vscode.commands.registerCommand(COMMANDS.revealPlugin, (id: number) =>
      run('Reveal Plugin', true, async () => {
        if (!s.host.plugin(id)) throw new Error(`no live plugin #${id}`);
        await s.treeView.reveal(s.tree.pluginNode(id), { select: true, focus: true, expand: true });
      }),
    ),

    vscode.commands.registerCommand(COMMANDS.showLog, () => s.log.show()),

    // a person (no argument: the palette, the view's title button) confirms; code passes { confirm: false }
    vscode.commands.registerCommand(COMMANDS.restartRuntime, (arg?: unknown) =>
      run('Restart Plugin Runtime', true, async () => {
        const n = s.host.plugins().length;
        const calls = s.host.runningCalls;
        const asked = !(typeof arg === 'object' && arg !== null && (arg as { confirm?: unknown }).confirm === false);
        if (asked && (n > 0 || calls > 0)) {
          const plugins = n === 1 ? '1 plugin' : `${n} plugins`;
          const running = calls ? `, and ${calls === 1 ? 'the call' : `the ${calls} calls`} under way will fail` : '';
          const detail = `Their vars are lost${running}. To stop one long call, use Cancel on its progress notification instead.`;
          if (!(await confirmModal(`Restart the plugin runtime? ${plugins} will be unloaded.`, detail, 'Restart'))) return;
        }
        await s.host.restart(asked ? 'restarted by a person' : 'restarted');
        s.log.warn(`plugin runtime restarted by request; ${n} plugins unloaded`);
      }),
    ),
  ];

  /** The last call's plugin: by id while it is live, else a live one from its source, else registered again. */
  async function livePluginFor(last: LastCall): Promise<PluginInfo> {
    const same = s.host.plugin(last.pluginId);
    if (same && same.source === last.source) return same;
    const other = s.host.plugins().find((p) => p.source === last.source && p.parentId === null);
    if (other) return other;
    checkTrust(last.source, s.samplesDir);
    const info = await s.host.register(last.source);
    s.log.info(`registered #${info.id} ${info.name} from ${info.source} to call it again`);
    return info;
  }

  /** In Restricted Mode only the bundled samples run: refuse a path outside them, saying why. */
  function checkTrust(target: string, samplesDir: string): void {
    if (vscode.workspace.isTrusted || !/[\\/]/.test(target)) return;
    const rel = path.relative(samplesDir, path.resolve(target));
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new Error(`register: ${path.basename(target)} is not run: this workspace is not trusted (Restricted Mode), only the bundled samples are`);
    }
  }
}

/**
 * Runs a command's body. Failures are logged with their detail. A person (interactive: the palette,
 * a menu, a CodeLens, the tree) gets one notification, with the actions that fix it (from the
 * error's remedy: a grant and Retry, a host-function module; Open Settings for the setting the
 * message names) and Show Log, and the command resolves with undefined: a rejection would make VS
 * Code show the same failure again ("Command … resulted in an error"). A retry runs the same body
 * again, which keeps what was chosen. A cancellation (a dismissed picker returns undefined; Cancel
 * on a progress notification throws vscode.CancellationError) shows nothing. Code that passed the
 * arguments gets the rejection.
 */
export async function runCommand<T>(log: Log, what: string, interactive: boolean, body: () => Promise<T>, remedies?: RemedyServices): Promise<T | undefined> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof vscode.CancellationError) {
      log.info(`${what}: cancelled`);
      if (interactive) return undefined;
      throw error;
    }
    const message = withSettingNamed(log.error(what, error), error);
    if (!interactive) throw error;
    const retry = () => runCommand(log, what, interactive, body, remedies);
    void log.toast(message, ...fixesFor(error, message, retry, remedies));
    return undefined;
  }
}

/** A refused host names where it is allowed: the error comes from the core, which knows no settings. */
function withSettingNamed(message: string, error: unknown): string {
  if (!(error instanceof IpcError) || error.remedy?.kind !== 'allowHost' || /extismIpc\.grants\.allowedHosts/.test(message)) return message;
  return `${message}; allow it for this plugin in extismIpc.plugins, or for every plugin in extismIpc.grants.allowedHosts`;
}

/** The buttons that fix a failure: its remedy's actions, then Open Settings for a setting its message names. */
function fixesFor(error: unknown, message: string, retry: () => Promise<unknown>, remedies: RemedyServices | undefined): ToastAction[] {
  const fixes: ToastAction[] = (remedies ? remedyActions(error, remedies, buttonText) : []).map((action) => ({
    title: action.title,
    run: async () => {
      if ((await action.run()) === 'retry') await retry();
    },
  }));
  const setting = /\bextismIpc\.[\w.]*\w/.exec(message)?.[0];
  if (setting && !fixes.some((f) => f.title === 'Open Settings')) {
    fixes.push({ title: 'Open Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', setting) });
  }
  return fixes;
}

/** Plugin text in a button: cut short (notify.ts shows its controls as escapes). */
function buttonText(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : text;
}

function idOf(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'string' && /^\d+$/.test(arg)) return Number(arg);
  if (typeof arg === 'object' && arg !== null) {
    const node = arg as PluginNode;
    if (node.kind === 'plugin') return node.id;
    if (node.kind === 'export') return node.pluginId;
  }
  return undefined;
}

function isExportNode(arg: unknown): arg is Extract<PluginNode, { kind: 'export' }> {
  return typeof arg === 'object' && arg !== null && (arg as PluginNode).kind === 'export';
}

/** A Uri, an absolute path, a workspace-relative path, or a plugin name (left to the core). */
function targetPath(target: string | vscode.Uri): string {
  if (typeof target !== 'string') return target.fsPath;
  if (!/[\\/]/.test(target) || path.isAbsolute(target)) return target;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, target) : path.resolve(target);
}

function byteLength(input: string | Uint8Array): number {
  return typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
}

/**
 * A progress notification for a call still running after a moment. Cancel stops that call alone,
 * as its time limit would: the plugins it ran start afresh with their vars, every other plugin is
 * untouched.
 */
function withLateProgress<T>(label: string, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const work = start(controller.signal);
  const timer = setTimeout(() => {
    void withNotificationProgress(`Extism: calling ${label}…`, (token) => {
      const cancel = token.onCancellationRequested(() => controller.abort());
      return work.then(() => cancel.dispose(), () => cancel.dispose());
    });
  }, PROGRESS_AFTER_MS);
  const clear = () => clearTimeout(timer);
  work.then(clear, clear);
  // the call then fails as cancelled: that is the person's Cancel, not a failure
  return work.catch((error: unknown) => {
    throw controller.signal.aborted && (error as { kind?: unknown } | null)?.kind === 'cancelled' ? new vscode.CancellationError() : error;
  });
}

async function askExportTarget(): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return vscode.window.showSaveDialog({
    title: 'Export trace (Chrome Trace Event JSON)',
    defaultUri: folder ? vscode.Uri.joinPath(folder, `extism-trace-${stamp}.json`) : undefined,
    filters: { 'Chrome Trace JSON': ['json'] },
    saveLabel: 'Export',
  });
}

/** Opens the plugin's source next to its .wasm if there is one (`src/<name>.*`), else reveals the .wasm. */
async function revealSource(wasm: string): Promise<void> {
  const dir = path.dirname(wasm);
  const name = path.basename(wasm, '.wasm');
  const exts = ['ts', 'rs', 'go', 'c', 'cpp', 'zig', 'js', 'py', 'hs', 'wat'];
  const candidates = [dir, path.join(dir, 'src')].flatMap((d) => exts.map((e) => path.join(d, `${name}.${e}`)));
  const source = candidates.find((f) => fs.existsSync(f));
  if (source) {
    await vscode.window.showTextDocument(vscode.Uri.file(source), { preview: true });
    return;
  }
  const uri = vscode.Uri.file(wasm);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('vscode.open', uri);
}
