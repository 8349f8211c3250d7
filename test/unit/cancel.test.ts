import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { LifeEvent, PluginHost } from '../../src/core';
import { closeHosts, pluginsDir, rejects, startHost, text, transports } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects as cancelled; returns how long after `cancelAt` it settled. */
async function cancelledAfter(call: Promise<unknown>, message: RegExp, cancelAt: () => number): Promise<number> {
  await rejects(call, 'CancelledError', message);
  return Date.now() - cancelAt();
}

function lifeEvents(host: PluginHost): LifeEvent[] {
  return host.trace.all().filter((r): r is LifeEvent => r.kind !== 'call');
}

describe('cancel: one call stops, the runtime and its other plugins go on', () => {
  afterEach(closeHosts);

  for (const name of ['worker', 'childProcess'] as const) {
    it(`${name}: a looping call with no time limit fails as cancelled at once; others keep their vars`, async () => {
      const host = startHost({ callTimeoutMs: 0 }, transports[name]);
      const counter = await host.register('config_counter');
      assert.equal(text(await host.call(counter.id, 'count')), 'counter=1');
      const loop = await host.register('loop');
      for (let round = 0; round < 3; round++) {
        const controller = new AbortController();
        const call = host.call(loop.id, 'spin', '', 'api', undefined, { signal: controller.signal });
        await sleep(300);
        let at = 0;
        const settled = cancelledAfter(call, /^call to plugin #2 \(loop\)\.spin was cancelled$/, () => at);
        at = Date.now();
        controller.abort();
        const took = await settled;
        // at once: with no time limit, only the cancel can end the call (the bound leaves room for a loaded machine)
        assert.ok(took < 1000, `round ${round}: settled ${took} ms after the cancel`);
        assert.equal(text(await host.call(loop.id, 'ok')), 'ok', 'the looping plugin serves again');
        assert.equal(text(await host.call(counter.id, 'count')), `counter=${round + 2}`, 'the other plugin kept its vars');
      }
      assert.deepEqual(host.plugins().map((p) => p.id), [1, 2]);
      const spin = host.trace.spans().filter((s) => s.func === 'spin');
      assert.equal(spin.length, 3);
      for (const s of spin) {
        assert.equal(s.status, 'error');
        assert.match(s.error ?? '', /was cancelled/);
      }
      assert.deepEqual(lifeEvents(host).filter((e) => e.kind === 'restart'), [], 'the runtime never stopped');
    });

    it(`${name}: cancelling a nested looping callee stops the whole chain; both plugins serve again`, async () => {
      const host = startHost({ callTimeoutMs: 60_000, bindings: { bound_relay: { target: 'loop.spin' } } }, transports[name]);
      const echo = await host.register('echo');
      const relay = await host.register('bound_relay');
      const loopId = host.plugins().find((p) => p.name === 'loop')?.id;
      assert.ok(loopId, 'the binding loaded loop');
      const controller = new AbortController();
      const call = host.call(relay.id, 'relay', 'x', 'api', undefined, { signal: controller.signal });
      await sleep(300);
      const t0 = Date.now();
      controller.abort();
      await rejects(call, 'CancelledError', /^call to plugin #2 \(bound_relay\)\.relay was cancelled; plugin #3 \(loop\)\.spin was running$/);
      assert.ok(Date.now() - t0 < 1000, `settled ${Date.now() - t0} ms after the cancel`);
      assert.equal(text(await host.call(loopId, 'ok')), 'ok');
      assert.equal(text(await host.call(echo.id, 'echo', 'still')), 'still');
      const spans = host.trace.spans().filter((s) => s.func === 'spin' || s.func === 'relay');
      assert.deepEqual(spans.map((s) => `${s.func} ${s.status}`).sort(), ['relay error', 'spin error']);
    });

    it(`${name}: a call cancelled while it waits its turn never runs`, async () => {
      const host = startHost({ callTimeoutMs: 0 }, transports[name]);
      const counter = await host.register('config_counter');
      const loop = await host.register('loop');
      const first = new AbortController();
      const second = new AbortController();
      const spinning = host.call(loop.id, 'spin', '', 'api', undefined, { signal: first.signal });
      const queued = host.call(counter.id, 'count', '', 'api', undefined, { signal: second.signal });
      await sleep(200);
      second.abort();
      await sleep(50);
      first.abort();
      await rejects(spinning, 'CancelledError', /spin was cancelled/);
      await rejects(queued, 'CancelledError', /^call to plugin #1 \(config_counter\)\.count was cancelled/);
      assert.equal(text(await host.call(counter.id, 'count')), 'counter=1', 'the cancelled call never counted');
    });

    it(`${name}: a cancel after the call ended, or before anything runs, changes nothing`, async () => {
      const host = startHost({}, transports[name]);
      const counter = await host.register('config_counter');
      const controller = new AbortController();
      assert.equal(text(await host.call(counter.id, 'count', '', 'api', undefined, { signal: controller.signal })), 'counter=1');
      controller.abort();
      await sleep(50);
      assert.equal(text(await host.call(counter.id, 'count')), 'counter=2');
      assert.equal(host.trace.spans().every((s) => s.status === 'ok'), true);
    });
  }

  it('in-process: a call waiting its turn is cancelled; a call already aborted is never sent', async () => {
    const host = startHost();
    const counter = await host.register('config_counter');
    const controller = new AbortController();
    const queued = host.call(counter.id, 'count', '', 'api', undefined, { signal: controller.signal });
    controller.abort();
    await rejects(queued, 'CancelledError', /^call to plugin #1 \(config_counter\)\.count was cancelled before it started$/);
    await rejects(host.call(counter.id, 'count', '', 'api', undefined, { signal: controller.signal }), 'CancelledError', /was cancelled before it was sent/);
    assert.equal(text(await host.call(counter.id, 'count')), 'counter=1');
  });

  it('in-process: a cancel when nothing runs is a no-op', async () => {
    const host = startHost();
    const echo = await host.register('echo');
    const controller = new AbortController();
    assert.equal(text(await host.call(echo.id, 'echo', 'a', 'api', undefined, { signal: controller.signal })), 'a');
    controller.abort();
    assert.equal(text(await host.call(echo.id, 'echo', 'b')), 'b');
  });
});

describe('failed registrations and restarts in the trace', () => {
  afterEach(closeHosts);

  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: a failed registration spends no id and is recorded with its reason`, async () => {
      const host = startHost({}, transport);
      const echo = await host.register('echo');
      await rejects(host.register('no_such_plugin'), 'PolicyError', /no_such_plugin/);
      await rejects(host.register(path.join(pluginsDir, 'README.md')), 'PluginError', /README/);
      const loop = await host.register('loop');
      assert.deepEqual([echo.id, loop.id], [1, 2], 'ids stay dense for what lives');
      await host.unregister(loop.id);
      const again = await host.register('loop');
      assert.equal(again.id, 3, 'an id that lived is never reused');
      const failed = lifeEvents(host).filter((e) => e.kind === 'register-failed');
      assert.deepEqual(failed.map((e) => [e.name, e.pluginId, e.parentId]), [['no_such_plugin', 0, null], ['README.md', 0, null]]);
      for (const e of failed) assert.ok((e.reason ?? '').length > 10, `a reason: ${e.reason}`);
    });
  }

  it('a spawn that fails inside a call spends no id and is recorded under its parent', async () => {
    const host = startHost({ maxPlugins: 3 });
    const spawner = await host.register('spawner');
    await rejects(host.call(spawner.id, 'spawn', 'x'), 'PolicyError', /the limit of 3 live plugins is reached/);
    const failed = lifeEvents(host).filter((e) => e.kind === 'register-failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].name, 'spawner');
    assert.equal(failed[0].parentId, 3);
    assert.match(failed[0].reason ?? '', /maxPlugins/);
    const ids = host.plugins().map((p) => p.id);
    assert.deepEqual(ids, [1, 2, 3]);
    await host.unregisterAll();
    assert.equal((await host.register('echo')).id, 4);
  });

  for (const name of ['worker', 'childProcess'] as const) {
    it(`${name}: a restart is a life event naming why and how many plugins went`, async () => {
      const host = startHost({}, transports[name]);
      await host.register('echo');
      await host.register('loop');
      await host.restart('restarted by a person');
      const restarts = lifeEvents(host).filter((e) => e.kind === 'restart');
      assert.deepEqual(restarts.map((e) => e.reason), ['restarted by a person; 2 plugins unloaded']);
      assert.equal((await host.register('echo')).id, 3);
    });
  }
});
