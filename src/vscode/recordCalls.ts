import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { appendRecordedCall, CALL_FILE_SUFFIX } from '../core';
import type { MadeCall } from './commands';
import { runCommand } from './commands';
import type { Log } from './log';
import { showInformation } from './notify';
import { pickCallFile } from './pickers';

export const TOGGLE_RECORD_CALLS = 'extismIpc.toggleRecordCalls';
/** The toggle under its other title (the palette shows the one that fits). */
export const STOP_RECORDING_CALLS = 'extismIpc.stopRecordingCalls';
/** The context key that names the toggle's title in the palette. */
const RECORDING_KEY = 'extismIpc.recordingCalls';

/**
 * Record Calls to a Call File…: while on, every call made from the editor's commands is appended to
 * the chosen call file with its actual output as its expect (as `extism-ipc call --record` does),
 * so the file replays green on the same plugins. The command toggles; with a path argument it
 * starts recording to that file without asking. Returns the file while recording, else undefined.
 */
export function registerRecordCalls(callsMade: vscode.Event<MadeCall>, log: Log, samplesDir: string): vscode.Disposable[] {
  let file: string | undefined;
  let listening: vscode.Disposable | undefined;
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.text = '$(record) Recording calls';
  status.command = TOGGLE_RECORD_CALLS;
  const stop = (): void => {
    listening?.dispose();
    listening = undefined;
    if (file) log.info(`stopped recording calls to ${file}`);
    file = undefined;
    status.hide();
    void vscode.commands.executeCommand('setContext', RECORDING_KEY, false);
  };
  const record = (call: MadeCall): void => {
    if (!file) return;
    const into = file;
    try {
      const base = path.dirname(into);
      const source = call.plugin.source;
      // a bundled sample by its name (the call file's runs search them too), any other plugin by its path from the file
      const plugin = path.dirname(source) === samplesDir ? call.plugin.name : path.relative(base, source);
      const existing = fs.existsSync(into) ? fs.readFileSync(into, 'utf8') : undefined;
      const g = call.plugin.grants;
      const text = appendRecordedCall(into, existing, {
        plugin,
        function: call.func,
        input: call.input,
        output: call.output,
        ...(g.wasi ? { wasi: true } : {}),
        ...(g.allowedHosts.length ? { allowedHosts: g.allowedHosts } : {}),
        ...(Object.keys(g.allowedPaths).length ? { allowedPaths: g.allowedPaths } : {}),
        ...(call.plugin.timeoutMs ? { timeoutMs: call.plugin.timeoutMs } : {}),
      });
      fs.writeFileSync(into, text);
      log.info(`recorded ${call.plugin.name}.${call.func} in ${into}`);
    } catch (error) {
      void log.toast(log.error('Record Calls', error));
    }
  };
  return [
    status,
    { dispose: stop },
    vscode.commands.registerCommand(STOP_RECORDING_CALLS, () => vscode.commands.executeCommand(TOGGLE_RECORD_CALLS)),
    vscode.commands.registerCommand(TOGGLE_RECORD_CALLS, (target?: unknown) =>
      runCommand(log, 'Record Calls', typeof target !== 'string', async () => {
        if (file) {
          const was = file;
          stop();
          void showInformation(`Extism: stopped recording calls to ${vscode.workspace.asRelativePath(was)}`);
          return undefined;
        }
        const chosen = typeof target === 'string' ? target : await pickCallFile();
        if (chosen === undefined) return undefined;
        if (!chosen.endsWith(CALL_FILE_SUFFIX)) throw new Error(`a call file's name ends with ${CALL_FILE_SUFFIX}: ${chosen}`);
        file = chosen;
        listening = callsMade(record);
        status.tooltip = `Recording every call to ${chosen}: click to stop`;
        status.show();
        await vscode.commands.executeCommand('setContext', RECORDING_KEY, true);
        log.info(`recording calls to ${chosen}`);
        return chosen;
      }),
    ),
  ];
}
