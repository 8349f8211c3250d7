import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeHosts, rejects, startHost, text } from './helpers';

describe('calls between plugins', () => {
  afterEach(closeHosts);

  it('passes data along a 3-deep chain', async () => {
    const host = startHost();
    const a = await host.register('chain_a');
    assert.equal(text(await host.call(a.id, 'step', 'hello')), 'HELLO|A|B|c');
    const spans = host.trace.spans();
    assert.deepEqual(
      spans.map((s) => [s.calleeName, s.depth]).sort((x, y) => (x[1] as number) - (y[1] as number)),
      [
        ['chain_a', 0],
        ['chain_b', 1],
        ['chain_c', 2],
      ],
    );
  });

  it('round-trips 3 MiB of binary data through call_plugin unchanged', async () => {
    const host = startHost();
    const relay = await host.register('relay');
    const input = new Uint8Array(randomBytes(3 * 1024 * 1024 + 5));
    const output = await host.call(relay.id, 'relay', input);
    assert.equal(output.byteLength, input.byteLength);
    assert.ok(Buffer.from(output).equals(Buffer.from(input)));
    const echo = host.plugins().find((p) => p.name === 'echo');
    assert.equal(echo?.parentId, relay.id);
  });

  it('keeps vars for the life of a plugin', async () => {
    const host = startHost();
    const cv = await host.register('count_vowels');
    await host.call(cv.id, 'count_vowels', 'aaa');
    const second = JSON.parse(text(await host.call(cv.id, 'count_vowels', 'ee')));
    assert.deepEqual(second, { count: 2, total: 5, vowels: 'aeiouAEIOU' });
  });

  it('gives plugins their config', async () => {
    const host = startHost();
    const cv = await host.register('count_vowels', { config: { vowels: 'xyz' } });
    const out = JSON.parse(text(await host.call(cv.id, 'count_vowels', 'xylophone')));
    assert.deepEqual(out, { count: 2, total: 2, vowels: 'xyz' });
  });

  it('surfaces a trap in a callee in its caller', async () => {
    const host = startHost();
    const pong = await host.register('pong');
    await rejects(host.call(pong.id, 'call_trap'), 'PluginError', /plugin #2 \(trap\)\.trap trapped: unreachable/);
    const spans = host.trace.spans();
    assert.deepEqual(spans.map((s) => s.status), ['error', 'error']);
    // the caller still works afterwards
    await rejects(host.call(pong.id, 'call_trap'), 'PluginError', /trap/);
  });

  it('reports an error set by a plugin, and its exit code', async () => {
    const host = startHost();
    const trap = await host.register('trap');
    await rejects(host.call(trap.id, 'fail'), 'PluginError', /plugin #1 \(trap\)\.fail failed: deliberate failure/);
    assert.equal(text(await host.call(trap.id, 'ok')), 'ok');
  });

  it('never reuses an id, and unregistering a plugin ends the plugins it spawned', async () => {
    const host = startHost();
    const run = await host.register('run');
    await host.call(run.id, 'run');
    const echo = await host.register('echo');
    assert.equal(echo.id, 3);
    await host.unregister(run.id);
    assert.deepEqual(host.plugins().map((p) => p.id), [3]);
    const next = await host.register('run');
    assert.equal(next.id, 4);
    await rejects(host.call(run.id, 'run'), 'PolicyError', /no live plugin #1/);
    await host.unregisterAll();
    assert.equal(host.plugins().length, 0);
    assert.deepEqual(
      host.trace.all().filter((r) => r.kind !== 'call').map((r) => `${r.kind} ${r.pluginId}`),
      ['spawn 1', 'spawn 2', 'spawn 3', 'unregister 2', 'unregister 1', 'spawn 4', 'unregister 3', 'unregister 4'],
    );
  });

  it('never runs a command module\'s _start at load; each _start call runs the program on a fresh instance, vars kept', async () => {
    const host = startHost();
    const p = await host.register('command_style');
    assert.ok(p.exports.includes('_start') && p.exports.includes('ready'), `exports: ${p.exports.join(', ')}`);
    assert.equal(text(await host.call(p.id, 'ready')), 'not started 0', '_start did not run at load');
    assert.equal(text(await host.call(p.id, '_start')), 'run 1');
    assert.equal(text(await host.call(p.id, 'ready')), 'not started 0', 'the call after _start has a fresh instance');
    assert.equal(text(await host.call(p.id, '_start')), 'run 2', 'the program ran again, and its var was kept');
    assert.equal(text(await host.call(p.id, '_start')), 'run 3');
  });

  it('loads a plugin by path as well as by name', async () => {
    const host = startHost({ pluginDirs: [] });
    const { wasm } = await import('./helpers');
    const echo = await host.register(wasm('echo'));
    assert.equal(echo.name, 'echo');
    assert.equal(text(await host.call(echo.id, 'echo', 'by path')), 'by path');
  });
});
