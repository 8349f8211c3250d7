import * as vscode from 'vscode';
import * as path from 'node:path';
import { allCalls, CALL_FILE_SUFFIX, CallFileError, CallSession, inputBytes, loadOptions, parseCallFile, PluginHost, targetOf } from '../core';
import type { CallFile, CallSpec } from '../core';
import { registerCallFileCompletion } from './callFileCompletion';
import { placedCallFile } from './callFilePlaces';
import type { CallFileTests } from './callFileTests';
import { runCommand } from './commands';
import type { MadeCall } from './commands';
import { DEBUG_CALL_COMMAND } from './debugCall';
import { PROFILE_COMMAND } from './profileCommand';
import type { Span } from '../core';
import type { Log } from './log';
import type { OutputDocuments } from './output';
import type { TracePanel } from './tracePanel';

export const RUN_CALL = 'extismIpc.runCallFromFile';

export const RUN_ALL = 'extismIpc.runCallFile';

export const DEBUG_CALL_FROM_FILE = 'extismIpc.debugCallFromFile';

export const PROFILE_CALL_FROM_FILE = 'extismIpc.profileCallFromFile';

/** "Run All" at the top of a call file, and "Call", "Call with Trace", "Debug" and "Profile" above each of its calls (a bad one too: it says why). */
export class CallFileLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    let placed;
    try {
      placed = placedCallFile(document.uri.fsPath, document.getText());
    } catch {
      return []; // the diagnostics and the Test Explorer say what is wrong
    }
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(run-all) Run All', command: RUN_ALL, arguments: [document.uri] }),
      ...allCalls(placed.calls).flatMap((call) => {
        const at = placed.range(call.at).start;
        const range = new vscode.Range(at, at);
        return [
          new vscode.CodeLens(range, { title: '$(play) Call', command: RUN_CALL, arguments: [document.uri, call.index, false] }),
          new vscode.CodeLens(range, { title: '$(pulse) Call with Trace', command: RUN_CALL, arguments: [document.uri, call.index, true] }),
          new vscode.CodeLens(range, { title: '$(debug-alt) Debug', command: DEBUG_CALL_FROM_FILE, arguments: [document.uri, call.index] }),
          new vscode.CodeLens(range, { title: '$(flame) Profile', command: PROFILE_CALL_FROM_FILE, arguments: [document.uri, call.index] }),
        ];
      }),
    ];
  }
}

/**
 * Runs one call of a call file on the extension's host, so its plugins appear in Live Plugins and
 * its spans in the panel; the plugins stay live between clicks, so vars carry over as in a file run.
 */
export function registerCallFileLens(host: PluginHost, log: Log, outputs: OutputDocuments, panel: TracePanel, tests: CallFileTests, samplesDir: string, callsMade: vscode.EventEmitter<MadeCall>): vscode.Disposable[] {
  const sessions = new Map<string, CallSession>();
  const onHost = new CallPlugins(host);
  return [
    registerCallFileCompletion(samplesDir),
    vscode.languages.registerCodeLensProvider({ pattern: `**/*${CALL_FILE_SUFFIX}` }, new CallFileLens()),
    // A CodeLens's command (hidden from the palette): a person clicked it, so a failure is one
    // toast and the command resolves (true when the call passed, false when it failed).
    vscode.commands.registerCommand(RUN_CALL, (uri: vscode.Uri, index: number, withTrace: boolean) =>
      runCommand(log, 'Call', true, async () => {
        const document = await vscode.workspace.openTextDocument(uri);
        if (!vscode.workspace.isTrusted) throw new Error('Restricted Mode: the workspace\'s plugins are not run until you trust it');
        const calls = parseCallFile(uri.fsPath, document.getText());
        const call = allCalls(calls)[index];
        if (!call) throw new CallFileError(`${uri.fsPath}: there is no call ${index} any more`);
        // a group's calls run on plugins of their own, as in a file run
        const sessionKey = `${uri.toString()}@${call.group ?? ''}`;
        let session = sessions.get(sessionKey);
        if (!session) sessions.set(sessionKey, (session = new CallSession(host)));
        if (withTrace) await vscode.commands.executeCommand('extismIpc.showTrace');
        const outcome = await session.run(calls, call);
        log.info(`call file ${vscode.workspace.asRelativePath(uri)}: ${call.name}: ${outcome.passed ? 'passed' : `failed: ${outcome.reason}`}`);
        // the call itself: the outermost of its spans (the runtime keeps its bytes for the detail)
        const root = outcome.spans.reduce<Span | undefined>((top, s) => (!top || s.depth < top.depth ? s : top), undefined);
        if (root) panel.revealCall(root.id);
        const plugin = root ? host.plugin(root.calleeId) : undefined;
        if (plugin && outcome.output && outcome.error === undefined) {
          callsMade.fire({ plugin, func: call.function, input: inputBytes(call.input, `${call.at}.input`, path.dirname(uri.fsPath), host.currentPolicy.maxMessageBytes), output: outcome.output });
        }
        if (outcome.output && outcome.error === undefined) {
          const target = root
            ? { pluginId: root.calleeId, plugin: root.calleeName, func: root.func }
            : { pluginId: 0, plugin: call.plugin.replace(/^.*[\\/]/, '').replace(/\.(wasm|json)$/i, ''), func: call.function };
          await outputs.show(target, outcome.output, vscode.ViewColumn.Beside);
        }
        if (!outcome.passed) void log.toast(`${call.name}: ${outcome.reason ?? 'failed'}`);
        return outcome.passed;
      }),
    ),
    // Debug and Profile: the call on the extension's host through Debug Call and Profile Call.
    // Debug resolves to the call's output as text (a failure: a toast, or thrown when not interactive).
    vscode.commands.registerCommand(DEBUG_CALL_FROM_FILE, (uri: vscode.Uri, index: number, interactive = true) =>
      runCommand(log, 'Debug', interactive !== false, async () => {
        const { id, call, input } = await onHost.prepare(uri, index);
        return vscode.commands.executeCommand<string>(DEBUG_CALL_COMMAND, id, call.function, input);
      }),
    ),
    // Profile resolves to the written .cpuprofile's path
    vscode.commands.registerCommand(PROFILE_CALL_FROM_FILE, (uri: vscode.Uri, index: number) =>
      runCommand(log, 'Profile', true, async () => {
        const { id, call, input } = await onHost.prepare(uri, index);
        return vscode.commands.executeCommand<string>(PROFILE_COMMAND, id, call.function, input);
      }),
    ),
    // Run All: the file's tests as one run of the Test Explorer, where their results show
    vscode.commands.registerCommand(RUN_ALL, (uri: vscode.Uri) =>
      runCommand(log, 'Run All', true, async () => {
        if (!vscode.workspace.isTrusted) throw new Error('Restricted Mode: the workspace\'s plugins are not run until you trust it');
        return tests.runFile(uri);
      }),
    ),
  ];
}

/**
 * A call file's call made ready on the extension's host: its plugin loaded as the file's run loads
 * it (its options; a name found in the file's plugin directories first), kept live for the next
 * click, and its input as bytes.
 */
class CallPlugins {
  private readonly live = new Map<string, number>();

  constructor(private readonly host: PluginHost) {}

  async prepare(uri: vscode.Uri, index: number): Promise<{ id: number; call: CallSpec; calls: CallFile; input: Uint8Array }> {
    if (!vscode.workspace.isTrusted) throw new Error('Restricted Mode: the workspace\'s plugins are not run until you trust it');
    const document = await vscode.workspace.openTextDocument(uri);
    const calls = parseCallFile(uri.fsPath, document.getText());
    const call = allCalls(calls)[index];
    if (!call) throw new CallFileError(`${uri.fsPath}: there is no call ${index} any more`);
    if (call.problem !== undefined) throw new CallFileError(`${call.name}: ${call.problem}`);
    const input = inputBytes(call.input, `${call.at}.input`, path.dirname(uri.fsPath), this.host.currentPolicy.maxMessageBytes);
    const options = loadOptions(call);
    const target = targetOf(call.plugin, calls);
    const key = JSON.stringify([target, options]);
    let id = this.live.get(key);
    if (id === undefined || !this.host.plugin(id)) {
      id = (await this.host.register(target, options)).id;
      this.live.set(key, id);
    }
    return { id, call, calls, input };
  }
}
