import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, CallFile, CallFileError, formatTraceTree, PluginHost, runCallFile, RuntimeTransport, terminalText, visibleText } from '../core';
import type { CallOutcome, CallSpec, DebuggedCall, SnapshotMode } from '../core';
import { topFrame } from '../core';
import { rangeOf } from './trapDiagnostics';
import { callFileDiagnostics, placedCallFile } from './callFilePlaces';
import type { PlacedCallFile } from './callFilePlaces';
import type { CallDebugger } from './debugCall';
import type { Log } from './log';
import { markdownString, md } from './markdown';
import { readSettings } from './settings';

const GLOB = `**/*${CALL_FILE_SUFFIX}`;
/** The contextValue of a failed snapshot's message: its context menu offers Update Snapshot. */
export const SNAPSHOT_MESSAGE = 'extismIpc.snapshot';
export const UPDATE_SNAPSHOT = 'extismIpc.updateSnapshot';

/** What the Test Explorer was told of a call: its state and its messages. */
export interface ReportedResult {
  state: 'passed' | 'failed' | 'errored' | 'skipped';
  messages: vscode.TestMessage[];
}

/** A call of a run ended: its item, its outcome, what was reported, and whether it was debugged (the Debug profile). */
export interface CallReport {
  item: vscode.TestItem;
  outcome: CallOutcome;
  result: ReportedResult;
  debugged: boolean;
}

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
  private readonly reported = new vscode.EventEmitter<CallReport>();
  /** A call of a test run (Run, Debug or Update Snapshots) ended (the log shows each). */
  readonly onDidReport = this.reported.event;

  constructor(
    private readonly samplesDir: string,
    private readonly transport: RuntimeTransport,
    private readonly log: Log,
    private readonly debugging: CallDebugger,
  ) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover();
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, async (request, token) => {
      await this.run(request, token);
    }, true);
    this.controller.createRunProfile('Debug', vscode.TestRunProfileKind.Debug, async (request, token) => {
      await this.debugRun(request, token);
    }, true);
    this.controller.createRunProfile('Update Snapshots', vscode.TestRunProfileKind.Run, async (request, token) => {
      await this.run(request, token, 'update');
    }, false);
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    this.disposables.push(
      this.reported,
      // on a failed snapshot's message in the Test Results (testing/message/context): the test and the message come as one argument
      vscode.commands.registerCommand(UPDATE_SNAPSHOT, (arg?: { test?: vscode.TestItem }) => (arg?.test ? this.updateSnapshot(arg.test) : false)),
      this.onDidReport(({ outcome: o, debugged, result }) =>
        this.log.info(`call file: ${o.call.name}${debugged ? ' (debugged)' : ''} ${result.state === 'skipped' ? 'skipped: the run was cancelled' : o.passed ? 'passed' : `failed: ${o.reason}`} (${o.durationMs.toFixed(0)} ms)`),
      ),
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

  /**
   * A run of the Test Explorer: the chosen calls of each file, with the calls before them in their
   * group run too (for their state). `debug`: the chosen calls are made under the debugger (the
   * Debug profile), and judged and reported as a Run judges them.
   */
  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, snapshots: SnapshotMode = 'check', debug?: DebuggedCall): Promise<boolean> {
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
        if (!(await this.runFileItems(run, fileKey, only, request.exclude ?? [], snapshots, debug, token))) allPassed = false;
      }
    } finally {
      run.end();
    }
    return allPassed;
  }

  /**
   * The Debug profile: a Run whose chosen calls are made under Debug Call, one at a time, on the
   * run's own host; each is judged by its expects and reported as Run reports it. Cancelling the
   * run ends the session of the call being debugged.
   */
  debugRun(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<boolean> {
    const debug: DebuggedCall = (host, id, call, input, caller) => {
      const plugin = host.plugin(id);
      if (!plugin) throw new Error(`${call.name}: its plugin #${id} is not live`);
      return this.debugging.debug(host, plugin, call.function, input, `${call.name}: #${id} ${plugin.name}.${call.function}`, caller, token);
    };
    return this.run(request, token, 'check', debug);
  }

  private async runFileItems(
    run: vscode.TestRun,
    fileKey: string,
    only: Set<number> | undefined,
    exclude: readonly vscode.TestItem[],
    snapshots: SnapshotMode,
    debug: DebuggedCall | undefined,
    token: vscode.CancellationToken,
  ): Promise<boolean> {
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
      for (const outcome of await runCallFile(calls, host, new Set(items.keys()), { snapshots, ...(debug ? { debug } : {}) })) {
        const item = items.get(outcome.call.index);
        if (!item) continue;
        if (!outcome.passed) allPassed = false;
        // a cancelled Debug run ends the session of the call under way and debugs no more: those are not judged
        if (debug && token.isCancellationRequested && outcome.error !== undefined) {
          run.skipped(item);
          this.reported.fire({ item, outcome, result: { state: 'skipped', messages: [] }, debugged: true });
          continue;
        }
        const result = report(run, item, outcome);
        this.reported.fire({ item, outcome, result, debugged: debug !== undefined });
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

/** Reports a call's outcome to the run (its trace and notes into the output first): what it reported. */
function report(run: vscode.TestRun, item: vscode.TestItem, o: CallOutcome): ReportedResult {
  if (o.spans.length && !o.invalid) appendTerminal(run, `${o.call.name}\n${formatTraceTree(o.spans)}\n`, item);
  if (o.notes.length && !o.invalid) appendTerminal(run, `${o.call.name}: ${o.notes.join('; ')}\n`, item);
  const result = resultOf(item, o);
  if (result.state === 'errored') run.errored(item, result.messages);
  else if (result.state === 'passed') run.passed(item, o.durationMs);
  else run.failed(item, result.messages, o.durationMs);
  return result;
}

/** How a call's outcome shows in the Test Explorer: an invalid call errored; every failed expect a message of its own, named. */
function resultOf(item: vscode.TestItem, o: CallOutcome): ReportedResult {
  if (o.invalid) {
    const message = testMessage(o.reason ?? 'is not a call');
    if (item.uri && item.range) message.location = new vscode.Location(item.uri, item.range);
    return { state: 'errored', messages: [message] };
  }
  if (o.passed) return { state: 'passed', messages: [] };
  // a snapshot's message offers Update Snapshot
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
  return { state: 'failed', messages: messages.length ? messages : [testMessage(o.reason ?? 'failed')] };
}
