import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeHosts, pluginsDir, startHost, text, wasm } from './helpers';
import { assertSeedScenario, cleanOutcome, Outcome, removeTempDirs, tally, tempDir } from './hostileInput';

const HOSTILE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

/** Malformed and hostile manifests, by name: the text of each, or an object to serialise. */
function hostileManifests(dir: string): [string, string | object][] {
  const echo = { path: wasm('echo') };
  const echoData = { data: fs.readFileSync(wasm('echo')).toString('base64') };
  const cases: [string, string | object][] = [
    ['empty', ''],
    ['not_json', '{wasm: ['],
    ['null', 'null'],
    ['array', '[]'],
    ['string', '"wasm"'],
    ['number', '42'],
    ['no_wasm', {}],
    ['wasm_empty', { wasm: [] }],
    ['wasm_object', { wasm: {} }],
    ['wasm_string', { wasm: 'echo.wasm' }],
    ['wasm_null_entry', { wasm: [null] }],
    ['wasm_number_entry', { wasm: [7] }],
    ['wasm_no_source', { wasm: [{}] }],
    ['path_number', { wasm: [{ path: 5 }] }],
    ['path_empty', { wasm: [{ path: '' }] }],
    ['path_nul', { wasm: [{ path: 'echo\u0000.wasm' }] }],
    ['path_traversal', { wasm: [{ path: '../../../../../../etc/passwd' }] }],
    ['path_traversal_missing', { wasm: [{ path: '../../nowhere/x.wasm' }] }],
    ['path_dev_zero', { wasm: [{ path: '/dev/zero' }] }],
    ['path_dev_random', { wasm: [{ path: '/dev/urandom' }] }],
    ['path_proc', { wasm: [{ path: '/proc/self/mem' }] }],
    ['path_dir', { wasm: [{ path: '.' }] }],
    ['path_fifo', { wasm: [{ path: 'pipe.wasm' }] }],
    ['path_itself', { wasm: [{ path: 'path_itself.json' }] }],
    ['url', { wasm: [{ url: 'http://127.0.0.1:1/x.wasm' }] }],
    ['data_number', { wasm: [{ data: 1 }] }],
    ['data_empty', { wasm: [{ data: '' }] }],
    ['data_not_base64', { wasm: [{ data: '!!!!' }] }],
    ['data_not_wasm', { wasm: [{ data: Buffer.from('hello').toString('base64') }] }],
    ['hash_short', { wasm: [{ ...echo, hash: 'abc' }] }],
    ['hash_wrong', { wasm: [{ ...echo, hash: '0'.repeat(64) }] }],
    ['hash_number', { wasm: [{ ...echo, hash: 12 }] }],
    ['name_empty', { wasm: [{ ...echo, name: '' }] }],
    ['name_number', { wasm: [{ ...echo, name: 3 }] }],
    ['duplicate_names', { wasm: [{ ...echo, name: 'a' }, { ...echo, name: 'a' }, echo] }],
    ['duplicate_main', { wasm: [{ ...echo, name: 'main' }, echo] }],
    ['missing_main', { wasm: [{ ...echo, name: 'a' }, { ...echo, name: 'b' }] }],
    ['unknown_field', { wasm: [echo], extra: true }],
    ['unknown_proto_field', `{"wasm": [{"path": ${JSON.stringify(wasm('echo'))}}], "__proto__": {"polluted": true}}`],
    ['config_array', { wasm: [echo], config: ['a'] }],
    ['config_number_value', { wasm: [echo], config: { a: 1 } }],
    ['config_null', { wasm: [echo], config: null }],
    ['memory_array', { wasm: [echo], memory: [] }],
    ['memory_string', { wasm: [echo], memory: 'big' }],
    ['max_pages_negative', { wasm: [echo], memory: { max_pages: -1 } }],
    ['max_pages_fraction', { wasm: [echo], memory: { max_pages: 0.5 } }],
    ['max_pages_string', { wasm: [echo], memory: { max_pages: '16' } }],
    ['max_pages_huge', { wasm: [echo], memory: { max_pages: 1e100 } }],
    ['max_var_bytes_negative', { wasm: [echo], memory: { max_var_bytes: -1 } }],
    ['max_http_bytes_fraction', { wasm: [echo], memory: { max_http_response_bytes: 1.25 } }],
    ['timeout_huge', { wasm: [echo], timeout_ms: 2 ** 31 }],
    ['timeout_negative', { wasm: [echo], timeout_ms: -10 }],
    ['timeout_string', { wasm: [echo], timeout_ms: '100' }],
    ['timeout_bool', { wasm: [echo], timeout_ms: true }],
    ['allowed_hosts_string', { wasm: [echo], allowed_hosts: 'example.com' }],
    ['allowed_hosts_numbers', { wasm: [echo], allowed_hosts: [1, 2] }],
    ['allowed_paths_array', { wasm: [echo], allowed_paths: ['/tmp'] }],
    ['allowed_paths_number', { wasm: [echo], allowed_paths: { '/tmp': 1 } }],
    ['enormous_name', { wasm: [{ ...echo, name: 'n'.repeat(100_000) }, { path: wasm('linked_main') }] }],
    ['ok_enormous_config', { wasm: [echo], config: { big: 'x'.repeat(1_000_000) } }],
    ['deep_nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['deep_config', { wasm: [echo], config: JSON.parse(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`) }],
    // these are valid: hostile names are data
    ['ok_inline', { wasm: [echoData] }],
    ['ok_zero_limits', { wasm: [echo], memory: { max_pages: 0, max_var_bytes: 0 }, timeout_ms: 0 }],
    ['ok_largest_timeout', { wasm: [echo], timeout_ms: 2 ** 31 - 1 }],
  ];
  for (const name of HOSTILE_NAMES) {
    const key = JSON.stringify(name);
    cases.push([`ok_config_${name}`, `{"wasm": [{"path": ${JSON.stringify(wasm('config_counter'))}}], "config": {${key}: "x", "step": "5"}}`]);
    cases.push([`ok_paths_${name}`, `{"wasm": [${JSON.stringify(echo)}], "allowed_paths": {${key}: "/data"}}`]);
    // linked_main imports "math": under another name the module is there but its import is not met
    cases.push([`linked_as_${name}`, { wasm: [{ path: wasm('math_lib'), name }, { path: wasm('linked_main') }] }]);
    cases.push([`module_named_${name}`, `{"wasm": [{"path": ${JSON.stringify(wasm('math_lib'))}, "name": ${key}}, {"path": ${JSON.stringify(wasm('echo'))}, "name": ${key}}]}`]);
  }
  execFileSync('mkfifo', [path.join(dir, 'pipe.wasm'), path.join(dir, 'fifo_manifest.json')]);
  return cases;
}

describe('hostile manifests', function () {
  this.timeout(60_000);
  afterEach(async () => {
    await closeHosts();
    removeTempDirs();
  });

  it('each malformed or hostile manifest is a clean error or a success; the host works after all of them', async () => {
    const dir = tempDir();
    const cases = hostileManifests(dir);
    const host = startHost({ pluginDirs: [dir, pluginsDir], callTimeoutMs: 2000 });
    const outcomes: Outcome[] = [];
    const failures: string[] = [];
    for (const [name, manifest] of cases) {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
      for (const target of [file, name]) {
        const promise = host.register(target);
        const outcome = await cleanOutcome(`${name} by ${target === file ? 'path' : 'name'}`, promise, new RegExp(name.slice(0, 40)), 5000);
        outcomes.push(outcome);
        if (outcome === 'ok') {
          const plugin = await promise;
          if (name.startsWith('ok_config_')) assert.equal(text(await host.call(plugin.id, 'count')), 'counter=5');
          await host.unregister(plugin.id);
        }
        if (name.startsWith('ok_') !== (outcome === 'ok')) failures.push(`${name}: ${outcome}`);
      }
    }
    for (const special of ['fifo_manifest', '/dev/null']) {
      outcomes.push(await cleanOutcome(special, host.register(special === '/dev/null' ? special : path.join(dir, `${special}.json`)), /fifo_manifest|dev\/null/, 5000));
    }
    assert.deepEqual(failures, [], 'cases named ok_ succeed, the others are refused');
    assert.ok(cases.length >= 50, `${cases.length} manifests`);
    if (process.env.HOSTILE_REPORT) console.log(JSON.stringify({ manifests: cases.length, registrations: outcomes.length, ...tally(outcomes) }));
    assert.equal(Object.getPrototypeOf({}).polluted, undefined, 'no prototype was polluted');
    await assertSeedScenario(host);
  });

  it('inline data that is not base64 is named as such, not as an invalid module', async () => {
    const dir = tempDir();
    const host = startHost({ pluginDirs: [dir, pluginsDir] });
    const echoBase64 = fs.readFileSync(wasm('echo')).toString('base64');
    for (const data of ['!!!!', `${echoBase64.slice(0, 8)} ${echoBase64.slice(8)}`, `${echoBase64}A`]) {
      const file = path.join(dir, 'inline_bad.json');
      fs.writeFileSync(file, JSON.stringify({ wasm: [{ data }] }));
      await assert.rejects(host.register(file), /wasm\[0\]\.data is not base64/);
    }
    fs.writeFileSync(path.join(dir, 'inline_ok.json'), JSON.stringify({ wasm: [{ data: echoBase64 }] }));
    const ok = await host.register(path.join(dir, 'inline_ok.json'));
    assert.equal(text(await host.call(ok.id, 'echo', 'hi')), 'hi');
  });

  it('plugins named __proto__, constructor and toString are data: policy lookups, spawns and calls work', async () => {
    const dir = tempDir();
    const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__'];
    for (const name of names) fs.copyFileSync(wasm('launcher'), path.join(dir, `${name}.wasm`));
    fs.copyFileSync(wasm('echo'), path.join(dir, 'valueOf.wasm'));
    const host = startHost({ pluginDirs: [dir, pluginsDir], permissions: { constructor: { spawn: ['valueOf'], call: ['valueOf'] } } });
    for (const name of names) {
      const p = await host.register(name);
      assert.equal(p.name, name);
      const outcome = await cleanOutcome(name, host.call(p.id, 'spawn_call', 'valueOf:echo:hi').then(text), new RegExp(name.replace(/[_]/g, '_')), 5000);
      assert.equal(outcome, 'ok', `${name} spawns valueOf`);
    }
    const ctor = host.plugins().find((p) => p.name === 'constructor')!;
    await cleanOutcome('constructor spawns echo', host.call(ctor.id, 'spawn', 'echo'), /constructor.*echo|echo.*constructor/, 5000).then((o) =>
      assert.equal(o, 'PolicyError', 'its own rule allows only valueOf'),
    );
  });
});
