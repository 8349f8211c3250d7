import * as assert from 'node:assert/strict';
import { cmd, hooks, postedSpans, rejects, reset, setSetting, showPanel, treeShape, waitFor } from './helpers';

suite('refusals and failures surface as errors', () => {
  setup(reset);

  test('a missing export rejects naming plugin, function and reason', async () => {
    await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'count_vowels');
    const message = await rejects(cmd('extismIpc.callPlugin', id, 'nope', 'x'), /has no export "nope"/);
    assert.match(message, new RegExp(`#${id} \\(count_vowels\\)`));
  });

  test('names that are not plugins or not found are refused', async () => {
    await rejects(cmd('extismIpc.registerPlugin', 'no_such_plugin'), /no plugin named "no_such_plugin"/);
    await rejects(cmd('extismIpc.registerPlugin', '..'), /not a plugin name/);
    await rejects(cmd('extismIpc.callPlugin', 999_999, 'run', ''), /no live plugin #999999/);
  });

  test('a trap and an error set by the plugin reject, and the panel shows the failed spans', async () => {
    const api = await reset();
    await showPanel(api);
    const id = await cmd<number>('extismIpc.registerPlugin', 'trap');
    await rejects(cmd('extismIpc.callPlugin', id, 'trap', ''), /trap\)\.trap trapped/);
    await rejects(cmd('extismIpc.callPlugin', id, 'fail', ''), /deliberate failure/);
    assert.equal(await cmd('extismIpc.callPlugin', id, 'ok', ''), 'ok');
    const spans = await waitFor('three spans in the panel', () => {
      const s = [...postedSpans(api).values()].filter((x) => x.calleeName === 'trap' && x.status !== 'running');
      return s.length === 3 ? s : undefined;
    });
    assert.deepEqual(spans.map((s) => `${s.func}:${s.status}`), ['trap:error', 'fail:error', 'ok:ok']);
    assert.match(spans[1].error ?? '', /deliberate failure/);
    await waitFor('the tree to count the failures', () => treeShape(api)[0]?.description === '3 calls, 2 failed');
  });

  test('permissions from the settings refuse a spawn, without a reload', async () => {
    const api = await reset();
    await setSetting('permissions', { run: { spawn: [], call: [] } });
    await waitFor('the permission to apply', () => hooks(api).policy().permissions.run?.spawn.length === 0);
    const id = await cmd<number>('extismIpc.registerPlugin', 'run');
    await rejects(cmd('extismIpc.callPlugin', id, 'run', ''), /may not spawn "count_vowels"/);
    await setSetting('permissions', undefined);
    await waitFor('the default permissions', () => hooks(api).policy().permissions.run === undefined);
    assert.equal(await cmd('extismIpc.callPlugin', id, 'run', ''), '{"count":3,"total":3,"vowels":"aeiouAEIOU"}');
  });

  test('Unregister Plugin ends a plugin and the plugins it spawned; Unregister All ends the rest', async () => {
    const api = await reset();
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    const echo = await cmd<number>('extismIpc.registerPlugin', 'echo');
    await cmd('extismIpc.callPlugin', run, 'run', '');
    await waitFor('three plugins', () => api.plugins().length === 3);
    await cmd('extismIpc.unregisterPlugin', run);
    await waitFor('run and its child gone', () => api.plugins().map((p) => p.id).join() === String(echo));
    assert.deepEqual(treeShape(api).map((n) => n.label), [`#${echo} echo`]);
    await rejects(cmd('extismIpc.unregisterPlugin', run), new RegExp(`no live plugin #${run}`));
    // From the tree's context menu, the argument is the tree node.
    await cmd('extismIpc.unregisterPlugin', hooks(api).tree.getChildren()[0]);
    await waitFor('an empty tree', () => treeShape(api).length === 0);
    await cmd<number>('extismIpc.registerPlugin', 'echo');
    await cmd<number>('extismIpc.registerPlugin', 'echo');
    await cmd('extismIpc.unregisterAll');
    await waitFor('an empty tree', () => treeShape(api).length === 0 && api.plugins().length === 0);
  });
});
