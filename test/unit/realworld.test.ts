import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogEntry } from '../../src/core';
import type { HostOptions } from '../../src/core';
import { closeHosts, pluginsDir, rejects, startHost, startHost as startTestHost, text, transports, wasm } from './helpers';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-real-'));
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function writeManifest(dir: string, name: string, manifest: object): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe('real-world plugins: config, vars, logs', () => {
  afterEach(closeHosts);

  it('reads config and keeps a counter in a var', async () => {
    const host = startHost();
    const p = await host.register('config_counter', { config: { step: '5', label: 'x' } });
    assert.equal(text(await host.call(p.id, 'count')), 'x=5');
    assert.equal(text(await host.call(p.id, 'count')), 'x=10');
    assert.equal(text(await host.call(p.id, 'reset')), 'reset');
    assert.equal(text(await host.call(p.id, 'count')), 'x=5');
    assert.deepEqual(host.plugin(p.id)?.configKeys.sort(), ['label', 'step']);
  });

  it('bounds vars by maxVarBytes with a message naming the limit', async () => {
    const host = startHost({ maxVarBytes: 4096 });
    const p = await host.register('config_counter');
    assert.equal(text(await host.call(p.id, 'big_var', '1024')), 'stored 1024');
    await rejects(host.call(p.id, 'big_var', '100000'), 'PluginError', /var_set: plugin #1 \(config_counter\) vars would take \d+ bytes, over the limit of 4096 \(max_var_bytes\)/);
  });

  it('passes plugin logs at or above the log level, tagged with the plugin', async () => {
    for (const [level, expected] of [['trace', 5], ['warn', 2], ['off', 0]] as const) {
      const host = startHost({ logLevel: level });
      const logs: LogEntry[] = [];
      host.onLog((e) => logs.push(e));
      const p = await host.register('logger');
      assert.equal(text(await host.call(p.id, 'log_all')), 'logged');
      assert.equal(logs.length, expected, `at ${level}`);
      for (const e of logs) {
        assert.equal(e.pluginId, p.id);
        assert.equal(e.name, 'logger');
        assert.equal(e.message, `${e.level} message`);
      }
      const reported = text(await host.call(p.id, 'level'));
      assert.equal(reported, level === 'off' ? '2147483647' : String(['trace', 'debug', 'info', 'warn', 'error'].indexOf(level)));
    }
  });
});

describe('real-world plugins: WASI by grant', () => {
  afterEach(closeHosts);

  it('refuses a WASI plugin without the grant, saying how to grant it', async () => {
    const host = startHost({ wasiHint: 'set extismIpc.grants.wasi' });
    await rejects(host.register('wasi_clock'), 'PluginError', /imports WASI \(wasi_snapshot_preview1\.\w+\), which is not granted; set extismIpc\.grants\.wasi/);
  });

  it('runs it with the grant: clock and random work, stdout and stderr go to the log', async () => {
    const host = startHost({ wasi: true });
    const logs: LogEntry[] = [];
    host.onLog((e) => logs.push(e));
    const p = await host.register('wasi_clock');
    const before = BigInt(Date.now()) * 1_000_000n;
    const out = JSON.parse(text(await host.call(p.id, 'hello')));
    assert.equal(out.ok, true);
    const time = BigInt(out.time_ns);
    assert.ok(time >= before - 5_000_000_000n && time <= before + 5_000_000_000n, `clock ${time} vs ${before}`);
    assert.deepEqual(logs.map((e) => [e.level, e.message]), [
      ['info', '[stdout] hello from wasi'],
      ['warn', '[stderr] warning from wasi'],
    ]);
    const a = text(await host.call(p.id, 'random'));
    const b = text(await host.call(p.id, 'random'));
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, b);
  });

  it('opens files only under allowed paths', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'file contents');
    const granted = startHost({ wasi: true, allowedPaths: { [dir]: '/data' } });
    const p = await granted.register('wasi_clock');
    assert.equal(text(await granted.call(p.id, 'read_file', '/data/hello.txt')), 'file contents');
    await rejects(granted.call(p.id, 'read_file', '/data/missing.txt'), 'PluginError', /read_file: path_open errno/);
    await rejects(granted.call(p.id, 'read_file', '/data/../../etc/hostname'), 'PluginError', /read_file: path_open errno 63/); // EPERM: an escape, as Extism's native runtime reports it
    const closed = startHost({ wasi: true });
    const q = await closed.register('wasi_clock');
    await rejects(closed.call(q.id, 'read_file', '/data/hello.txt'), 'PluginError', /read_file: fd_prestat_get errno/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('real-world plugins: HTTP to allowed hosts only', () => {
  let server: http.Server;
  let base: string;
  const seen: { method?: string; header?: string; body: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, header: req.headers['x-test'] as string, body });
        if (req.url === '/big') return res.end('x'.repeat(10_000));
        if (req.url === '/missing') {
          res.statusCode = 404;
          return res.end('nope');
        }
        res.end(req.method === 'POST' ? `got ${body}` : 'hello');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  afterEach(closeHosts);
  // the test's server answers on this thread, which an in-process runtime blocks while it waits
  const startHost = (options: HostOptions = {}) => startTestHost(options, transports.worker);

  it('refuses a host that is not granted', async () => {
    const host = startHost();
    const p = await host.register('http_get');
    await rejects(host.call(p.id, 'get', `${base}/`), 'PolicyError', /http_request: plugin #1 \(http_get\) may not reach 127\.0\.0\.1: no allowed_hosts are granted/);
    const other = startHost({ allowedHosts: ['*.example.com'] });
    const q = await other.register('http_get');
    await rejects(other.call(q.id, 'get', `${base}/`), 'PolicyError', /may not reach 127\.0\.0\.1: allowed_hosts is \["\*\.example\.com"\]/);
  });

  it('makes GET and POST requests to a granted host', async () => {
    const host = startHost({ allowedHosts: ['127.0.0.1'] });
    const p = await host.register('http_get');
    seen.length = 0;
    assert.equal(text(await host.call(p.id, 'get', `${base}/`)), '200 hello');
    assert.equal(text(await host.call(p.id, 'get', `${base}/missing`)), '404 nope');
    assert.equal(text(await host.call(p.id, 'post', `${base}/`)), '200 got ping');
    assert.deepEqual(seen.map((s) => [s.method, s.header]), [['GET', '1'], ['GET', '1'], ['POST', '1']]);
  });

  it('bounds the response by maxHttpResponseBytes', async () => {
    const host = startHost({ allowedHosts: ['127.0.0.1'], maxHttpResponseBytes: 1000 });
    const p = await host.register('http_get');
    await rejects(host.call(p.id, 'get', `${base}/big`), 'PluginError', /response is over 1000 bytes \(max_http_response_bytes\)/);
    assert.equal(text(await host.call(p.id, 'get', `${base}/`)), '200 hello');
  });
});

describe('real-world plugins: memory limits', () => {
  afterEach(closeHosts);

  it("caps a plugin's own linear memory at memoryMaxPages", async () => {
    const host = startHost({ memoryMaxPages: 64 });
    const p = await host.register('memory_hog');
    assert.equal(text(await host.call(p.id, 'grow')), 'stopped at 64 pages');
  });

  it('stops Extism allocations at the limit with a message naming memory and the limit', async () => {
    const host = startHost({ memoryMaxPages: 64 });
    const p = await host.register('memory_hog');
    await rejects(host.call(p.id, 'alloc_extism'), 'PluginError', /out of memory: allocating 1048576 bytes would pass the limit of 64 pages \(4096 KiB\) of Extism memory/);
  });
});

describe('Extism manifests', () => {
  afterEach(closeHosts);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  function dir(): string {
    const d = tempDir();
    dirs.push(d);
    return d;
  }

  it('loads a plugin by name from <name>.json with config and a checked hash', async () => {
    const d = dir();
    writeManifest(d, 'vowels_xyz', { wasm: [{ path: wasm('count_vowels'), hash: sha256(wasm('count_vowels')) }], config: { vowels: 'xyz' } });
    const host = startHost({ pluginDirs: [d] });
    const p = await host.register('vowels_xyz');
    assert.equal(p.manifest, path.join(d, 'vowels_xyz.json'));
    assert.deepEqual(JSON.parse(text(await host.call(p.id, 'count_vowels', 'xylophone'))), { count: 2, total: 2, vowels: 'xyz' });
  });

  it('takes a path relative to the manifest and the module inline as base64 data', async () => {
    const d = dir();
    fs.copyFileSync(wasm('echo'), path.join(d, 'echo_module.wasm'));
    writeManifest(d, 'rel', { wasm: [{ path: 'echo_module.wasm' }] });
    writeManifest(d, 'inline', { wasm: [{ data: fs.readFileSync(wasm('echo')).toString('base64') }] });
    const host = startHost({ pluginDirs: [d] });
    for (const name of ['rel', 'inline']) {
      const p = await host.register(name);
      assert.equal(text(await host.call(p.id, 'echo', name)), name);
    }
  });

  it('links several modules: the main module imports the others by name', async () => {
    const d = dir();
    writeManifest(d, 'calc', { wasm: [{ path: wasm('math_lib'), name: 'math' }, { path: wasm('linked_main') }] });
    writeManifest(d, 'named', { wasm: [{ path: wasm('linked_main'), name: 'main' }, { path: wasm('math_lib'), name: 'math' }] });
    writeManifest(d, 'nomain', { wasm: [{ path: wasm('linked_main'), name: 'a' }, { path: wasm('math_lib'), name: 'math' }] });
    writeManifest(d, 'wrongname', { wasm: [{ path: wasm('math_lib'), name: 'maths' }, { path: wasm('linked_main') }] });
    writeManifest(d, 'twice', { wasm: [{ path: wasm('math_lib'), name: 'main' }, { path: wasm('linked_main') }] });
    writeManifest(d, 'noexport', { wasm: [{ path: wasm('echo'), name: 'math' }, { path: wasm('linked_main') }] });
    const host = startHost({ pluginDirs: [d] });
    for (const name of ['calc', 'named']) {
      const p = await host.register(name);
      assert.deepEqual(p.exports, ['compute']);
      assert.equal(text(await host.call(p.id, 'compute', '2 40')), '42 80');
    }
    await rejects(host.register('nomain'), 'PluginError', /with several modules, one must be named "main"/);
    await rejects(host.register('wrongname'), 'PluginError', /imports functions no linked module, host function or binding supplies: "math"\."(add|mul)"/);
    await rejects(host.register('twice'), 'PluginError', /two modules are named "main"/);
    await rejects(host.register('noexport'), 'PluginError', /linked module "math" has no export "(add|mul)" \(imported by main\)/);
  });

  it('refuses a bad hash, a missing file, invalid JSON, unknown fields and URLs, naming the file', async () => {
    const d = dir();
    const bad = writeManifest(d, 'badhash', { wasm: [{ path: wasm('echo'), hash: '0'.repeat(64) }] });
    writeManifest(d, 'missing', { wasm: [{ path: 'nowhere.wasm' }] });
    fs.writeFileSync(path.join(d, 'broken.json'), '{ "wasm": [ ');
    writeManifest(d, 'typo', { wasm: [{ path: wasm('echo') }], alowed_hosts: [] });
    writeManifest(d, 'remote', { wasm: [{ url: 'https://example.com/x.wasm' }] });
    const host = startHost({ pluginDirs: [d] });
    const file = (n: string) => path.join(d, `${n}.json`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await rejects(host.register('badhash'), 'PluginError', new RegExp(`^manifest ${file('badhash')}: hash mismatch for wasm\\[0\\]: expected 0{64}, got [0-9a-f]{64}$`));
    assert.ok(bad);
    await rejects(host.register('missing'), 'PluginError', new RegExp(`^manifest ${file('missing')}: wasm\\[0\\]\\.path "nowhere\\.wasm" not found`));
    await rejects(host.register('broken'), 'PluginError', new RegExp(`^manifest ${file('broken')}: is not valid JSON`));
    await rejects(host.register('typo'), 'PluginError', /unknown field "alowed_hosts"/);
    await rejects(host.register('remote'), 'PluginError', /wasm\[0\]\.url is not supported/);
  });

  it('applies memory.max_pages, memory.max_var_bytes and timeout_ms', async () => {
    const d = dir();
    writeManifest(d, 'hog', { wasm: [{ path: wasm('memory_hog') }], memory: { max_pages: 32 } });
    writeManifest(d, 'counter', { wasm: [{ path: wasm('config_counter') }], memory: { max_var_bytes: 100 } });
    writeManifest(d, 'spin', { wasm: [{ path: wasm('loop') }], timeout_ms: 200 });
    const host = startHost({ pluginDirs: [d], callTimeoutMs: 10_000 });
    const hog = await host.register('hog');
    assert.equal(text(await host.call(hog.id, 'grow')), 'stopped at 32 pages');
    const counter = await host.register('counter');
    await rejects(host.call(counter.id, 'big_var', '500'), 'PluginError', /over the limit of 100 \(max_var_bytes\)/);
    const spin = await host.register('spin');
    const t0 = Date.now();
    await rejects(host.call(spin.id, 'spin'), 'TimeoutError', /timed out after 200 ms \(the plugin's own timeout_ms\)/);
    assert.ok(Date.now() - t0 < 2000);
  });

  it('gives a spawned plugin its own manifest; its grants only when manifests may grant', async () => {
    const d = dir();
    fs.copyFileSync(wasm('launcher'), path.join(d, 'launcher.wasm'));
    writeManifest(d, 'clock', { wasm: [{ path: wasm('wasi_clock') }], config: {} });
    writeManifest(d, 'vowels_xyz', { wasm: [{ path: wasm('count_vowels') }], config: { vowels: 'xyz' } });
    const strict = startHost({ pluginDirs: [d, pluginsDir] });
    const l1 = await strict.register('launcher');
    assert.deepEqual(JSON.parse(text(await strict.call(l1.id, 'spawn_call', 'vowels_xyz:count_vowels:xylophone'))).vowels, 'xyz');
    await rejects(strict.call(l1.id, 'spawn_call', 'clock:random:'), 'PluginError', /imports WASI .* which is not granted/);
    const open = startHost({ pluginDirs: [d, pluginsDir], manifestGrants: true });
    const l2 = await open.register('launcher');
    assert.match(text(await open.call(l2.id, 'spawn_call', 'clock:random:')), /^[0-9a-f]{32}$/);
    const clock = open.plugins().find((p) => p.name === 'clock');
    assert.equal(clock?.grants.wasi, true);
    assert.equal(clock?.parentId, l2.id);
  });
});
