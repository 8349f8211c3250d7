import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, callOffsets, CallFileError, CallSession, parseCallFile, PluginHost } from '../core';
import { runCommand } from './commands';
import type { Span } from '../core';
import type { Log } from './log';
import type { OutputDocuments } from './output';
import type { TracePanel } from './tracePanel';
import { lineStarts, positionOf } from './textPositions';

export const RUN_CALL = 'extismIpc.runCallFromFile';

/** "Call" and "Call with Trace" above each call of a call file. */
export class CallFileLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    let count: number;
    try {
      count = parseCallFile(document.uri.fsPath, document.getText()).calls.length;
    } catch {
      return []; // the JSON schema and the Test Explorer say what is wrong
    }
    const lines = lineStarts(document.getText());
    return callOffsets(document.getText())
      .slice(0, count)
      .flatMap((offset, index) => {
        const at = positionOf(lines, offset);
        const range = new vscode.Range(at, at);
        return [
          new vscode.CodeLens(range, { title: '$(play) Call', command: RUN_CALL, arguments: [document.uri, index, false] }),
          new vscode.CodeLens(range, { title: '$(pulse) Call with Trace', command: RUN_CALL, arguments: [document.uri, index, true] }),
        ];
      });
  }
}

/**
 * Runs one call of a call file on the extension's host, so its plugins appear in Live Plugins and
 * its spans in the panel; the plugins stay live between clicks, so vars carry over as in a file run.
 */
export function registerCallFileLens(host: PluginHost, log: Log, outputs: OutputDocuments, panel: TracePanel): vscode.Disposable[] {
  const sessions = new Map<string, CallSession>();
  return [
    vscode.languages.registerCodeLensProvider({ pattern: `**/*${CALL_FILE_SUFFIX}` }, new CallFileLens()),
    // A CodeLens's command (hidden from the palette): a person clicked it, so a failure is one
    // toast and the command resolves (true when the call passed, false when it failed).
    vscode.commands.registerCommand(RUN_CALL, (uri: vscode.Uri, index: number, withTrace: boolean) =>
      runCommand(log, 'Call', true, async () => {
        const document = await vscode.workspace.openTextDocument(uri);
        if (!vscode.workspace.isTrusted) throw new Error('Restricted Mode: the workspace\'s plugins are not run until you trust it');
        const calls = parseCallFile(uri.fsPath, document.getText());
        const call = calls.calls[index];
        if (!call) throw new CallFileError(`${uri.fsPath}: there is no call ${index} any more`);
        let session = sessions.get(uri.toString());
        if (!session) sessions.set(uri.toString(), (session = new CallSession(host)));
        if (withTrace) await vscode.commands.executeCommand('extismIpc.showTrace');
        const outcome = await session.run(calls, call);
        log.info(`call file ${vscode.workspace.asRelativePath(uri)}: ${call.name}: ${outcome.passed ? 'passed' : `failed: ${outcome.reason}`}`);
        // the call itself: the outermost of its spans (the runtime keeps its bytes for the detail)
        const root = outcome.spans.reduce<Span | undefined>((top, s) => (!top || s.depth < top.depth ? s : top), undefined);
        if (root) panel.revealCall(root.id);
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
  ];
}
