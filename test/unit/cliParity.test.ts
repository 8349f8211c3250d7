import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllowedPath, parseCallFile, PluginHost } from '../../src/core';
import { cli, closeHosts, pluginsDir, root, startHost, text } from './helpers';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

describe('cli: the flags of extism call, -q and ro: paths', () => {
  it('-q/--quiet: the output on stdout, nothing on stderr (plugin logs and WASI output off)', () => {
    const loud = run(['call', 'logger', 'log_all']);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /\[info\] #1 logger: info message/, 'without -q the logs show');
    for (const flag of ['-q', '--quiet']) {
      const quiet = run(['call', 'logger', 'log_all', flag]);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stdout, loud.stdout);
      assert.equal(quiet.stderr, '');
    }
    const wasi = run(['call', 'wasi_clock', 'hello', '--wasi', '-q']);
    assert.equal(wasi.code, 0, wasi.stderr);
    assert.equal(JSON.parse(wasi.stdout).ok, true);
    assert.equal(wasi.stderr, '', 'the plugin wrote to stdout and stderr, which go to the log');
  });

  it('-q still reports a failure, in one line, with its exit status', () => {
    const failed = run(['call', 'trap', 'fail', '-q']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, 'extism-ipc: PluginError: plugin #1 (trap).fail failed: deliberate failure\n');
    const fuel = run(['call', 'echo', 'echo', '-q', '--fuel', '10']);
    assert.equal(fuel.code, 1);
    // a trap inside the plugin: its top frame on the error line, the stack and a note indented under it
    const [first, ...rest] = fuel.stderr.trimEnd().split('\n');
    assert.match(first, /^extism-ipc: PluginError: plugin #1 \(echo\)\.echo ran out of fuel \(10 units\) at /);
    assert.ok(rest.every((line) => line.startsWith('    ')), fuel.stderr);
  });

  it('-q refuses flags that ask for stderr output', () => {
    const level = run(['call', 'echo', 'echo', '-q', '--log-level', 'info']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /give --quiet or --log-level, not both/);
    const trace = run(['call', 'echo', 'echo', '--quiet', '--trace']);
    assert.equal(trace.code, 2);
    assert.match(trace.stderr, /--quiet .* does not go with --trace/);
  });

  it('--allow-path ro:HOST[:GUEST] grants the directory read-only, as extism call does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ro-'));
    try {
      fs.writeFileSync(path.join(dir, 'x'), 'read through ro');
      for (const [spec, guest] of [[`ro:${dir}:/data`, '/data/x'], [`ro:${dir}`, `${dir}/x`]]) {
        const r = run(['call', 'wasi_clock', 'read_file', '-i', guest, '--wasi', '-q', '--allow-path', spec]);
        assert.equal(r.code, 0, `${spec}: ${r.stderr}`);
        assert.equal(r.stdout.trimEnd(), 'read through ro');
      }
      const bad = run(['call', 'wasi_clock', 'read_file', '-i', '/data/x', '--wasi', '--allow-path', 'ro:']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--allow-path takes \[ro:\]HOST\[:GUEST\], got "ro:"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('allowed_paths with the ro: prefix, from every source', () => {
  afterEach(closeHosts);

  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ro-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the policy (settings, API): kept as written, beside a writable grant of the same directory', async () => {
    const host = startHost({ wasi: true, allowedPaths: { [dir]: '/data', [`ro:${dir}`]: '/ro' } });
    const p = await host.register('wasi_clock');
    assert.deepEqual({ ...p.grants.allowedPaths }, { [dir]: '/data', [`ro:${dir}`]: '/ro' });
    assert.throws(() => new PluginHost({ allowedPaths: { 'ro:': '/data' } }), (e: Error) => e.name === 'PolicyError' && /^policy: allowedPaths: "ro:" names no host directory/.test(e.message));
  });

  it('load options', async () => {
    const host = startHost({ wasi: true });
    const p = await host.register('wasi_clock', { allowedPaths: { [`ro:${dir}`]: '/data' } });
    assert.deepEqual({ ...p.grants.allowedPaths }, { [`ro:${dir}`]: '/data' });
  });

  it('a manifest: a relative directory is resolved against the manifest, the prefix kept', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ro-'));
    try {
      fs.mkdirSync(path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'data', 'x'), 'manifest ro');
      const manifest = path.join(dir, 'ro_clock.json');
      fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(pluginsDir, 'wasi_clock.wasm') }], allowed_paths: { 'ro:data': '/data' } }));
      const host = startHost({ wasi: true, pluginDirs: [dir] });
      const p = await host.register(manifest);
      assert.deepEqual({ ...p.grants.allowedPaths }, { [`ro:${path.join(dir, 'data')}`]: '/data' });
      assert.equal(text(await host.call(p.id, 'read_file', '/data/x')), 'manifest ro');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a call file: relative to the file, the prefix kept', () => {
    const file = '/tmp/x.extism-calls.json';
    const body = { calls: [{ plugin: 'wasi_clock', function: 'hello', allowedPaths: { 'ro:data': '/data', 'ro:': '/x' } }] };
    // a bad call is a call with a problem: the file's other calls still run
    assert.ok(parseCallFile(file, JSON.stringify(body)).calls[0].problem?.startsWith(`${file}: calls[0].allowedPaths: "ro:" names no host directory`));
    delete (body.calls[0].allowedPaths as Record<string, string>)['ro:'];
    assert.deepEqual({ ...parseCallFile(file, JSON.stringify(body)).calls[0].allowedPaths }, { 'ro:/tmp/data': '/data' });
  });

  it('only the prefix: a directory whose name starts with "ro" is a directory', () => {
    assert.deepEqual(parseAllowedPath('/srv/robots'), { host: '/srv/robots', readOnly: false });
    assert.deepEqual(parseAllowedPath('robots'), { host: 'robots', readOnly: false });
    assert.deepEqual(parseAllowedPath('ro:robots'), { host: 'robots', readOnly: true });
  });
});
