import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCallFile } from '../../src/core';
import { runCallFileOnSdk } from '../../src/core/sdkEngine';
import { cli, pluginsDir, root } from './helpers';

describe('call files on a second engine: @extism/extism', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'test', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '' } });

  it('--engine both on the samples: the engines agree, or the call is skipped on the SDK saying why', () => {
    const r = run('--engine', 'both', path.join(pluginsDir, 'samples.extism-calls.json'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ vowels \(\d+ ms\): the SDK agrees/);
    assert.match(r.stdout, /✓ seed scenario \(\d+ ms\): skipped on the SDK: the plugin imports register_plugin/);
    assert.match(r.stdout, /✓ host functions: kv_read and kv_write keep a count \(\d+ ms\): the SDK agrees/, 'host function modules load afresh for the SDK: their state is its own');
    assert.match(r.stdout, /✓ a runaway stopped by its time limit \(\d+ ms\): the SDK agrees/);
    assert.match(r.stdout, /✓ WASI by grant \(\d+ ms\): the SDK agrees on the verdict; its bytes differ, which the expect allows/, 'a clock differs; its expect allows it');
    assert.match(r.stdout, /\n\d+ passed, 0 failed\n$/);
  });

  it('--engine sdk runs the calls on the SDK; skipped calls are counted as skipped', () => {
    const r = run('--engine', 'sdk', path.join(pluginsDir, 'samples.extism-calls.json'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /- seed scenario: skipped on the SDK: the plugin imports register_plugin/);
    assert.match(r.stdout, /- a chain of three: skipped on the SDK: the plugin imports register_plugin/);
    assert.match(r.stdout, /✓ an error set by the plugin \(\d+ ms\)/);
    assert.match(r.stdout, /, 3 skipped\n$/, 'the seed, the chain and the chain group');
    assert.equal(run('--engine', 'wasmtime', path.join(pluginsDir, 'samples.extism-calls.json')).status, 2);
  });

  it('--engine both fails a call where the engines differ, naming both outputs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-sdk-'));
    try {
      const file = path.join(dir, 'd.extism-calls.json');
      fs.writeFileSync(file, JSON.stringify({ calls: [
        { name: 'echo', plugin: 'echo', function: 'echo', input: 'same', expect: { output: 'same' } },
        { name: 'counted', plugin: 'config_counter', function: 'count', repeat: 2, expect: { output: 'counter=1', maxMs: 10000 } },
        { name: 'calls', plugin: 'echo', function: 'echo', input: 'x', expect: { noCalls: true } },
      ] }));
      const outcomes = await runCallFileOnSdk(readCallFile(file), { samplesDir: pluginsDir });
      assert.deepEqual(outcomes.map((o) => `${o.call.name} ${o.passed}`), ['echo true', 'counted true', 'calls true']);
      assert.deepEqual(outcomes[2].notes, ['not checked on the SDK (it has no trace of nested calls)']);
      const { compareEngines } = await import('../../src/cliTest');
      const differ = compareEngines(
        { ...outcomes[0], output: Buffer.from('other') },
        outcomes[0],
      );
      assert.equal(differ.passed, false);
      assert.equal(differ.reason, 'the engines differ: the runtime gave "other", passed; the SDK gave "same", passed');
      const verdicts = compareEngines(outcomes[0], { ...outcomes[0], passed: false, error: 'boom', output: undefined });
      assert.equal(verdicts.reason, 'the engines differ: the runtime gave "same", passed; the SDK failed (boom), did not pass');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
