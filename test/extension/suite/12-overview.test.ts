// The plugin overview: opening a .wasm shows our read-only custom editor (not the binary warning),
// its webview says `ready` and renders what the extension sent; its Call button's command path
// registers the plugin and calls the export; a file that is not wasm shows why. Screenshot for the README.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtismIpcApi } from '../../../src/vscode/api';
import type { FromOverview, OverviewData, ToOverview } from '../../../src/shared/overviewProtocol';
import { kernelPath } from '../../../src/core';
import { REPO, closeEditors, cmd, hooks, reset, setSetting, sleep, waitFor } from './helpers';

const VIEW_TYPE = 'extismIpc.pluginOverview';
const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');
const sample = (name: string) => vscode.Uri.file(path.join(REPO, 'plugins', `${name}.wasm`));

function activeCustomTab(): vscode.TabInputCustom | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input : undefined;
}

/** The last overview posted for this file and the render the webview reported after it. */
async function rendered(api: ExtismIpcApi, fileName: string, pred: (d: OverviewData) => boolean = () => true): Promise<{ data: OverviewData; render: Extract<FromOverview, { type: 'rendered' }> }> {
  const log = hooks(api).overviewMessages;
  const data = await waitFor(`an overview of ${fileName}`, () => {
    const m = [...log.posted].reverse().find((p): p is Extract<ToOverview, { type: 'overview' }> => p.type === 'overview' && p.data.fileName === fileName);
    return m && pred(m.data) ? m.data : undefined;
  }, 20_000);
  const render = await waitFor('the webview to render it', () => {
    const r = [...log.received].reverse().find((m): m is Extract<FromOverview, { type: 'rendered' }> => m.type === 'rendered');
    return r && r.problem === null && r.exports === data.exports.filter((e) => !e.runtime).length ? r : undefined;
  }, 20_000);
  return { data, render };
}

suite('plugin overview', function () {
  this.timeout(90_000);
  let tmp: string;

  suiteSetup(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'extism-overview-'));
  });
  suiteTeardown(async () => {
    await closeEditors();
    await setSetting('hostFunctions', undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('opening a .wasm shows the overview: own exports first, imports with who serves them', async () => {
    const api = await reset();
    await closeEditors();
    await cmd('vscode.openWith', sample('run'), VIEW_TYPE);
    assert.equal(activeCustomTab()?.viewType, VIEW_TYPE);
    await waitFor('the webview to say ready', () => hooks(api).overviewMessages.received.some((m) => m.type === 'ready'), 20_000);
    const { data, render } = await rendered(api, 'run.wasm');
    assert.deepEqual(data.exports.filter((e) => !e.runtime).map((e) => e.name), ['run']);
    assert.deepEqual(data.exports.filter((e) => e.runtime).map((e) => `${e.name}:${e.kind}`), ['memory:memory']);
    const callPlugin = data.imports.find((i) => i.module === 'env' && i.name === 'call_plugin');
    assert.equal(callPlugin?.server, "this host's call_plugin");
    assert.equal(data.imports.find((i) => i.name === 'alloc')?.server, 'Extism kernel (extism:host/env)');
    assert.equal(render.unserved, 0);
    assert.equal(render.imports, data.imports.length);
    assert.equal(data.live, null);
    assert.ok(data.memories.length >= 1 && data.memories[0].exportedAs.includes('memory'));
    // the kernel's path as the editor's runtime takes it (the extension host's V8 is the runtime's)
    assert.deepEqual(data.kernel, kernelPath().path === 'merged' ? { merged: true, why: 'multi-memory' } : { merged: false, why: kernelPath().why });
  });

  test('vscode.open picks the overview for a .wasm (priority default)', async () => {
    await closeEditors();
    await cmd('vscode.open', sample('echo'));
    await waitFor('the overview tab', () => activeCustomTab()?.viewType === VIEW_TYPE);
    assert.ok(activeCustomTab()?.uri.fsPath.endsWith('echo.wasm'));
  });

  test('imports nobody serves are flagged; host functions that serve them are named', async () => {
    const api = await reset();
    await closeEditors();
    await cmd('vscode.openWith', sample('kv_counter'), VIEW_TYPE);
    const before = await rendered(api, 'kv_counter.wasm');
    assert.equal(before.render.unserved, 4);
    assert.match(before.data.imports.find((i) => i.name === 'kv_read')?.server ?? '', /nobody: the plugin will not load/);
    await setSetting('hostFunctions', [path.join(REPO, 'plugins', 'host-functions', 'kv.mjs')]);
    const after = await rendered(api, 'kv_counter.wasm', (d) => d.imports.every((i) => i.served));
    assert.equal(after.data.imports.find((i) => i.name === 'kv_read')?.server, 'host functions kv.mjs');
    // the imports nobody else serves come before the kernel's
    assert.ok(after.data.imports.findIndex((i) => i.kernel) > after.data.imports.findIndex((i) => i.name === 'kv_read'));
    await cmd('workbench.action.closePanel');
    await cmd('workbench.action.closeSidebar');
    await cmd('workbench.action.closeAuxiliaryBar');
    await sleep(800);
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = await shot(path.join(SHOTS, 'overview.png'));
    if (file) assert.ok(fs.statSync(file).size > 10_000, `${file} is too small`);
  });

  test("the Call button's command path registers the plugin, calls the export and returns the output", async () => {
    const api = await reset();
    await closeEditors();
    await cmd('vscode.openWith', sample('count_vowels'), VIEW_TYPE);
    await rendered(api, 'count_vowels.wasm');
    const file = sample('count_vowels').fsPath;
    const out = await cmd<string>('extismIpc.callPlugin', file, 'count_vowels', 'Hello, World!');
    assert.equal(JSON.parse(out).count, 3);
    const live = api.plugins().filter((p) => p.source === file);
    assert.equal(live.length, 1);
    // a second call reuses the live plugin
    await cmd('extismIpc.callPlugin', file, 'count_vowels', 'aaa');
    assert.deepEqual(api.plugins().filter((p) => p.source === file).map((p) => p.id), [live[0].id]);
    // the overview shows it live
    const { data } = await rendered(api, 'count_vowels.wasm', (d) => d.live?.id === live[0].id);
    assert.equal(data.live?.name, 'count_vowels');
  });

  test('a file that is not valid wasm shows why, and never throws', async () => {
    const api = await reset();
    await closeEditors();
    const bad = path.join(tmp, 'broken.wasm');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.from([2, 0x20, 0xff, 0xff, 0xff, 0xff, 0x0f])]));
    await cmd('vscode.openWith', vscode.Uri.file(bad), VIEW_TYPE);
    assert.equal(activeCustomTab()?.viewType, VIEW_TYPE);
    const problem = await waitFor('the webview to show the problem', () => {
      const r = [...hooks(api).overviewMessages.received].reverse().find((m) => m.type === 'rendered');
      return r?.type === 'rendered' && r.problem !== null ? r.problem : undefined;
    }, 20_000);
    assert.match(problem, /not a valid WebAssembly module/);
    const text = path.join(tmp, 'text.wasm');
    fs.writeFileSync(text, 'hello');
    await cmd('vscode.openWith', vscode.Uri.file(text), VIEW_TYPE);
    await waitFor('the text file to be refused', () =>
      hooks(api).overviewMessages.received.some((m) => m.type === 'rendered' && m.problem !== null && /does not start with the bytes/.test(m.problem)), 20_000);
  });
});
