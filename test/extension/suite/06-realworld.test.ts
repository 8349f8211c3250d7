import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { REPO, cmd, hooks, rejects, reset, setSetting, waitFor } from './helpers';

function tooltipOf(item: vscode.TreeItem): string {
  const t = item.tooltip;
  return typeof t === 'string' ? t : t?.value ?? '';
}

suite('real-world plugins: grants and manifests', () => {
  suiteTeardown(reset);

  test('a WASI plugin needs extismIpc.grants.wasi; with it, it runs and the tree shows the grant', async () => {
    const api = await reset();
    await rejects(cmd('extismIpc.registerPlugin', 'wasi_clock'), /imports WASI .*not granted; grant it WASI in the setting extismIpc\.plugins \(or every plugin, extismIpc\.grants\.wasi\)/);
    await setSetting('grants.wasi', true);
    await waitFor('wasi granted', () => hooks(api).policy().wasi);
    const id = await cmd<number>('extismIpc.registerPlugin', 'wasi_clock');
    const out = JSON.parse(await cmd<string>('extismIpc.callPlugin', id, 'hello', ''));
    assert.equal(out.ok, true);
    const node = hooks(api).tree.pluginNode(id);
    await waitFor('tree item with the WASI badge', () => String(hooks(api).tree.getTreeItem(node).description ?? '').includes('WASI'));
    assert.match(tooltipOf(hooks(api).tree.getTreeItem(node)), /grants: WASI granted; hosts _none_; paths _none_/);
  });

  test('Register Plugin takes an Extism manifest: its config applies and the tree shows it', async () => {
    const api = await reset();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ext-'));
    const manifest = path.join(dir, 'vowels_xyz.json');
    fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(REPO, 'plugins', 'count_vowels.wasm') }], config: { vowels: 'xyz' }, allowed_hosts: ['example.com'] }));
    const id = await cmd<number>('extismIpc.registerPlugin', vscode.Uri.file(manifest));
    assert.deepEqual(JSON.parse(await cmd<string>('extismIpc.callPlugin', id, 'count_vowels', 'xylophone')), { count: 2, total: 2, vowels: 'xyz' });
    const item = hooks(api).tree.getTreeItem(hooks(api).tree.pluginNode(id));
    assert.equal(item.label, `#${id} vowels_xyz`);
    assert.match(String(item.description), /HTTP/);
    const tip = tooltipOf(item);
    assert.ok(tip.includes(`manifest \`${manifest}\``), tip);
    assert.match(tip, /hosts `example\.com`/);
    assert.match(tip, /config: `vowels`/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
