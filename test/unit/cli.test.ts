import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli, pluginsDir, root } from './helpers';

function run(args: string[], input?: Uint8Array) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, input, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

describe('cli: extism-ipc call', () => {
  it('runs the seed scenario by name and prints the call tree with --trace', () => {
    const r = run(['call', 'run', 'run', '--trace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), '{"count":3,"total":3,"vowels":"aeiouAEIOU"}');
    assert.match(r.stderr, /^cli -> #1 run\.run {2}in 0 B, out 43 B, .*, ok\n└─ #1 run -> #2 count_vowels\.count_vowels {2}in 13 B, out 43 B, .*, ok\n$/);
  });

  it('takes a .wasm path and a positional input', () => {
    const r = run(['call', path.join(pluginsDir, 'count_vowels.wasm'), 'count_vowels', 'aeiou']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.toString()).count, 5);
  });

  it('passes binary bytes from stdin to stdout unchanged', () => {
    const input = randomBytes(2 * 1024 * 1024);
    const r = run(['call', 'relay', 'relay', '--input-file', '-'], input);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(input));
  });

  it('writes Chrome Trace JSON with --trace-out', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-cli-')), 'trace.json');
    const r = run(['call', 'chain_a', 'step', 'q', '--trace-out', out]);
    assert.equal(r.code, 0, r.stderr);
    const trace = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X').length, 3);
  });

  it('exits 1 with one clear line when a call fails, without a stack trace', () => {
    const r = run(['call', 'count_vowels', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'extism-ipc: PluginError: call: plugin #1 (count_vowels) has no export "nope"\n');
  });

  it('exits 1 when the policy refuses, and honours --max-depth and --timeout-ms', () => {
    const deep = run(['call', 'chain_a', 'step', 'x', '--max-depth', '2']);
    assert.equal(deep.code, 1);
    assert.match(deep.stderr, /PolicyError: call_plugin: call depth limit of 2 reached/);
    const slow = run(['call', 'loop', 'spin', '--timeout-ms', '200']);
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /TimeoutError: call to plugin #1 \(loop\)\.spin timed out after 200 ms/);
    const many = run(['call', 'spawner', 'spawn', '--max-plugins', '3', '--max-depth', '50']);
    assert.match(many.stderr, /limit of 3 live plugins/);
  });

  it('shows a stack trace with --verbose', () => {
    const r = run(['call', 'trap', 'trap', '--verbose']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /trapped: unreachable\n.*\n\s+at /);
  });

  it('exits 2 on usage errors', () => {
    for (const args of [[], ['call'], ['call', 'run'], ['frobnicate', 'a', 'b'], ['call', 'run', 'run', '--timeout-ms', 'soon'], ['call', 'a', 'b', '--no-such-flag']]) {
      const r = run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: extism-ipc call/);
    }
    const help = run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString(), /--plugins-dir DIR/);
  });
});

describe('cli: the flags of extism call', () => {
  it('takes the input from --input, -i and --stdin, and calls N times with --loop', () => {
    assert.equal(JSON.parse(run(['call', 'count_vowels', 'count_vowels', '--input', 'aaa']).stdout.toString()).count, 3);
    assert.equal(JSON.parse(run(['call', 'count_vowels', 'count_vowels', '-i', 'ee']).stdout.toString()).count, 2);
    assert.equal(JSON.parse(run(['call', 'count_vowels', 'count_vowels', '--stdin'], Buffer.from('iiii')).stdout.toString()).count, 4);
    const looped = run(['call', 'count_vowels', 'count_vowels', '-i', 'a', '--loop', '3']);
    assert.equal(looped.code, 0, looped.stderr);
    assert.deepEqual(looped.stdout.toString().split('\n').map((l) => JSON.parse(l).total), [1, 2, 3]);
    assert.equal(run(['call', 'count_vowels', 'count_vowels', 'x', '--input', 'y']).code, 2);
  });

  it('sets config with --config and --set-config', () => {
    const a = run(['call', 'count_vowels', 'count_vowels', '-i', 'xylophone', '--config', 'vowels=xyz']);
    assert.deepEqual(JSON.parse(a.stdout.toString()), { count: 2, total: 2, vowels: 'xyz' });
    const b = run(['call', 'config_counter', 'count', '--set-config', '{"step": "7"}', '--config', 'label=n']);
    assert.equal(b.stdout.toString(), 'n=7');
    assert.equal(run(['call', 'count_vowels', 'count_vowels', '--config', 'novalue']).code, 2);
  });

  it('grants WASI with --wasi, its output going to the log on stderr, and paths with --allow-path', () => {
    const refused = run(['call', 'wasi_clock', 'hello']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /imports WASI .*which is not granted; run it with --wasi/);
    const ok = run(['call', 'wasi_clock', 'hello', '--wasi']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout.toString()).ok, true);
    assert.match(ok.stderr, /\[info\] #1 wasi_clock: \[stdout\] hello from wasi\n\[warn\] #1 wasi_clock: \[stderr\] warning from wasi/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-cli-'));
    fs.writeFileSync(path.join(dir, 'note.txt'), 'from the host');
    const read = run(['call', 'wasi_clock', 'read_file', '-i', '/data/note.txt', '--wasi', '--allow-path', `${dir}:/data`]);
    assert.equal(read.stdout.toString(), 'from the host', read.stderr);
  });

  it('loads an Extism manifest with -m, and applies --timeout, --memory-max, --var-max and --log-level', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-cli-'));
    const manifest = path.join(dir, 'vowels.json');
    fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(pluginsDir, 'count_vowels.wasm') }], config: { vowels: 'o' } }));
    assert.equal(JSON.parse(run(['call', manifest, 'count_vowels', '-i', 'foo', '-m']).stdout.toString()).count, 2);
    assert.match(run(['call', 'loop', 'spin', '--timeout', '150']).stderr, /timed out after 150 ms/);
    assert.equal(run(['call', 'memory_hog', 'grow', '--memory-max', '32']).stdout.toString(), 'stopped at 32 pages');
    assert.match(run(['call', 'config_counter', 'big_var', '-i', '500', '--var-max', '100']).stderr, /over the limit of 100 \(max_var_bytes\)/);
    const logs = run(['call', 'logger', 'log_all', '--log-level', 'warn']);
    assert.equal(logs.stderr, '[warn] #1 logger: warn message\n[error] #1 logger: error message\n');
    assert.equal(run(['call', 'logger', 'log_all', '--log-level', 'loud']).code, 2);
  });

  it('links modules with --link NAME=PATH', () => {
    const linked = run(['call', 'linked_main', 'compute', '-i', '3 4', '--link', `math=${path.join(pluginsDir, 'math_lib.wasm')}`]);
    assert.equal(linked.stdout.toString(), '7 12', linked.stderr);
    const missing = run(['call', 'linked_main', 'compute', '-i', '3 4']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /imports functions no linked module, host function or binding supplies: "math"\."(add|mul)"/);
    assert.equal(run(['call', 'linked_main', 'compute', '--link', 'math']).code, 2);
  });

  it('accepts --enable-http-response-headers', () => {
    assert.equal(run(['call', 'echo', 'echo', '-i', 'x', '--enable-http-response-headers']).stdout.toString(), 'x');
  });

  it('reaches only hosts given with --allow-host', async () => {
    const server = http.createServer((_req, res) => res.end('served'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const runAsync = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [cli, ...args], { cwd: root }, (error, stdout, stderr) =>
          resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stdout, stderr }),
        );
      });
    try {
      const refused = await runAsync(['call', 'http_get', 'get', '-i', url]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /may not reach 127\.0\.0\.1/);
      const ok = await runAsync(['call', 'http_get', 'get', '-i', url, '--allow-host', '127.0.0.*']);
      assert.equal(ok.stdout, '200 served', ok.stderr);
    } finally {
      server.close();
    }
  });

  it('lists every flag in --help', () => {
    const help = run(['call', '--help']).stdout.toString();
    for (const flag of ['--link', '--input', '--stdin', '--loop', '--wasi', '--config', '--set-config', '--manifest', '--allow-host', '--allow-path', '--timeout', '--memory-max', '--var-max', '--http-response-max', '--log-level', '--timeout-ms', '--input-file', '--plugins-dir']) {
      assert.ok(help.includes(flag), flag);
    }
  });
});
