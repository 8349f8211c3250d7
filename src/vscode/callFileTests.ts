import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CALL_FILE_SUFFIX, callOffsets, CallFile, CallFileError, formatTraceTree, parseCallFile, PluginHost, runCallFile, RuntimeTransport, terminalText, topFrame, visibleText } from '../core';
import { rangeOf } from './trapDiagnostics';
import type { CallOutcome } from '../core';
import type { Log } from './log';
import { markdownString, md } from './markdown';
import { readSettings } from './settings';
import { lineStarts, positionOf } from './textPositions';

const GLOB = `**/*${CALL_FILE_SUFFIX}`;

/**
 * Calls with an `expect` in the workspace's call files, as tests in the Test Explorer: a file, then
 * its calls. A run gets a host of its own (the runtime in its own process, the settings' policy),
 * runs the file's calls in order up to the last one asked for, and reports each with its diff,
 * duration and trace. Files are found on demand and followed as they change.
 */
export class CallFileTests implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController('extismIpc.callFiles', 'Extism call files');
  private readonly disposables: vscode.Disposable[] = [this.controller];
  /** The test items, by file (for the extension's own tests). */
  get items(): vscode.TestItemCollection {
    return this.controller.items;
  }
  private readonly parsed = new Map<string, CallFile>();
  private readonly reported = new vscode.EventEmitter<{ item: vscode.TestItem; outcome: CallOutcome }>();
  /** A call of a test run ended (the log shows each). */
  readonly onDidReport = this.reported.event;

  constructor(
    private readonly samplesDir: string,
    private readonly transport: RuntimeTransport,
    private readonly log: Log,
  ) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover();
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (request, token) => this.run(request, token), true);
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    this.disposables.push(
      this.reported,
      this.onDidReport(({ outcome: o }) => this.log.info(`call file: ${o.call.name} ${o.passed ? 'passed' : `failed: ${o.reason}`} (${o.durationMs.toFixed(0)} ms)`)),
      watcher,
      watcher.onDidCreate((uri) => this.load(uri)),
      watcher.onDidChange((uri) => this.load(uri)),
      watcher.onDidDelete((uri) => {
        this.controller.items.delete(uri.toString());
        this.parsed.delete(uri.toString());
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

  /** The file's test items from its text; a file that is not a call file shows its error. */
  private fromText(uri: vscode.Uri, text: string): void {
    const key = uri.toString();
    const file = this.controller.items.get(key) ?? this.controller.createTestItem(key, vscode.workspace.asRelativePath(uri), uri);
    this.controller.items.add(file);
    let calls: CallFile;
    try {
      calls = parseCallFile(uri.fsPath, text);
    } catch (error) {
      if (!(error instanceof CallFileError)) throw error;
      // a test item's error may be rendered as Markdown: untrusted, the message escaped
      file.error = markdownString(md`${error.message}`);
      file.children.replace([]);
      this.parsed.delete(key);
      return;
    }
    file.error = undefined;
    this.parsed.set(key, calls);
    const offsets = callOffsets(text);
    const lines = lineStarts(text);
    file.children.replace(
      calls.calls
        .filter((c) => c.expect !== undefined)
        .map((c) => {
          const item = this.controller.createTestItem(`${key}#${c.index}`, c.name, uri);
          const at = offsets[c.index];
          if (at !== undefined) item.range = new vscode.Range(positionOf(lines, at), positionOf(lines, at));
          return item;
        }),
    );
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    const byFile = new Map<string, Set<number> | undefined>();
    const add = (item: vscode.TestItem): void => {
      const [fileKey, index] = item.id.split('#');
      if (index === undefined) byFile.set(fileKey, undefined);
      else if (!byFile.has(fileKey) || byFile.get(fileKey)) byFile.set(fileKey, new Set([...(byFile.get(fileKey) ?? []), Number(index)]));
    };
    if (request.include) request.include.forEach(add);
    else this.controller.items.forEach(add);
    try {
      for (const [fileKey, only] of byFile) {
        if (token.isCancellationRequested) break;
        await this.runFile(run, fileKey, only, request.exclude ?? []);
      }
    } finally {
      run.end();
    }
  }

  private async runFile(run: vscode.TestRun, fileKey: string, only: Set<number> | undefined, exclude: readonly vscode.TestItem[]): Promise<void> {
    const file = this.controller.items.get(fileKey);
    const calls = this.parsed.get(fileKey);
    if (!file || !calls) return;
    const items = new Map<number, vscode.TestItem>();
    file.children.forEach((item) => {
      const index = Number(item.id.split('#')[1]);
      if ((!only || only.has(index)) && !exclude.includes(item)) items.set(index, item);
    });
    for (const item of items.values()) run.started(item);
    if (!vscode.workspace.isTrusted) {
      for (const item of items.values()) run.errored(item, testMessage('Restricted Mode: the workspace\'s plugins are not run until you trust it.'));
      return;
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
    try {
      for (const outcome of await runCallFile(calls, host, new Set(items.keys()))) {
        const item = items.get(outcome.call.index);
        if (!item) continue;
        report(run, item, outcome);
        this.reported.fire({ item, outcome });
      }
    } catch (error) {
      const message = testMessage(error instanceof Error ? error.message : String(error));
      for (const item of items.values()) run.errored(item, message);
    } finally {
      await host.dispose();
    }
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

function report(run: vscode.TestRun, item: vscode.TestItem, o: CallOutcome): void {
  if (o.spans.length) appendTerminal(run, `${o.call.name}\n${formatTraceTree(o.spans)}\n`, item);
  if (o.passed) {
    run.passed(item, o.durationMs);
    return;
  }
  const message =
    o.expected !== undefined && o.actual !== undefined
      ? vscode.TestMessage.diff(visibleText(o.reason ?? 'failed', true), visibleText(o.expected, true), visibleText(o.actual, true))
      : testMessage(o.reason ?? 'failed');
  // a failure inside a plugin points at its source line (from DWARF) when that file exists
  const top = topFrame(o.frames);
  if (top?.file !== undefined && top.line !== undefined && fs.existsSync(top.file)) message.location = new vscode.Location(vscode.Uri.file(top.file), rangeOf(top));
  else if (item.uri && item.range) message.location = new vscode.Location(item.uri, item.range);
  run.failed(item, message, o.durationMs);
}
