import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizePolicy } from '../../src/core';
import { closeHosts, rejects, startHost, wasm } from './helpers';
import { TempDir } from './hostFunctionFixtures';

describe('per-plugin rules (policy.plugins)', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());
  afterEach(closeHosts);

  it('grants WASI to the plugin named and to no other', async () => {
    const other = path.join(tmp.dir, 'other_wasi.wasm');
    fs.copyFileSync(wasm('wasi_clock'), other);
    const host = startHost({ plugins: { wasi_clock: { wasi: true } } });
    const p = await host.register('wasi_clock');
    assert.equal(p.grants.wasi, true);
    await rejects(host.register(other), 'PluginError', /other_wasi.*imports WASI .* not granted/);
  });

  it('adds hosts, paths and config to the global ones, and narrows limits only', async () => {
    const dir = tmp.dir;
    const host = startHost({
      allowedHosts: ['global.example'],
      callTimeoutMs: 5000,
      memoryMaxPages: 100,
      plugins: { count_vowels: { allowedHosts: ['api.example'], allowedPaths: { [dir]: '/data' }, config: { vowels: 'aeiou' }, timeoutMs: 50, memoryMaxPages: 100_000 } },
    });
    const p = await host.register('count_vowels');
    assert.deepEqual(p.grants.allowedHosts, ['global.example', 'api.example']);
    assert.deepEqual({ ...p.grants.allowedPaths }, { [dir]: '/data' });
    assert.deepEqual(p.configKeys, ['vowels']);
    assert.equal(p.timeoutMs, 50);
    const q = await host.register('echo');
    assert.deepEqual(q.grants.allowedHosts, ['global.example']);
    assert.deepEqual(q.configKeys, []);
  });

  it('keeps names as data: rules for __proto__ and constructor apply to plugins of those names only', () => {
    const rules = JSON.parse('{"__proto__": {"wasi": true}, "constructor": {"config": {"a": "b"}}}') as Record<string, object>;
    const policy = normalizePolicy({ plugins: rules });
    assert.equal(Object.getPrototypeOf(policy.plugins), null);
    assert.deepEqual(Object.keys(policy.plugins).sort(), ['__proto__', 'constructor']);
    assert.equal(Object.hasOwn(normalizePolicy({}).plugins, 'constructor'), false);
  });

  it('refuses a malformed rule, saying where and what is expected', () => {
    const bad: [unknown, RegExp][] = [
      [[], /plugins must map plugin names/],
      [{ p: true }, /plugins\["p"\] must be an object/],
      [{ p: { wasi: 'yes' } }, /plugins\["p"\]\.wasi must be true or false/],
      [{ p: { allowedHosts: 'x' } }, /allowedHosts must be a list/],
      [{ p: { allowedPaths: { '/x': 1 } } }, /allowedPaths must map host directories/],
      [{ p: { config: [] } }, /config must map keys to strings/],
      [{ p: { timeoutMs: -1 } }, /plugins\["p"\]\.timeoutMs/],
      [{ p: { memoryMaxPages: 1.5 } }, /plugins\["p"\]\.memoryMaxPages/],
      [{ p: { grant: true } }, /unknown field "grant"; the fields are/],
    ];
    for (const [value, message] of bad) {
      assert.throws(() => normalizePolicy({ plugins: value as never }), (e: Error) => e.name === 'PolicyError' && message.test(e.message), JSON.stringify(value));
    }
  });
});
