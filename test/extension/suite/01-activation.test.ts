import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, getApi, hooks } from './helpers';

suite('activation', () => {
  test('activates, returns its API and registers every command of the contract', async function () {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const t0 = performance.now();
    const api = await getApi();
    const total = performance.now() - t0;
    console.log(`activation: activate() body ${hooks(api).activationMs.toFixed(1)} ms; ext.activate() in the extension host ${total.toFixed(1)} ms (was active: ${ext.isActive && total < 1})`);
    assert.equal(api.apiVersion, 1);
    assert.ok(hooks(api).activationMs < 500, `activate() took ${hooks(api).activationMs} ms`);
    const all = await vscode.commands.getCommands(true);
    for (const id of [
      'extismIpc.registerPlugin', 'extismIpc.callPlugin', 'extismIpc.unregisterPlugin', 'extismIpc.unregisterAll',
      'extismIpc.showTrace', 'extismIpc.clearTrace', 'extismIpc.exportTrace', 'extismIpc.restartRuntime', 'extismIpc.livePlugins.focus', 'extismIpc.calls.focus',
    ]) {
      assert.ok(all.includes(id), `command ${id} is missing`);
    }
  });

  test('the manifest follows the contract', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as {
      name: string;
      contributes: { viewsContainers: { activitybar: { id: string }[] }; views: Record<string, { id: string; type?: string }[]>; commands: { command: string; category: string }[] };
      capabilities: { untrustedWorkspaces: { supported: string } };
    };
    assert.equal(pkg.name, 'extism-ipc');
    assert.ok(pkg.contributes.viewsContainers.activitybar.some((c) => c.id === 'extismIpc'));
    assert.deepEqual(pkg.contributes.views.extismIpc.map((v) => v.id), ['extismIpc.livePlugins']);
    const calls = Object.values(pkg.contributes.views).flat().find((v) => v.id === 'extismIpc.calls');
    assert.equal(calls?.type, 'webview');
    assert.ok(pkg.contributes.commands.every((c) => c.category === 'Extism'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  });
});
