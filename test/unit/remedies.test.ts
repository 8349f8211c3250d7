import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostFunctionStub, IpcError, Remedy } from '../../src/core';
import { closeHosts, pluginsDir, rejects, startHost, transports } from './helpers';
import { TempDir } from './hostFunctionFixtures';
import { prng } from './hostileInput';
import { assemble, ENV_IMPORTS } from './wat';

/** The remedy of the error the promise rejects with. */
async function remedyOf(promise: Promise<unknown>, name: string, message: RegExp): Promise<Remedy | undefined> {
  const error = await rejects(promise, name, message);
  assert.ok(error instanceof IpcError, 'an IpcError');
  return error.remedy;
}

/** Names a plugin chose: every kind of quote, comment closer, line terminator and prototype key. */
const NAME_PIECES = ['kv', '"', "'", '`', '*/', '/*', '\n', '\r', '\u2028', '\u2029', '\\', '${x}', '__proto__', 'constructor', '</script>', ' ', 'é', '\u0000', ')', '{'];
const TYPES = ['i32', 'i64', 'f32', 'f64'];

describe('remedies: what would fix a failure travels with it', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());
  afterEach(closeHosts);

  for (const [kind, transport] of Object.entries(transports)) {
    it(`names the grant a WASI plugin lacks (${kind})`, async () => {
      const host = startHost({}, transport);
      assert.deepEqual(await remedyOf(host.register('wasi_clock'), 'PluginError', /imports WASI .* not granted/), { kind: 'grantWasi', plugin: 'wasi_clock' });
    });

    it(`names the host an HTTP request was refused (${kind})`, async () => {
      const host = startHost({}, transport);
      const p = await host.register('http_get');
      assert.deepEqual(await remedyOf(host.call(p.id, 'get', 'http://127.0.0.1:9/x'), 'PolicyError', /may not reach 127\.0\.0\.1/), {
        kind: 'allowHost',
        plugin: 'http_get',
        host: '127.0.0.1',
      });
    });
  }

  it('keeps the remedy of a plugin spawned inside a call', async () => {
    const host = startHost();
    const p = await host.register('launcher');
    assert.deepEqual(await remedyOf(host.call(p.id, 'spawn', 'wasi_clock'), 'PluginError', /not granted/), { kind: 'grantWasi', plugin: 'wasi_clock' });
  });

  it('tells a pre-1.0 ABI plugin to be rebuilt, not to get host functions', async () => {
    const file = tmp.write('old_abi.wasm', await assemble(`(module
      (import "env" "extism_input_length" (func (result i64)))
      (import "env" "extism_output_set" (func (param i64 i64)))
      (memory (export "memory") 1) (func (export "run") (result i32) (i32.const 0)))`));
    const host = startHost();
    const remedy = await remedyOf(host.register(file), 'PluginError', /pre-1\.0 ABI .*"env"\."extism_input_length".*rebuild it with a current PDK/);
    assert.deepEqual(remedy, { kind: 'rebuildOldAbi', plugin: 'old_abi' });
  });

  it('lists the imports nobody supplies, and the stub module made of them loads and says what is missing', async () => {
    const random = prng(17);
    for (let round = 0; round < 6; round++) {
      const count = 1 + Math.floor(random() * 4);
      const names = new Set<string>();
      while (names.size < count) {
        let name = '';
        for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) name += NAME_PIECES[Math.floor(random() * NAME_PIECES.length)];
        names.add(name);
      }
      const imports = [...names].map((name, i) => {
        const params = Array.from({ length: Math.floor(random() * 4) }, () => TYPES[Math.floor(random() * 4)]);
        const results = random() < 0.3 ? [] : [TYPES[Math.floor(random() * 4)]];
        return { module: i % 2 ? 'example:host' : 'extism:host/user', name, params, results };
      });
      // every byte escaped, so the WAT parser sees the name exactly as the plugin would
      const watName = (s: string) => `"${Buffer.from(s, 'utf8').toString('hex').replace(/../g, '\\$&')}"`;
      const decls = imports
        .map((imp, i) => `(import ${watName(imp.module)} ${watName(imp.name)} (func $f${i} ${imp.params.length ? `(param ${imp.params.join(' ')})` : ''} ${imp.results.length ? `(result ${imp.results[0]})` : ''}))`)
        .join('\n');
      const zero = (t: string) => `(${t}.const 0)`;
      const calls = imports.map((imp, i) => `(func (export "call${i}") (result i32) (call $f${i} ${imp.params.map(zero).join(' ')}) ${imp.results.length ? '(drop)' : ''} (i32.const 0))`).join('\n');
      const file = tmp.write(`needs${round}.wasm`, await assemble(`(module ${ENV_IMPORTS} ${decls} (memory (export "memory") 1) ${calls})`));

      const remedy = await remedyOf(startHost().register(file), 'PluginError', /no linked module, host function or binding supplies/);
      assert.ok(remedy?.kind === 'supplyImports', 'the imports to supply');
      assert.equal(remedy.plugin, `needs${round}`);
      assert.deepEqual(
        remedy.imports.map((i) => [i.module, i.name, i.type]),
        imports.map((i) => [i.module, i.name, `(${i.params.join(', ')}) -> ${i.results.length ? i.results[0] : '()'}`]),
      );

      const stub = tmp.write(`stubs${round}.mjs`, hostFunctionStub(remedy.plugin, remedy.imports));
      const checked = spawnSync(process.execPath, ['--check', stub], { encoding: 'utf8' });
      assert.equal(checked.status, 0, checked.stderr);
      const host = startHost({ hostFunctions: [stub], pluginDirs: [pluginsDir] });
      const p = await host.register(file);
      for (let i = 0; i < imports.length; i++) {
        const expected = `${imports[i].module}.${imports[i].name} is not written yet`;
        const error = await rejects(host.call(p.id, `call${i}`, ''), 'PluginError', /failed/);
        assert.ok(error.message.includes(expected), `${JSON.stringify(error.message)} names ${JSON.stringify(expected)}`);
      }
      await closeHosts();
    }
  });
});
