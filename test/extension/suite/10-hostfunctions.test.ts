import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hooks, REPO, reset, setSetting, waitFor } from './helpers';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

suite('host functions the user supplies', () => {
  test('a module in extismIpc.hostFunctions serves a plugin\'s imports in the runtime process, traced; the API adds one that overrides; a broken one is named', async () => {
    const api = await reset();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-hostfn-'));
    const kv = path.join(dir, 'kv.mjs');
    fs.copyFileSync(path.join(REPO, 'plugins', 'host-functions', 'kv.mjs'), kv);
    const double = path.join(dir, 'double.cjs');
    fs.writeFileSync(double, `module.exports = { 'example:math': { mult: (cx, a, b) => 2n * a * b } };\n`);
    const broken = path.join(dir, 'broken.cjs');
    fs.writeFileSync(broken, `module.exports = { 'extism:host/user': { call_plugin: () => 0n } };\n`);
    try {
      await setSetting('hostFunctions', [kv]);
      await waitFor('the setting applied', async () => {
        const p = await api.register('kv_counter').catch(() => undefined);
        return p;
      });
      const plugin = api.plugins().find((p) => p.name === 'kv_counter');
      assert.ok(plugin);
      assert.deepEqual(
        plugin.hostFunctions.map((h) => h.import).sort(),
        ['example:math.mult', 'example:math.scale', 'extism:host/user.kv_read', 'extism:host/user.kv_write'],
      );
      assert.ok(plugin.hostFunctions.every((h) => h.file === kv));
      assert.equal(text(await api.call(plugin.id, 'count_vowels', 'Hello, World!')), '{"count":3,"total":3}');
      assert.equal(text(await api.call(plugin.id, 'count_vowels', 'aeiou')), '{"count":5,"total":8}', 'the module keeps its state in the runtime');
      assert.equal(text(await api.call(plugin.id, 'arith', '6 7')), '42 42.0');
      const spans = await waitFor('the host function spans', () => {
        const s = api.spans().filter((x) => x.host !== undefined);
        return s.length >= 6 && s;
      });
      const read = spans.find((s) => s.host === 'extism:host/user.kv_read');
      assert.ok(read && read.status === 'ok' && read.caller === plugin.id && read.inputBytes === 5, JSON.stringify(read));
      const parent = api.spans().find((s) => s.id === read.parentId);
      assert.equal(parent?.func, 'count_vowels', 'a host function span is a child of the call that made it');

      const item = hooks(api).tree.getTreeItem(hooks(api).tree.pluginNode(plugin.id));
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : String(item.tooltip);
      assert.match(tooltip, /host functions: .*extism:host\/user\.kv_read.* from `[^`]*kv\.mjs`/);

      const added = await api.addHostFunctions(double);
      await waitFor('the override', async () => text(await api.call(plugin.id, 'arith', '6 7')) === '84 42.0' || undefined);
      added.dispose();
      await waitFor('the override taken away', async () => text(await api.call(plugin.id, 'arith', '6 7')) === '42 42.0' || undefined);

      await assert.rejects(api.addHostFunctions(broken), /broken\.cjs did not load: .*call_plugin.*cannot be overridden/);
      await api.unregister(plugin.id);
      await setSetting('hostFunctions', []);
      await assert.rejects(api.register('kv_counter'), /imports functions no linked module, host function or binding supplies: .*extismIpc\.hostFunctions/);
    } finally {
      await setSetting('hostFunctions', undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
