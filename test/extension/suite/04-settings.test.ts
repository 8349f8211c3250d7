import * as assert from 'node:assert/strict';
import { cmd, hooks, rejects, reset, setSetting, sleep, waitFor } from './helpers';

suite('settings take effect without a reload', () => {
  suiteTeardown(reset);

  test('extismIpc.limits.maxCallDepth = 2 refuses chain_a\'s third level', async () => {
    const api = await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'chain_a');
    assert.equal(await cmd('extismIpc.callPlugin', id, 'step', 'x'), 'X|A|B|c');
    await setSetting('limits.maxCallDepth', 2);
    await waitFor('maxCallDepth 2', () => hooks(api).policy().maxCallDepth === 2);
    await rejects(cmd('extismIpc.callPlugin', id, 'step', 'x'), /call depth limit of 2/);
    await setSetting('limits.maxCallDepth', undefined);
    await waitFor('maxCallDepth back to 16', () => hooks(api).policy().maxCallDepth === 16);
    assert.equal(await cmd('extismIpc.callPlugin', id, 'step', 'x'), 'X|A|B|c');
  });

  test('a looping plugin is stopped by extismIpc.limits.callTimeoutMs while the extension host stays responsive', async () => {
    const api = await reset();
    await setSetting('limits.callTimeoutMs', 1500);
    await waitFor('callTimeoutMs 1500', () => hooks(api).policy().callTimeoutMs === 1500);
    const id = await cmd<number>('extismIpc.registerPlugin', 'loop');
    const t0 = Date.now();
    let settled = false;
    const call = Promise.resolve(cmd('extismIpc.callPlugin', id, 'spin', '')).finally(() => (settled = true));
    // the expectation is attached now, so the rejection is handled the moment it happens
    const outcome = rejects(call, /timed out after 1500 ms/);
    // While the plugin spins in the runtime worker, this thread keeps running timers and commands.
    const gaps: number[] = [];
    let last = Date.now();
    while (!settled && Date.now() - t0 < 10_000) {
      await sleep(20);
      const now = Date.now();
      gaps.push(now - last);
      last = now;
      if (gaps.length === 10) {
        const plugins = await cmd<unknown>('extismIpc.livePlugins.focus').then(() => api.plugins());
        assert.equal(plugins.length, 1);
      }
    }
    const message = await outcome;
    const elapsed = Date.now() - t0;
    console.log(`loop.spin stopped after ${elapsed} ms; longest event-loop gap while it ran ${Math.max(...gaps)} ms over ${gaps.length} ticks`);
    assert.match(message, /loop\)\.spin/);
    assert.ok(elapsed >= 1400 && elapsed < 5000, `stopped after ${elapsed} ms`);
    assert.ok(gaps.length > 20, `only ${gaps.length} timer ticks while the plugin ran`);
    assert.ok(Math.max(...gaps) < 500, `the extension host stalled for ${Math.max(...gaps)} ms`);
    // The plugin is still there, with a fresh instance, and answers.
    assert.equal(await cmd('extismIpc.callPlugin', id, 'ok', ''), 'ok');
    const failed = api.spans().find((s) => s.func === 'spin');
    assert.equal(failed?.status, 'error');
  });

  test('Restart Plugin Runtime stops a call that has no time limit and unloads every plugin', async () => {
    const api = await reset();
    await setSetting('limits.callTimeoutMs', 0);
    await waitFor('no time limit', () => hooks(api).policy().callTimeoutMs === 0);
    const before = await cmd<number>('extismIpc.registerPlugin', 'loop');
    const outcome = rejects(cmd('extismIpc.callPlugin', before, 'spin', ''), /the plugin runtime stopped \(restarted\); every plugin was unloaded/);
    await sleep(300);
    await cmd('extismIpc.restartRuntime', { confirm: false });
    await outcome;
    await waitFor('empty tree', () => hooks(api).tree.getChildren().length === 0);
    await setSetting('limits.callTimeoutMs', undefined);
    const after = await cmd<number>('extismIpc.registerPlugin', 'loop');
    assert.ok(after > before, `id ${after} after ${before}: ids are never reused`);
    assert.equal(await cmd('extismIpc.callPlugin', after, 'ok', ''), 'ok');
  });
});
