// The editor as a plugin author lives it: one output document per plugin.function, a trace panel
// that follows and selects new calls, the detail of any call (nested ones through the runtime), the filter.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtismIpcApi } from '../../../src/vscode/api';
import type { CallDetail, FromWebview } from '../../../src/shared/protocol';
import { REPO, SEED_OUTPUT, closeEditors, cmd, hooks, reset, showPanel, sleep, waitFor } from './helpers';
import { canAct, webviewTexts } from './workbench';

const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');

type Rendered = Extract<FromWebview, { type: 'rendered' }>;

function lastRendered(api: ExtismIpcApi): Rendered | undefined {
  const m = [...hooks(api).messages.received].reverse().find((r) => r.type === 'rendered');
  return m?.type === 'rendered' ? m : undefined;
}

function postedDetail(api: ExtismIpcApi, spanId: number): CallDetail | undefined {
  for (const m of [...hooks(api).messages.posted].reverse()) if (m.type === 'detail' && m.detail.spanId === spanId) return m.detail;
  return undefined;
}

function outputDocs(): vscode.TextDocument[] {
  return vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'extism-output');
}

suite('the editor as a plugin author lives it', function () {
  this.timeout(60_000);

  test('calling the same plugin.function twice leaves one read-only output document, updated', async () => {
    await reset();
    await closeEditors();
    const id = await cmd<number>('extismIpc.registerPlugin', 'echo');
    await cmd('extismIpc.callPlugin', id, 'echo', 'first', { showOutput: true });
    const first = await waitFor('the output document', () => {
      const d = vscode.window.activeTextEditor?.document;
      return d?.uri.scheme === 'extism-output' && d.getText() === 'first' ? d : undefined;
    });
    assert.equal(first.uri.path, '/echo.echo');
    await cmd('extismIpc.callPlugin', id, 'echo', 'second', { showOutput: true });
    await waitFor('the same document, updated', () => vscode.window.activeTextEditor?.document.getText() === 'second');
    const doc = vscode.window.activeTextEditor!.document;
    assert.equal(doc.uri.toString(), first.uri.toString());
    assert.equal(doc.isDirty, false);
    assert.deepEqual(outputDocs().filter((d) => d.uri.path === '/echo.echo').length, 1);
    assert.equal(vscode.workspace.textDocuments.filter((d) => d.isUntitled).length, 0, 'no untitled documents');

    // an empty output is said in words; another function gets its own document
    await cmd('extismIpc.callPlugin', id, 'echo', '', { showOutput: true });
    await waitFor('the empty output', () => vscode.window.activeTextEditor?.document.getText() === '(empty output: 0 bytes)');
    await cmd('extismIpc.callPlugin', id, 'length', 'four', { showOutput: true });
    await waitFor('the length document', () => vscode.window.activeTextEditor?.document.uri.path === '/echo.length');
    assert.equal(vscode.window.activeTextEditor?.document.getText(), '4');

    // a second live plugin of the same name gets its own document, named with its id
    const twin = await cmd<number>('extismIpc.registerPlugin', 'echo');
    await cmd('extismIpc.callPlugin', twin, 'echo', 'twin', { showOutput: true });
    await waitFor('the twin\'s document', () => vscode.window.activeTextEditor?.document.uri.path === `/echo.echo (#${twin})`);
    assert.equal(vscode.window.activeTextEditor?.document.getText(), 'twin');

    // JSON is pretty-printed, in the json language
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    await cmd('extismIpc.callPlugin', run, 'run', 'Hello, World!', { showOutput: true });
    const json = await waitFor('the JSON output', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.path === '/run.run' && e.document.languageId === 'json' ? e.document : undefined;
    });
    assert.equal(json.getText(), JSON.stringify(JSON.parse(SEED_OUTPUT), null, 2));
    assert.equal(vscode.workspace.textDocuments.filter((d) => d.isUntitled || d.isDirty).length, 0);
    await closeEditors();
  });

  test('the panel selects a new call; a nested call\'s detail comes from the runtime; the filter', async () => {
    const api = await reset();
    await showPanel(api);
    const relay = await cmd<number>('extismIpc.registerPlugin', 'relay');
    assert.equal(await cmd('extismIpc.callPlugin', relay, 'relay', 'ping'), 'ping');
    const top = api.spans().find((s) => s.calleeName === 'relay')!;
    const nested = api.spans().find((s) => s.calleeName === 'echo')!;
    assert.equal(nested.parentId, top.id);
    // Call Plugin selects its call, and the view asks for its detail (kept by the face)
    const selected = await waitFor('the call selected with its detail', () => {
      const r = lastRendered(api);
      return r && r.selected === top.id && r.detail === top.id ? r : undefined;
    }, 20_000);
    assert.equal(selected.spans, 2);
    const topDetail = postedDetail(api, top.id)!;
    assert.equal(topDetail.input?.text, 'ping');
    assert.equal(topDetail.output?.text, 'ping');
    assert.equal(topDetail.noRerun, null);

    // the nested call: selected, its bytes fetched from the runtime on demand
    hooks(api).panel.revealCall(nested.id);
    await waitFor('the nested call\'s detail', () => lastRendered(api)?.detail === nested.id, 20_000);
    const detail = postedDetail(api, nested.id)!;
    assert.deepEqual([detail.input?.kind, detail.input?.text, detail.input?.bytes], ['text', 'ping', 4]);
    assert.deepEqual([detail.output?.kind, detail.output?.text], ['text', 'ping']);

    // an empty input is said in words; a binary one is a hex dump
    await cmd('extismIpc.callPlugin', relay, 'relay', '');
    await cmd('extismIpc.callPlugin', relay, 'relay', new Uint8Array([0, 1, 2, 0xff]));
    const spans = api.spans().filter((s) => s.calleeName === 'echo');
    const [empty, binary] = spans.slice(-2);
    hooks(api).panel.revealCall(empty.id);
    await waitFor('the empty call\'s detail', () => lastRendered(api)?.detail === empty.id, 20_000);
    assert.equal(postedDetail(api, empty.id)?.input?.text, '(empty input: 0 bytes)');
    hooks(api).panel.revealCall(binary.id);
    await waitFor('the binary call\'s detail', () => lastRendered(api)?.detail === binary.id, 20_000);
    assert.match(postedDetail(api, binary.id)?.output?.text ?? '', /^00000000 {2}00 01 02 ff/);

    // the filter: by function, failed only, then everything again
    const trap = await cmd<number>('extismIpc.registerPlugin', 'trap');
    await cmd('extismIpc.callPlugin', trap, 'fail', 'boom').then(undefined, () => undefined);
    await waitFor('every call rendered', () => lastRendered(api)?.spans === 7, 20_000);
    await cmd('extismIpc.showCallsOf', 'echo.');
    await waitFor('only the echo calls', () => lastRendered(api)?.shown === 3, 20_000);
    await cmd('extismIpc.showCallsOf', '', { failedOnly: true });
    await waitFor('only the failure', () => { const r = lastRendered(api); return r?.shown === 1 && r.errors === 1; }, 20_000);
    await cmd('extismIpc.showCallsOf', '');
    await waitFor('every call again', () => lastRendered(api)?.shown === 7, 20_000);
  });

  test('Call with Trace (a call file\'s CodeLens) shows the panel with its call selected; screenshots', async () => {
    const api = await reset();
    await closeEditors();
    const file = vscode.Uri.file(path.join(REPO, 'plugins', 'samples.extism-calls.json'));
    assert.equal(await cmd('extismIpc.runCallFromFile', file, 0, true), true);
    const root = api.spans().find((s) => s.parentId === null && s.calleeName === 'run')!;
    await waitFor('the call selected in the panel', () => lastRendered(api)?.selected === root.id && lastRendered(api)?.detail === root.id, 20_000);
    const output = await waitFor('its output beside', () => outputDocs().find((d) => d.uri.path === '/run.run'));
    assert.equal(output.getText(), JSON.stringify(JSON.parse(SEED_OUTPUT), null, 2));

    // more calls, a nested one selected: the panel as a person sees it
    await cmd('extismIpc.callPlugin', root.calleeId, 'run', 'Nested calls, one detail');
    const chain = await cmd<number>('extismIpc.registerPlugin', 'chain_a');
    await cmd('extismIpc.callPlugin', chain, 'step', 'x');
    const nested = api.spans().filter((s) => s.calleeName === 'count_vowels').at(-1)!;
    hooks(api).panel.revealCall(nested.id);
    await waitFor('the nested call\'s detail', () => lastRendered(api)?.detail === nested.id, 20_000);
    await closeEditors();
    await cmd('extismIpc.showTrace');
    await sleep(500);
    fs.mkdirSync(SHOTS, { recursive: true });
    await cmd('workbench.action.toggleMaximizedPanel');
    await sleep(800);
    const f = await shot(path.join(SHOTS, 'panel-detail.png'));
    await cmd('workbench.action.toggleMaximizedPanel');
    if (f) assert.ok(fs.statSync(f).size > 10_000, `${f} is too small`);
  });

  test('a nested call\'s row names its caller in full, as a top-level row does, in a panel with the detail beside', async function () {
    if (!canAct()) this.skip(); // the runner of run.sh reads the webview
    const api = await reset();
    await closeEditors();
    await showPanel(api);
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    await cmd('extismIpc.callPlugin', run, 'run', 'Hello, World!');
    const chain = await cmd<number>('extismIpc.registerPlugin', 'chain_a');
    await cmd('extismIpc.callPlugin', chain, 'step', 'x');
    const nested = api.spans().filter((s) => s.parentId !== null);
    const chainB = api.plugins().find((p) => p.name === 'chain_b')?.id;
    // run calls count_vowels; chain_a calls chain_b, which calls chain_c
    const expected = [`#${run} run`, `#${chain} chain_a`, `#${chainB} chain_b`];
    assert.deepEqual(nested.map((s) => s.caller).sort(), [run, chain, chainB].sort());
    // the panel as images/panel-detail.png shows it: a nested call's detail beside the tree
    hooks(api).panel.revealCall(nested[nested.length - 1].id);
    await waitFor('the nested call\'s detail', () => lastRendered(api)?.detail === nested[nested.length - 1].id, 20_000);
    await cmd('workbench.action.toggleMaximizedPanel');
    try {
      await sleep(800);
      const cells = await webviewTexts('#tree li[role="treeitem"] > .row > .caller');
      assert.deepEqual(cells.map((c) => c.text).sort(), ['command', 'command', ...expected].sort(), JSON.stringify(cells));
      assert.deepEqual(cells.filter((c) => c.cut), [], 'every caller is shown whole');
    } finally {
      await cmd('workbench.action.toggleMaximizedPanel');
    }
  });
});
