import * as path from 'node:path';
import * as vscode from 'vscode';
import { pickCallFileTarget } from './pickers';
import * as fs from 'node:fs';
import { CALL_FILE_SUFFIX, frameText, SPAN_DATA_BYTES } from '../core';
import type { StackFrame } from '../core';
import { rangeOf } from './trapDiagnostics';
import type { PluginHost, Span, SpanData } from '../core';
import type { BytesDetail, CallDetail } from '../shared/protocol';
import type { Log } from './log';
import { decodeText, renderBytes } from './outputText';

/** Calls the face made itself whose bytes it keeps (the runtime keeps the others' for a while). */
const KEPT_CALLS = 64;
/** A hex dump in the narrow detail stays short: it is 5 characters of text a byte. */
const DETAIL_HEX_BYTES = 16 * 1024;

/**
 * The bytes behind the call detail. A call a command made (Call Plugin, a call file's Call) is kept
 * here, its input and output heads up to 64 KiB each; any other call, nested ones included, is asked
 * of the runtime, which keeps the last calls' heads while tracing is on. Nothing is sent per call:
 * only the selected call's bytes, when it is selected.
 */
export class CallDetails {
  private readonly kept = new Map<number, SpanData>();

  constructor(
    private readonly host: PluginHost,
    private readonly log: Log,
  ) {}

  /** Keeps the bytes of a call this face made (span `spanId`). */
  remember(spanId: number, input: Uint8Array, output: Uint8Array): void {
    this.kept.delete(spanId);
    this.kept.set(spanId, { spanId, input: input.slice(0, SPAN_DATA_BYTES), inputBytes: input.length, output: output.slice(0, SPAN_DATA_BYTES), outputBytes: output.length });
    while (this.kept.size > KEPT_CALLS) this.kept.delete(this.kept.keys().next().value as number);
  }

  /** Forgets every call (the trace was cleared). */
  clear(): void {
    this.kept.clear();
  }

  private async data(spanId: number): Promise<SpanData | undefined> {
    const mine = this.kept.get(spanId);
    if (mine) return mine;
    try {
      return await this.host.spanData(spanId);
    } catch (error) {
      this.log.error('Call detail', error);
      return undefined;
    }
  }

  private span(spanId: number): Span | undefined {
    return this.host.trace.runningSpans().find((s) => s.id === spanId) ?? this.host.trace.spans().find((s) => s.id === spanId);
  }

  async detail(spanId: number): Promise<CallDetail> {
    const span = this.span(spanId);
    const data = span && span.status !== 'running' ? await this.data(spanId) : undefined;
    const part = (bytes: Uint8Array, total: number, what: string): BytesDetail => ({
      ...pick(renderBytes(bytes, what, total, { textBytes: SPAN_DATA_BYTES, hexBytes: DETAIL_HEX_BYTES })),
      bytes: total,
      kept: bytes.length,
    });
    const frames = data?.frames;
    return {
      ...(frames?.length ? { frames: frames.map((f) => ({ text: frameText(f), crossing: f.crossing !== undefined, openable: workspaceFileOf(f) !== undefined })) } : {}),
      spanId,
      input: data ? part(data.input, data.inputBytes, 'input') : null,
      output: data ? part(data.output, data.outputBytes, 'output') : null,
      noRerun: !span
        ? 'this call is no longer in the trace'
        : span.host !== undefined
          ? 'a host function is not a plugin export'
          : !data
            ? 'its input is no longer kept'
            : data.input.length < data.inputBytes
              ? `its input (${data.inputBytes} bytes) was kept only in part`
              : null,
    };
  }

  /** Opens the source of a frame of a failed call's stack at its line, when the file is in the workspace. */
  async openFrame(spanId: number, index: number): Promise<void> {
    const frame = Number.isInteger(index) ? (await this.data(spanId))?.frames?.[index] : undefined;
    const file = frame && workspaceFileOf(frame);
    if (!frame || !file) return;
    const range = rangeOf(frame);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(range.start, range.start), preview: true });
  }

  /** Copies a call's input or output: as text when it reads as text, else in base64 (said in the status bar). */
  async copy(spanId: number, which: 'input' | 'output'): Promise<void> {
    const data = await this.data(spanId);
    if (!data) return void this.log.toast(`the ${which} of call ${spanId} is no longer kept`);
    const bytes = which === 'input' ? data.input : data.output;
    const total = which === 'input' ? data.inputBytes : data.outputBytes;
    const text = decodeText(bytes, bytes.length < total);
    await vscode.env.clipboard.writeText(text ?? Buffer.from(bytes).toString('base64'));
    const cut = bytes.length < total ? ` (the first ${bytes.length} of ${total} bytes)` : '';
    vscode.window.setStatusBarMessage(`Extism: ${which} copied${text === undefined ? ' in base64' : ''}${cut}`, 4000);
  }

  /** The same plugin, function and input again, through Call Plugin (its output opens, its call is selected). */
  async rerun(spanId: number): Promise<void> {
    const found = await this.whole(spanId);
    if (!found) return;
    try {
      await vscode.commands.executeCommand('extismIpc.callPlugin', found.span.calleeId, found.span.func, found.data.input, { showOutput: true });
    } catch (error) {
      void this.log.toast(error instanceof Error ? error.message : String(error));
    }
  }

  /** Appends the call to a call file the person picks (or a new one), and opens it at the new call. */
  async addToCallFile(spanId: number): Promise<void> {
    const found = await this.whole(spanId);
    if (!found) return;
    const file = await pickCallFile();
    if (!file) return;
    try {
      await appendCall(file, found.span, found.data.input, this.host);
    } catch (error) {
      void this.log.toast(this.log.error('Add to Call File', error));
    }
  }

  private async whole(spanId: number): Promise<{ span: Span; data: SpanData } | undefined> {
    const detail = await this.detail(spanId);
    const span = this.span(spanId);
    const data = await this.data(spanId);
    if (detail.noRerun !== null || !span || !data) {
      void this.log.toast(`call ${spanId} cannot be run again: ${detail.noRerun ?? 'it is gone'}`);
      return undefined;
    }
    return { span, data };
  }
}

function pick(r: { kind: BytesDetail['kind']; text: string }): Pick<BytesDetail, 'kind' | 'text'> {
  return { kind: r.kind, text: r.text };
}

const NEW_FILE = 'New call file…';

async function pickCallFile(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles(`**/*${CALL_FILE_SUFFIX}`, '**/node_modules/**', 200);
  const chosen = await pickCallFileTarget(found.sort((a, b) => a.fsPath.localeCompare(b.fsPath)), NEW_FILE);
  if (!chosen) return undefined;
  if (chosen !== 'new') return chosen;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'New call file',
    defaultUri: folder ? vscode.Uri.joinPath(folder, `calls${CALL_FILE_SUFFIX}`) : undefined,
    filters: { 'Extism call file': ['json'] },
    saveLabel: 'Create',
  });
  if (!target) return undefined;
  return target.path.endsWith(CALL_FILE_SUFFIX) ? target : target.with({ path: target.path.replace(/(\.json)?$/, CALL_FILE_SUFFIX) });
}

/**
 * Appends `{ name, plugin, function, input }` to the file's `calls` (a new file gets only that call)
 * through a WorkspaceEdit, so an open, unsaved file keeps its edits; saves it and shows the new call.
 */
export async function appendCall(file: vscode.Uri, span: Span, input: Uint8Array, host: PluginHost): Promise<void> {
  let exists = true;
  try {
    await vscode.workspace.fs.stat(file);
  } catch {
    exists = false;
  }
  const edit = new vscode.WorkspaceEdit();
  let content: { calls: unknown[] } & Record<string, unknown>;
  let indent: string | number = 2;
  let doc: vscode.TextDocument | undefined;
  if (exists) {
    doc = await vscode.workspace.openTextDocument(file);
    const text = doc.getText();
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { calls?: unknown }).calls)) {
      throw new Error(`${vscode.workspace.asRelativePath(file)} has no "calls" list`);
    }
    content = parsed as typeof content;
    indent = /\n(\t| +)"/.exec(text)?.[1] ?? 2;
  } else {
    content = { calls: [] };
    edit.createFile(file, { ignoreIfExists: true });
  }
  const names = new Set(content.calls.map((c) => (typeof c === 'object' && c !== null ? (c as { name?: unknown }).name : undefined)));
  const base = `${span.calleeName}.${span.func}`;
  let name = base;
  for (let i = 2; names.has(name); i++) name = `${base} ${i}`;
  const text = decodeText(input);
  content.calls.push({ name, plugin: pluginRef(span, file, host), function: span.func, input: text !== undefined ? text : { base64: Buffer.from(input).toString('base64') } });
  const json = `${JSON.stringify(content, null, indent)}\n`;
  if (doc) edit.replace(file, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), json);
  else edit.insert(file, new vscode.Position(0, 0), json);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`${vscode.workspace.asRelativePath(file)} could not be edited`);
  doc = await vscode.workspace.openTextDocument(file);
  await doc.save();
  const at = doc.getText().lastIndexOf(JSON.stringify(name));
  const pos = doc.positionAt(Math.max(at, 0));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false });
}

/** The plugin as a call file names it: a path relative to the file when it was loaded from the workspace, else its name. */
function pluginRef(span: Span, file: vscode.Uri, host: PluginHost): string {
  const source = host.plugin(span.calleeId)?.source;
  if (source && path.isAbsolute(source) && vscode.workspace.getWorkspaceFolder(vscode.Uri.file(source))) {
    const rel = path.relative(path.dirname(file.fsPath), source).split(path.sep).join('/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  }
  return span.calleeName;
}

/** A frame's source file when it exists inside a workspace folder: the one kind of file the panel opens. */
function workspaceFileOf(frame: StackFrame): string | undefined {
  const file = frame.file;
  if (file === undefined || frame.line === undefined || !path.isAbsolute(file)) return undefined;
  if (!vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))) return undefined;
  return fs.existsSync(file) ? file : undefined;
}
