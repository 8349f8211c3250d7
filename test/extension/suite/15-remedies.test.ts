// An error that says what to do, with a button that does it; Call Again; the input history and the
// JSON input editor: driven as a person does, through the workbench (workbench.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeEditors, cmd, hooks, reset, sleep, waitFor } from './helpers';
import {
  canAct, clearNotifications, click, clickNotificationButton, dialogs, notificationMatching, notifications, palette, pickItem, pickerTitled, pressKey, quickPick, shootNotifications, typeText, waitForScreen,
} from './workbench';

/** Register Plugin… from the palette, picking a bundled sample by name. */
async function registerFromPalette(name: string): Promise<void> {
  await palette('Extism: Register Plugin…');
  await pickerTitled('Extism: Register Plugin');
  await pickItem(name);
}

const config = () => vscode.workspace.getConfiguration('extismIpc');
const workspaceValue = (key: string) => config().inspect(key)?.workspaceValue;
const folder = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;

suite('errors with a way forward, Call Again, input history', function () {
  this.timeout(120_000);

  suiteSetup(function () {
    if (!canAct() || !folder()) this.skip(); // the runner of run.sh performs the clicks; grants go to the workspace's settings
  });

  setup(async () => {
    await reset();
    await closeEditors();
    await clearNotifications();
  });

  teardown(async () => {
    for (const key of ['plugins', 'hostFunctions']) if (workspaceValue(key) !== undefined) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(path.join(folder()!, 'host-functions'), { recursive: true, force: true });
  });

  test('a WASI plugin: one notification, "Grant WASI to wasi_clock and Retry" grants that plugin only and registers it', async () => {
    const api = await reset();
    const before = hooks(api).notifications.length;
    await registerFromPalette('wasi_clock');
    const note = await notificationMatching(/imports WASI/);
    await sleep(1000); // a second message would have been shown by now
    const shown = hooks(api).notifications.slice(before);
    assert.equal(shown.length, 1, `one notification: ${JSON.stringify(shown)}`);
    assert.match(note.message, /imports WASI/);
    assert.deepEqual(note.buttons, ['Grant WASI to wasi_clock and Retry', 'Open Settings', 'Show Log']);
    assert.deepEqual(await dialogs(), []);

    await shootNotifications('notification-remedy.png');

    await clickNotificationButton(/imports WASI/, 'Grant WASI to wasi_clock and Retry');
    await waitFor('wasi_clock registered', () => api.plugins().some((p) => p.name === 'wasi_clock')).catch(async (e: Error) => {
      throw new Error(`${e.message}; on screen: ${JSON.stringify(await notifications())}`);
    });
    assert.deepEqual(JSON.parse(JSON.stringify(workspaceValue('plugins'))), { wasi_clock: { wasi: true } });
    assert.equal(config().get('grants.wasi'), false, 'the global grant stays off');
    assert.equal(hooks(api).policy().wasi, false);
    // the grant stays: the plugin loads again from code
    const again = await api.register('wasi_clock');
    assert.equal(again.name, 'wasi_clock');
  });

  test('unsupplied imports: "Create Host Functions Module" writes a stub, lists it and opens it; the plugin then loads', async () => {
    const api = await reset();
    await registerFromPalette('kv_counter');
    const note = await notificationMatching(/kv_counter.*imports functions/);
    assert.match(note.message, /kv_counter.*imports functions no linked module, host function or binding supplies/);
    assert.deepEqual(note.buttons, ['Create Host Functions Module', 'Open Settings', 'Show Log']);

    await clickNotificationButton(/imports functions/, 'Create Host Functions Module');
    const stub = path.join(folder()!, 'host-functions', 'kv_counter.mjs');
    await waitFor('the stub opened', () => vscode.window.activeTextEditor?.document.uri.fsPath === stub);
    assert.deepEqual(workspaceValue('hostFunctions'), ['host-functions/kv_counter.mjs']);
    const text = fs.readFileSync(stub, 'utf8');
    assert.match(text, /"kv_read"\(callContext/);
    const plugin = await waitFor('kv_counter loads with the stub', () => api.register('kv_counter').catch(() => undefined), 15_000);
    assert.deepEqual(plugin.hostFunctions.map((h) => h.file), plugin.hostFunctions.map(() => stub));
    await assert.rejects(api.call(plugin.id, 'count_vowels', 'aeiou'), /not written yet/);
  });

  test('a refused host names the setting; "Allow 127.0.0.1 for http_get and Retry" calls again and succeeds; Call Again and the input history repeat it', async () => {
    const api = await reset();
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('hello');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello`;
    try {
      const id = await cmd<number>('extismIpc.registerPlugin', 'http_get');
      await waitFor('the context key', () => api.plugins().length === 1);
      await sleep(300);
      await palette('Extism: Call Plugin…');
      await pickerTitled('Extism: Call Plugin');
      await pressKey('Enter');
      await pickerTitled(`Extism: Call #${id} http_get`);
      await pickItem('get');
      await pickerTitled(`Extism: input for #${id} http_get.get`);
      await pickItem('Type the input…');
      await waitForScreen('the input box', quickPick, (q) => q?.value === 'Hello, World!');
      await typeText(url);
      await pressKey('Enter');

      const note = await notificationMatching(/may not reach/);
      assert.match(note.message, /may not reach 127\.0\.0\.1.*extismIpc\.grants\.allowedHosts/);
      assert.deepEqual(note.buttons, ['Allow 127.0.0.1 for http_get and Retry', 'Open Settings', 'Show Log']);
      assert.deepEqual(hits, []);
      await clickNotificationButton(/may not reach/, 'Allow 127.0.0.1 for http_get and Retry');
      await waitFor('the retried call reached the server', () => hits.length === 1);
      assert.deepEqual(JSON.parse(JSON.stringify(workspaceValue('plugins'))), { http_get: { allowedHosts: ['127.0.0.1'] } });
      assert.deepEqual(config().get('grants.allowedHosts'), []);
      await waitFor('the output shown', () => vscode.window.visibleTextEditors.some((e) => e.document.getText() === '200 hello'));

      // Call Again: the same plugin, function and input, without asking
      await closeEditors();
      await sleep(300);
      await palette('Extism: Call Again');
      await waitFor('called again', () => hits.length === 2);
      await waitFor('its output shown', () => vscode.window.visibleTextEditors.some((e) => e.document.getText() === '200 hello'));

      // the input box of the next call offers the last input first
      void cmd('extismIpc.callPlugin', id, 'get');
      const picker = await waitForScreen('the last input first', quickPick, (q) => q?.title === `Extism: input for #${id} http_get.get` && !!q.items[0]?.focused);
      assert.equal(picker?.items[0]?.label, url, JSON.stringify(picker?.items));
      // picking it is any quick pick's Enter (the history's own logic is unit-tested); dismissed here
      await cmd('workbench.action.closeQuickOpen');
      await waitForScreen('the picker closed', quickPick, (q) => q === null);
      assert.equal(hits.length, 2, 'a dismissed picker calls nothing');
      assert.deepEqual(await dialogs(), []);
    } finally {
      server.close();
    }
  });

  test('input written in a JSON editor is sent with its Send Input button; the editor closes without a save prompt', async () => {
    const api = await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'echo');
    await waitFor('live', () => api.plugins().length === 1);
    const result = cmd<string | undefined>('extismIpc.callPlugin', id, 'echo');
    await pickerTitled(`Extism: input for #${id} echo.echo`);
    await pickItem('Write JSON in an editor…');
    const editor = await waitFor('the input editor', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.isUntitled && e.document.languageId === 'json' ? e : undefined;
    });
    assert.equal(editor.document.getText(), '{}');
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, 0, 2), '{"a": [1, 2]}'));
    await sleep(300); // the title shows Send Input for this editor
    await click({ role: 'button', name: 'Send Input', exact: true });
    assert.equal(await result, '{"a": [1, 2]}');
    await waitFor('the input editor closed', () => editor.document.isClosed || !vscode.window.visibleTextEditors.some((e) => e.document === editor.document));
    assert.deepEqual(await dialogs(), [], 'no save prompt');
  });

  test('New Call File writes <name>.extism-calls.json with a starter call to the last call\'s plugin and opens it', async () => {
    const api = await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'count_vowels');
    await cmd('extismIpc.callPlugin', id, 'count_vowels', 'Hello');
    const file = path.join(folder()!, 'starter.extism-calls.json');
    fs.rmSync(file, { force: true });
    try {
      // a person is asked for the name (the box offers "calls"); Escape writes nothing
      const asked = cmd<vscode.Uri | undefined>('extismIpc.newCallFile');
      await waitForScreen('the name box', quickPick, (q) => q?.value === 'calls');
      await cmd('workbench.action.closeQuickOpen');
      assert.equal(await asked, undefined);
      // the name given as an argument, as a keybinding would
      const created = cmd<vscode.Uri | undefined>('extismIpc.newCallFile', 'starter');
      assert.equal((await created)?.fsPath, file);
      await waitFor('opened', () => vscode.window.activeTextEditor?.document.uri.fsPath === file);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), {
        calls: [{ name: 'count_vowels count_vowels', plugin: 'count_vowels', function: 'count_vowels', input: 'Hello' }],
      });
      assert.ok(api.plugins().length === 1);
    } finally {
      await closeEditors();
      fs.rmSync(file, { force: true });
    }
  });
});
