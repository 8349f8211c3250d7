import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallFileError, parseCallFile, PluginHost, readOnlyPathRefusal } from '../../src/core';
import { cli, closeHosts, pluginsDir, rejects, root, startHost, text } from './helpers';

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
    assert.equal(fuel.code, 2);
    assert.match(fuel.stderr, /--fuel is not supported: this host stops a runaway plugin by time \(--timeout\)/);
  });

  it('-q refuses flags that ask for stderr output', () => {
    const level = run(['call', 'echo', 'echo', '-q', '--log-level', 'info']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /give --quiet or --log-level, not both/);
    const trace = run(['call', 'echo', 'echo', '--quiet', '--trace']);
    assert.equal(trace.code, 2);
    assert.match(trace.stderr, /--quiet .* does not go with --trace/);
  });

  it('--allow-path ro:HOST[:GUEST] is refused: Node\'s WASI has no read-only preopens', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ro-'));
    try {
      for (const spec of [`ro:${dir}:/data`, `ro:${dir}`]) {
        const r = run(['call', 'wasi_clock', 'read_file', '-i', '/data/x', '--wasi', '--allow-path', spec]);
        assert.equal(r.code, 2, spec);
        assert.ok(r.stderr.startsWith(`extism-ipc: --allow-path "ro:${dir}" asks for a read-only directory (the "ro:" prefix), which this host cannot give: Node's WASI has no read-only preopens.`), r.stderr);
        assert.equal(r.stdout, '');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('allowed_paths with the ro: prefix, from every source', () => {
  afterEach(closeHosts);
  const reason = /"ro:\/srv\/data" asks for a read-only directory \(the "ro:" prefix\), which this host cannot give: Node's WASI has no read-only preopens\. Grant "\/srv\/data" without the prefix/;

  it('the policy (settings, API)', () => {
    assert.throws(() => new PluginHost({ allowedPaths: { '/srv/data': '/data', 'ro:/srv/data': '/ro' } }), (e: Error) => e.name === 'PolicyError' && /^policy: allowedPaths: /.test(e.message) && reason.test(e.message));
  });

  it('load options', async () => {
    const host = startHost({ wasi: true });
    const e = await rejects(host.register('wasi_clock', { allowedPaths: { 'ro:/srv/data': '/data' } }), 'PolicyError', reason);
    assert.match(e.message, /^load options: allowedPaths: /);
    assert.equal(host.plugins().length, 0);
    const ok = await host.register('wasi_clock');
    assert.equal(JSON.parse(text(await host.call(ok.id, 'hello'))).ok, true, 'the host goes on');
  });

  it('a manifest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ro-'));
    try {
      const manifest = path.join(dir, 'ro_clock.json');
      fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(pluginsDir, 'wasi_clock.wasm') }], allowed_paths: { 'ro:/srv/data': '/data' } }));
      const host = startHost({ wasi: true, pluginDirs: [dir] });
      const e = await rejects(host.register(manifest), 'PluginError', reason);
      assert.ok(e.message.startsWith(`manifest ${manifest}: "allowed_paths": `), e.message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a call file', () => {
    const file = '/tmp/x.extism-calls.json';
    const body = { calls: [{ plugin: 'wasi_clock', function: 'hello', allowedPaths: { 'ro:/srv/data': '/data' } }] };
    assert.throws(() => parseCallFile(file, JSON.stringify(body)), (e: Error) => e instanceof CallFileError && e.message.startsWith(`${file}: calls[0].allowedPaths: `) && reason.test(e.message));
  });

  it('only the prefix: a directory whose name starts with "ro" is a directory', () => {
    assert.equal(readOnlyPathRefusal('/srv/robots'), null);
    assert.equal(readOnlyPathRefusal('robots'), null);
    assert.notEqual(readOnlyPathRefusal('ro:robots'), null);
  });
});
