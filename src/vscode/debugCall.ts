import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEBUG_CALL_STOPPED, isStoppedBeforeEntry, keepDebugInfo, readFileChecked, summarizeModule, visibleText } from '../core';
import type { CallFileCaller, PluginHost, PluginInfo } from '../core';
import { runCommand } from './commands';
import { followDebugCall } from './debugStepping';
import type { Log } from './log';
import { showInformation } from './notify';
import { pickExport, pickInput, pickPlugin } from './pickers';
import { livePluginOf, pluginFileOf } from './pluginFiles';
import type { PluginNode } from './pluginTree';

export const DEBUG_CALL_COMMAND = 'extismIpc.debugCall';
/** The DWARF extension js-debug uses for C, C++, Rust and Zig source in wasm frames. */
export const DWARF_EXTENSION = 'ms-vscode.wasm-dwarf-debugging';
/** Marks the debug configurations this module starts, so its tracker follows only those. */
const MARK = '__extismDebugCall';
/**
 * The debug calls under way, by mark: `end` runs when a person ends one of its sessions (before
 * the debugger detaches, so the call cannot finish first and pass for a completed one).
 */
const running = new Map<string, { end(): void }>();
/** How long the debugger has to attach and show its thread before the call goes ahead anyway. */
const ATTACH_WAIT_MS = 10_000;
const MAX_MODULE_BYTES = 256 * 1024 * 1024;

interface DebugCallServices {
  host: PluginHost;
  log: Log;
  /** Debugs calls (the Test Explorer's Debug profile uses the same one on hosts of its own). */
  debugging: CallDebugger;
}

/**
 * Debug Call…: the runtime process opens its V8 inspector on a loopback port, VS Code's JavaScript
 * debugger attaches, and the call pauses at the first instruction of the called export (and of every
 * plugin export it reaches, with `extismIpc.debug.breakOnPluginEntry`).
 */
export function registerDebugCall(s: DebugCallServices): vscode.Disposable[] {
  return [
    vscode.debug.registerDebugAdapterTrackerFactory('*', {
      // a person ending the session (before the debugger detaches) ends its call
      createDebugAdapterTracker: (session) => (markOf(session) !== undefined ? followDebugCall(session, () => running.get(String(markOf(session)))?.end()) : undefined),
    }),
    vscode.commands.registerCommand(DEBUG_CALL_COMMAND, (target?: unknown, funcArg?: unknown, inputArg?: unknown) => {
      const interactive = target === undefined || typeof target === 'object' || funcArg === undefined || inputArg === undefined;
      return runCommand(s.log, 'Debug Call', interactive, async () => {
        const plugin = await pluginOf(s.host, target);
        if (!plugin) return undefined;
        const func = typeof funcArg === 'string' ? funcArg : isExportNode(target) ? target.name : await pickExport(plugin);
        if (func === undefined) return undefined;
        const label = `#${plugin.id} ${plugin.name}.${func}`;
        const input = typeof inputArg === 'string' || inputArg instanceof Uint8Array ? inputArg : await pickInput(label);
        if (input === undefined) return undefined;
        const output = await s.debugging.debug(s.host, plugin, func, input, label, 'command');
        return new TextDecoder().decode(output);
      });
    }),
  ];
}

/**
 * Debugs calls on a host: the first call of a plugin file says once whether its source can be shown.
 * The Debug Call command uses it on the extension's host, the Test Explorer's Debug profile on the
 * host of its run.
 */
export class CallDebugger {
  private readonly offered = new Set<string>();

  /** `extensionPath`: the extension's folder; the runtime's own JavaScript (dist/, src/) is skipped when stepping. */
  constructor(
    private readonly log: Log,
    private readonly extensionPath: string,
  ) {}

  /**
   * One debugged call: inspector, session, call; the session and the inspector end with the call.
   * Its output, or it rejects with the call's error ("debug session ended" when a person stopped it,
   * or `cancel` was asked for).
   */
  async debug(
    host: PluginHost,
    plugin: PluginInfo,
    func: string,
    input: string | Uint8Array,
    label: string,
    caller: 'command' | CallFileCaller,
    cancel?: vscode.CancellationToken,
  ): Promise<Uint8Array> {
    if (cancel?.isCancellationRequested) throw new vscode.CancellationError();
    if (!this.offered.has(plugin.source)) {
      this.offered.add(plugin.source);
      void offerSourceLevel(plugin, this.log);
    }
    const address = await host.openInspector();
    const mark = `${Date.now()}-${Math.random()}`;
    // js-debug attaches in a session of its own, and debugs the process in a child session of it
    const sessions: vscode.DebugSession[] = [];
    const target = new Promise<vscode.DebugSession>((resolve) => {
      const watch = vscode.debug.onDidStartDebugSession((session) => {
        if (markOf(session) !== mark) return;
        sessions.push(session);
        if (session.configuration[MARK] === mark) return;
        watch.dispose();
        resolve(session);
      });
    });
    const config: vscode.DebugConfiguration = {
      type: 'node',
      request: 'attach',
      name: visibleText(`Extism: debug ${label}`),
      address: address.host,
      port: address.port,
      skipFiles: skipFilesOf(this.extensionPath),
      // the runtime is not the person's program: its child processes and its exit are not theirs
      autoAttachChildProcesses: false,
      attachExistingChildren: false,
      continueOnAttach: true,
      [MARK]: mark,
    };
    let ended = false;
    const root = (): vscode.DebugSession | undefined => sessions.find((session) => session.configuration[MARK] === mark);
    const folder = vscode.workspace.workspaceFolders?.[0];
    try {
      if (!(await vscode.debug.startDebugging(folder, config))) throw new Error(`the JavaScript debugger did not attach to the plugin runtime at ${address.host}:${address.port}`);
      const child = await within(target, ATTACH_WAIT_MS, `the JavaScript debugger did not reach the plugin runtime at ${address.host}:${address.port}`);
      const attachMs = await attached(child);
      const end = () => {
        if (ended) return;
        ended = true;
        // the detached runtime resumes the call: stop it as a timeout would
        host.interruptDebugCall();
      };
      running.set(mark, { end });
      const watches = [
        vscode.debug.onDidTerminateDebugSession((gone) => {
          if (sessions.includes(gone)) end();
        }),
        // a cancelled test run ends its session as Stop does
        ...(cancel ? [cancel.onCancellationRequested(() => void stopSession(root()))] : []),
      ];
      const everyEntry = vscode.workspace.getConfiguration('extismIpc').get<boolean>('debug.breakOnPluginEntry', true);
      this.log.info(`${label}: debugging through ${address.host}:${address.port} in "${child.name}" (attached in ${attachMs} ms)${everyEntry ? ', pausing at every plugin entry' : ''}`);
      try {
        const output = await debugCallOnce(
          () => host.debugCall(plugin.id, func, input, { everyEntry }, caller),
          () => ended,
          () => this.log.info(`${label}: stopped before it entered ${func} by a stop meant for the call before; calling again`),
        );
        if (ended) throw new Error(DEBUG_CALL_STOPPED);
        this.log.info(`${label}: debugged, out ${output.byteLength} B`);
        return output;
      } finally {
        running.delete(mark);
        for (const w of watches) w.dispose();
      }
    } finally {
      if (!ended) await stopSession(root());
      await host.closeInspector().catch(() => undefined);
    }
  }
}

/**
 * A debugged call, called again when it was stopped before it entered its export by a stop that was
 * not its own (its session had not ended): Node's SIGINT watchdog can keep the SIGINT that stopped
 * the call before and give it to the next one as it starts. Once more at most: a stale SIGINT is one.
 */
async function debugCallOnce(call: () => Promise<Uint8Array>, ended: () => boolean, again: () => void): Promise<Uint8Array> {
  try {
    return await call();
  } catch (error) {
    if (!isStoppedBeforeEntry(error)) throw error;
    if (ended()) throw new Error(DEBUG_CALL_STOPPED);
    again();
    return call();
  }
}

/** What stepping skips: the runtime's own JavaScript (the extension's dist/ and src/) and Node's internals. */
function skipFilesOf(extensionPath: string): string[] {
  return [path.join(extensionPath, 'dist', '**'), path.join(extensionPath, 'src', '**'), '<node_internals>/**'];
}

async function stopSession(session: vscode.DebugSession | undefined): Promise<void> {
  if (session) await vscode.debug.stopDebugging(session);
}

/** The mark of a debug-call session, or of the session it is a child of. */
function markOf(session: vscode.DebugSession): unknown {
  return session.configuration[MARK] ?? session.parentSession?.configuration[MARK];
}

function within<T>(promise: Promise<T>, ms: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(failure)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Resolves once the debugger shows the runtime's thread: it is attached and pauses on `debugger`. */
async function attached(session: vscode.DebugSession): Promise<number> {
  const t0 = Date.now();
  while (Date.now() < t0 + ATTACH_WAIT_MS) {
    try {
      const { threads } = (await session.customRequest('threads')) as { threads: unknown[] };
      if (threads.length) return Date.now() - t0;
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

/**
 * Source-level debugging: a module with DWARF needs the DWARF extension (offered once, opened in
 * the Extensions view); a module without says which build flag of its PDK keeps debug info.
 */
async function offerSourceLevel(plugin: PluginInfo, log: Log): Promise<void> {
  if (!/\.wasm$/i.test(plugin.source)) return;
  let summary: ReturnType<typeof summarizeModule>;
  try {
    summary = summarizeModule(readFileChecked(plugin.source, MAX_MODULE_BYTES, 'maxModuleBytes'));
  } catch {
    return;
  }
  if (!summary.ok) return;
  if (summary.dwarf.length) {
    if (vscode.extensions.getExtension(DWARF_EXTENSION)) return;
    const open = 'Show the DWARF Extension';
    const choice = await showInformation(
      `Extism: ${plugin.name} has DWARF debug info (${summary.dwarf.join(', ')}): install the WebAssembly DWARF Debugging extension to step through its source instead of its disassembly.`,
      open,
    );
    if (choice === open) await vscode.commands.executeCommand('workbench.extensions.search', DWARF_EXTENSION);
    return;
  }
  log.info(`${plugin.name} has no DWARF debug info: the debugger shows its WebAssembly disassembly. ${keepDebugInfo(summary.pdk?.language)}`);
  void showInformation(`Extism: ${plugin.name} has no DWARF debug info, so the debugger shows its disassembly. ${keepDebugInfo(summary.pdk?.language)}`);
}

/** The live plugin a command argument names, registering a path or name that is not live. */
async function pluginOf(host: PluginHost, target: unknown): Promise<PluginInfo | undefined> {
  if (target === undefined) return pickPlugin(host.plugins(), 'Extism: Debug Call');
  const id = typeof target === 'number' ? target : typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : nodeId(target);
  if (id !== undefined) {
    const plugin = host.plugin(id);
    if (!plugin) throw new Error(`no live plugin #${id}`);
    return plugin;
  }
  const file = pluginFileOf(target);
  if (file !== undefined) return livePluginOf(host, file);
  if (typeof target !== 'string') throw new Error('Debug Call: give a live plugin id, a .wasm or manifest path, or a plugin name');
  const registered = await vscode.commands.executeCommand<number | undefined>('extismIpc.registerPlugin', target);
  return registered === undefined ? undefined : host.plugin(registered);
}

function nodeId(arg: unknown): number | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const node = arg as PluginNode;
  return node.kind === 'plugin' ? node.id : node.kind === 'export' ? node.pluginId : undefined;
}

function isExportNode(arg: unknown): arg is Extract<PluginNode, { kind: 'export' }> {
  return typeof arg === 'object' && arg !== null && (arg as PluginNode).kind === 'export';
}
