import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, CallFile, CallFileError, formatTraceTree, PluginHost, runCallFile, RuntimeTransport, terminalText, visibleText } from '../core';
import type { CallOutcome, CallSpec, SnapshotMode } from '../core';
import { topFrame } from '../core';
import { rangeOf } from './trapDiagnostics';
import { DEBUG_CALL_FROM_FILE } from './callFileLens';
import { callFileDiagnostics, placedCallFile } from './callFilePlaces';
import type { PlacedCallFile } from './callFilePlaces';
import type { Log } from './log';
import { markdownString, md } from './markdown';
import { readSettings } from './settings';

const GLOB = `**/*${CALL_FILE_SUFFIX}`;
/** The contextValue of a failed snapshot's message: its context menu offers Update Snapshot. */
export const SNAPSHOT_MESSAGE = 'extismIpc.snapshot';
export const UPDATE_SNAPSHOT = 'extismIpc.updateSnapshot';

/**
 * Calls with an `expect` in the workspace's call files, as tests in the Test Explorer: a file, then
 * its calls. A run gets a host of its own (the runtime in its own process, the settings' policy),
 * runs the file's calls in order up to the last one asked for, and reports each with its diff,
 * duration and trace. Files are found on demand and followed as they change.
 */
export class CallFileTests implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController('extismIpc.callFiles', 'Extism call files');
  /** Problems of call files, at their place (a bad call, a bad field, a file that is not JSON). */
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('extism-calls');
  private readonly disposables: vscode.Disposable[] = [this.controller, this.diagnostics];
  /** The test items, by file (for the extension's own tests). */
  get items(): vscode.TestItemCollection {
    return this.controller.items;
  }
  private readonly parsed = new Map<string, CallFile>();
  private readonly reported = new vscode.EventEmitter<{ item: vscode.TestItem; outcome: CallOutcome }>();
  /** A call of a test run ended (the log shows each). */
  readonly onDidReport = this.reported.event;
  private readonly debugged = new vscode.EventEmitter<{ item: vscode.TestItem; passed: boolean }>();
  /** A call of a Debug run ended. */
  readonly onDidDebug = this.debugged.event;

  constructor(
    private readonly samplesDir: string,
    private readonly transport: RuntimeTransport,
    private readonly log: Log,
  ) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover();
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, async (request, token) => {
      await this.run(request, token);
    }, true);
    this.controller.createRunProfile('Debug', vscode.TestRunProfileKind.Debug, async (request, token) => {
      await this.debugCalls(request, token);
    }, true);
    this.controller.createRunProfile('Update Snapshots', vscode.TestRunProfileKind.Run, async (request, token) => {
      await this.run(request, token, 'update');
    }, false);
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    this.disposables.push(
      this.reported,
      this.debugged,
      this.onDidDebug(({ item, passed }) => this.log.info(`call file: ${item.label} debugged: ${passed ? 'passed' : 'failed'}`)),
      // on a failed snapshot's message in the Test Results (testing/message/context): the test and the message come as one argument
      vscode.commands.registerCommand(UPDATE_SNAPSHOT, (arg?: { test?: vscode.TestItem }) => (arg?.test ? this.updateSnapshot(arg.test) : false)),
      this.onDidReport(({ outcome: o }) => this.log.info(`call file: ${o.call.name} ${o.passed ? 'passed' : `failed: ${o.reason}`} (${o.durationMs.toFixed(0)} ms)`)),
      watcher,
      watcher.onDidCreate((uri) => this.load(uri)),
      watcher.onDidChange((uri) => this.load(uri)),
      watcher.onDidDelete((uri) => {
        this.controller.items.delete(uri.toString());
        this.parsed.delete(uri.toString());
        this.diagnostics.delete(uri);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.path.endsWith(CALL_FILE_SUFFIX)) this.fromText(e.document.uri, e.document.getText());
      }),
    );
  }

  private async discover(): Promise<void> {
    for (const uri of await vscode.workspace.findFiles(GLOB, '**/node_modules/**')) await this.load(uri);
  }

  private async load(uri: vscode.Uri): Promise<void> {
    try {
      this.fromText(uri, new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
    } catch (error) {
      this.log.warn(`call file ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The file's test items from its text: its calls with an `expect` (or that are not calls), and a
   * group's under the group. A bad call is one errored item at its place; only a file that is not
   * JSON (or not an object) is one error of the file. Diagnostics follow the same text.
   */
  private fromText(uri: vscode.Uri, text: string): void {
    const key = uri.toString();
    const file = this.controller.items.get(key) ?? this.controller.createTestItem(key, vscode.workspace.asRelativePath(uri), uri);
    this.controller.items.add(file);
    this.diagnostics.set(uri, callFileDiagnostics(uri.fsPath, text));
    let placed: PlacedCallFile;
    try {
      placed = placedCallFile(uri.fsPath, text);
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      // a test item's error may be rendered as Markdown: untrusted, the message escaped
      file.error = markdownString(md`${error.message}`);
      file.children.replace([]);
      this.parsed.delete(key);
      return;
    }
    const calls = placed.calls;
    file.error = calls.problems.length ? markdownString(md`${calls.problems.map((p) => p.message).join('\n')}`) : undefined;
    this.parsed.set(key, calls);
    const callItem = (c: CallSpec): vscode.TestItem => {
      const item = this.controller.createTestItem(`${key}#${c.index}`, c.name, uri);
      const at = placed.range(c.at).start;
      item.range = new vscode.Range(at, at);
      item.error = c.problem !== undefined ? markdownString(md`${c.problem}`) : undefined;
      return item;
    };
    const isTest = (c: CallSpec): boolean => c.expect.length > 0 || c.problem !== undefined;
    const groups = calls.groups.map((g) => {
      const item = this.controller.createTestItem(`${key}@${g.index}`, g.name, uri);
      const at = placed.range(g.at).start;
      item.range = new vscode.Range(at, at);
      item.children.replace(g.calls.filter(isTest).map(callItem));
      return item;
    });
    file.children.replace([...calls.calls.filter(isTest).map(callItem), ...groups]);
  }

  /** Runs a file's tests as a run of the Test Explorer (the Run All lens): true when every one passed. */
  async runFile(uri: vscode.Uri): Promise<boolean> {
    await this.load(uri);
    const item = this.controller.items.get(uri.toString());
    if (!item) return false;
    const source = new vscode.CancellationTokenSource();
    try {
      return await this.run(new vscode.TestRunRequest([item]), source.token);
    } finally {
      source.dispose();
    }
  }

  /** Runs a test again with its snapshots written from what it gives now (Update Snapshot on a failed snapshot's message). */
  async updateSnapshot(item: vscode.TestItem): Promise<boolean> {
    const source = new vscode.CancellationTokenSource();
    try {
      return await this.run(new vscode.TestRunRequest([item]), source.token, 'update');
    } finally {
      source.dispose();
    }
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, snapshots: SnapshotMode = 'check'): Promise<boolean> {
    const run = this.controller.createTestRun(request);
    const byFile = new Map<string, Set<number> | undefined>();
    const add = (item: vscode.TestItem): void => {
      const fileKey = item.id.replace(/[#@][0-9]+$/, '');
      if (item.id === fileKey) {
        byFile.set(fileKey, undefined);
        return;
      }
      if (byFile.has(fileKey) && !byFile.get(fileKey)) return;
      const picked = byFile.get(fileKey) ?? new Set<number>();
      const calls = item.id.includes('#') ? [item] : [...childrenOf(item)];
      for (const c of calls) picked.add(Number(c.id.split('#')[1]));
      byFile.set(fileKey, picked);
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    let allPassed = true;
    try {
      for (const [fileKey, only] of byFile) {
        if (token.isCancellationRequested) break;
        if (!(await this.runFileItems(run, fileKey, only, request.exclude ?? [], snapshots))) allPassed = false;
      }
    } finally {
      run.end();
    }
    return allPassed;
  }

  /**
   * The Debug profile: each selected call, one at a time, through Debug Call on the extension's host
   * (the call file's Debug lens). A call passes when it gives an output: its expects are not judged.
   */
  async debugCalls(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<boolean> {
    const run = this.controller.createTestRun(request);
    const picked: vscode.TestItem[] = [];
    const exclude = request.exclude ?? [];
    const take = (item: vscode.TestItem): void => {
      if (exclude.includes(item) || picked.includes(item)) return;
      if (item.id.includes('#')) picked.push(item);
      else item.children.forEach(take);
    };
    if (request.include) request.include.forEach(take);
    else this.controller.items.forEach(take);
    let allPassed = true;
    try {
      for (const item of picked) {
        if (token.isCancellationRequested) break;
        const [fileKey, index] = item.id.split('#');
        run.started(item);
        const t0 = Date.now();
        try {
          const output = await vscode.commands.executeCommand<string | undefined>(DEBUG_CALL_FROM_FILE, vscode.Uri.parse(fileKey), Number(index), false);
          if (output === undefined) {
            allPassed = false;
            run.skipped(item);
            continue;
          }
          appendTerminal(run, `${item.label}: ${output}\n`, item);
          run.passed(item, Date.now() - t0);
          this.debugged.fire({ item, passed: true });
        } catch (error) {
          allPassed = false;
          run.failed(item, testMessage(error instanceof Error ? error.message : String(error)), Date.now() - t0);
          this.debugged.fire({ item, passed: false });
        }
      }
    } finally {
      run.end();
    }
    return allPassed;
  }

  private async runFileItems(run: vscode.TestRun, fileKey: string, only: Set<number> | undefined, exclude: readonly vscode.TestItem[], snapshots: SnapshotMode): Promise<boolean> {
    const file = this.controller.items.get(fileKey);
    const calls = this.parsed.get(fileKey);
    if (!file || !calls) return false;
    const items = new Map<number, vscode.TestItem>();
    const take = (item: vscode.TestItem): void => {
      if (exclude.includes(item)) return;
      if (!item.id.includes('#')) {
        item.children.forEach(take);
        return;
      }
      const index = Number(item.id.split('#')[1]);
      if (!only || only.has(index)) items.set(index, item);
    };
    file.children.forEach(take);
    for (const item of items.values()) run.started(item);
    if (!vscode.workspace.isTrusted) {
      for (const item of items.values()) run.errored(item, testMessage('Restricted Mode: the workspace\'s plugins are not run until you trust it.'));
      return false;
    }
    const settings = readSettings(this.samplesDir);
    const host = new PluginHost(
      {
        ...settings.options,
        pluginDirs: [...calls.pluginDirs, ...(settings.options.pluginDirs ?? [])],
        // the call file's own modules come last: they override the settings' name by name
        hostFunctions: [...(settings.options.hostFunctions ?? []), ...calls.hostFunctions],
      },
      this.transport,
    );
    let allPassed = true;
    try {
      for (const outcome of await runCallFile(calls, host, new Set(items.keys()), { snapshots })) {
        const item = items.get(outcome.call.index);
        if (!item) continue;
        if (!outcome.passed) allPassed = false;
        report(run, item, outcome);
        this.reported.fire({ item, outcome });
      }
    } catch (error) {
      allPassed = false;
      const message = testMessage(error instanceof Error ? error.message : String(error));
      for (const item of items.values()) run.errored(item, message);
    } finally {
      await host.dispose();
    }
    return allPassed;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A test message: plain text (never Markdown), with controls shown as escapes; lines stay. */
function testMessage(text: string): vscode.TestMessage {
  return new vscode.TestMessage(visibleText(text, true));
}

/** Text into a run's output, which is a terminal: through the terminal's escaper, lines ended with CRLF. */
function appendTerminal(run: vscode.TestRun, text: string, item: vscode.TestItem): void {
  run.appendOutput(terminalText(text).replace(/\n/g, '\r\n'), undefined, item);
}

function* childrenOf(item: vscode.TestItem): Generator<vscode.TestItem> {
  const list: vscode.TestItem[] = [];
  item.children.forEach((c) => list.push(c));
  for (const c of list) {
    if (c.id.includes('#')) yield c;
    else yield* childrenOf(c);
  }
}

function report(run: vscode.TestRun, item: vscode.TestItem, o: CallOutcome): void {
  if (o.invalid) {
    const message = testMessage(o.reason ?? 'is not a call');
    if (item.uri && item.range) message.location = new vscode.Location(item.uri, item.range);
    run.errored(item, message);
    return;
  }
  if (o.spans.length) appendTerminal(run, `${o.call.name}\n${formatTraceTree(o.spans)}\n`, item);
  if (o.notes.length) appendTerminal(run, `${o.call.name}: ${o.notes.join('; ')}\n`, item);
  if (o.passed) {
    run.passed(item, o.durationMs);
    return;
  }
  // every failed expect is a message of its own, named; a snapshot's offers Update Snapshot
  const messages = o.checks.filter((c) => !c.passed).map((c) => {
    const reason = `${c.name !== undefined ? `${c.name}: ` : ''}${c.reason ?? 'failed'}`;
    const message =
      c.expected !== undefined && c.actual !== undefined
        ? vscode.TestMessage.diff(visibleText(reason, true), visibleText(c.expected, true), visibleText(c.actual, true))
        : testMessage(reason);
    if (c.snapshot) message.contextValue = SNAPSHOT_MESSAGE;
    // a failure inside a plugin points at its source line (from DWARF) when that file exists
    const top = topFrame(o.frames);
    if (top?.file !== undefined && top.line !== undefined && fs.existsSync(top.file)) message.location = new vscode.Location(vscode.Uri.file(top.file), rangeOf(top));
    else if (item.uri && item.range) message.location = new vscode.Location(item.uri, item.range);
    return message;
  });
  run.failed(item, messages.length ? messages : testMessage(o.reason ?? 'failed'), o.durationMs);
}
