import * as assert from 'node:assert/strict';
import { closeHosts, startHost, text } from './helpers';

describe('seed scenario: run registers count_vowels and calls it', () => {
  afterEach(closeHosts);

  it('returns the vowel count of "Hello, World!"', async () => {
    const host = startHost();
    const run = await host.register('run');
    assert.equal(run.id, 1);
    const out = JSON.parse(text(await host.call(run.id, 'run')));
    assert.deepEqual(out, { count: 3, total: 3, vowels: 'aeiouAEIOU' });
  });

  it('records the spawned plugin as a child of its spawner', async () => {
    const host = startHost();
    const run = await host.register('run');
    await host.call(run.id, 'run');
    const plugins = host.plugins();
    assert.deepEqual(
      plugins.map((p) => [p.id, p.name, p.parentId]),
      [
        [1, 'run', null],
        [2, 'count_vowels', 1],
      ],
    );
    assert.ok(plugins[1].exports.includes('count_vowels'));
    assert.equal(plugins[1].calls, 1);
    assert.equal(plugins[0].calls, 1);
  });

  it('accepts the seed ABI under env and the PDK ABI under extism:host/user', async () => {
    const host = startHost();
    const run = await host.register('run');
    const chain = await host.register('chain_a');
    assert.ok(run.imports.includes('env.register_plugin'), run.imports.join(', '));
    assert.ok(chain.imports.includes('extism:host/user.register_plugin'), chain.imports.join(', '));
    assert.equal(text(await host.call(chain.id, 'step', 'x')), 'X|A|B|c');
  });
});

describe('seed scenario, called again', () => {
  afterEach(closeHosts);

  it('reuses the count_vowels it spawned, whose total grows', async () => {
    const host = startHost();
    const run = await host.register('run');
    await host.call(run.id, 'run');
    const second = JSON.parse(text(await host.call(run.id, 'run')));
    assert.deepEqual(second, { count: 3, total: 6, vowels: 'aeiouAEIOU' });
    assert.equal(host.plugins().length, 2);
  });
});
