import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
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
