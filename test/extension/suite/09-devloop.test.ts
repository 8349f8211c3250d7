import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CallOutcome } from '../../../src/core';
import { closeEditors, cmd, hooks, REPO, reset, sleep, waitFor } from './helpers';

const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');
const wasm = (name: string) => fs.readFileSync(path.join(REPO, 'plugins', `${name}.wasm`));

suite('the plugin developer\'s loop', () => {
  test('a rebuilt .wasm is reloaded: same id, vars kept, the new code runs; a broken rebuild leaves the old one running', async () => {
    const api = await reset();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-dev-'));
    const file = path.join(dir, 'dev_plugin.wasm');
    fs.writeFileSync(file, wasm('echo'));
    const id = await cmd<number>('extismIpc.registerPlugin', file);
    assert.equal(await cmd('extismIpc.callPlugin', id, 'echo', 'before'), 'before');
    const reloads: number[] = [];
    const sub = api.onDidRecord((r) => r.kind === 'reload' && reloads.push(r.pluginId));
    try {
      // the file watcher starts asynchronously after the registration: on a busy machine a first
      // write can come before it listens, so the rebuild is written again until it is seen
      const rebuilt = wasm('count_vowels');
      const deadline = Date.now() + 20_000;
      while (!reloads.includes(id) && Date.now() < deadline) {
        fs.writeFileSync(file, rebuilt);
        await waitFor('the reload', () => reloads.includes(id), 2_000).catch(() => undefined);
      }
      assert.ok(reloads.includes(id), 'the rebuilt plugin was reloaded');
      const info = api.plugins().find((p) => p.id === id);
      assert.ok(info?.exports.includes('count_vowels'), `exports after the rebuild: ${info?.exports}`);
      assert.ok(info?.reloadedAt, 'the plugin says when it was reloaded');
      assert.equal(JSON.parse(await cmd<string>('extismIpc.callPlugin', id, 'count_vowels', 'aeiou')).count, 5);
      await cmd('extismIpc.livePlugins.focus');
      await hooks(api).treeView.reveal(hooks(api).tree.pluginNode(id), { select: true, focus: true, expand: true });
      await sleep(500);
      await shot(path.join(SHOTS, 'reload-tree.png'));
      await sleep(1000);
      const reloadsBefore = reloads.filter((x) => x === id).length;
      fs.writeFileSync(file, Buffer.from('not wasm at all'));
      await sleep(1500);
      assert.equal(reloads.filter((x) => x === id).length, reloadsBefore, 'a broken rebuild is not a reload');
      assert.equal(JSON.parse(await cmd<string>('extismIpc.callPlugin', id, 'count_vowels', 'aa')).count, 2, 'the old version keeps running');
      await assert.rejects(Promise.resolve(cmd('extismIpc.reloadPlugin', id)), /not a valid WebAssembly module|dev_plugin/);
    } finally {
      sub.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a call file\'s calls are tests in the Test Explorer that report pass and fail; its CodeLens runs a call', async () => {
    const api = await reset();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test window has a folder');
    const uri = vscode.Uri.joinPath(folder.uri, 'dev.extism-calls.json');
    const calls = {
      calls: [
        { name: 'vowels pass', plugin: 'count_vowels', function: 'count_vowels', input: 'Hello, World!', expect: { json: { count: 3 } } },
        { name: 'echo fails', plugin: 'echo', function: 'echo', input: 'actual text', expect: { output: 'expected text' } },
        { name: 'no expect', plugin: 'echo', function: 'echo', input: 'x' },
      ],
    };
    fs.writeFileSync(uri.fsPath, JSON.stringify(calls, null, 2));
    try {
      const tests = hooks(api).callTests;
      const fileItem = await waitFor('the call file in the Test Explorer', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 2 ? item : undefined;
      }, 15_000);
      const labels: string[] = [];
      fileItem.children.forEach((c) => labels.push(c.label));
      assert.deepEqual(labels.sort(), ['echo fails', 'vowels pass'], 'only calls with an expect are tests');
      const reports: CallOutcome[] = [];
      const sub = tests.onDidReport(({ outcome }) => reports.push(outcome));
      try {
        await cmd('testing.runAll');
        await waitFor('both results', () => reports.length >= 2, 20_000);
      } finally {
        sub.dispose();
      }
      assert.deepEqual(reports.map((o) => `${o.call.name}: ${o.passed}`).sort(), ['echo fails: false', 'vowels pass: true']);
      const failed = reports.find((o) => !o.passed);
      assert.equal(failed?.expected, 'expected text');
      assert.equal(failed?.actual, 'actual text');

      await cmd('workbench.view.testing.focus');
      await sleep(1500);
      await shot(path.join(SHOTS, 'test-explorer.png'));
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      await sleep(1000);
      await shot(path.join(SHOTS, 'codelens.png'));
      const lenses = await cmd<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      assert.deepEqual(lenses.map((l) => l.command?.title), ['$(run-all) Run All', ...[1, 2, 3].flatMap(() => ['$(play) Call', '$(pulse) Call with Trace', '$(debug-alt) Debug', '$(flame) Profile'])]);
      const first = lenses[1].command;
      assert.ok(first);
      assert.equal(await cmd(first.command, ...(first.arguments ?? [])), true);
      await waitFor('the output beside', () => vscode.window.visibleTextEditors.some((e) => e.document.getText().includes('"count": 3')));
      assert.ok(api.plugins().some((p) => p.name === 'count_vowels'), 'the CodeLens call runs on the extension\'s host: its plugin is in Live Plugins');
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
      await closeEditors();
    }
  });
});
