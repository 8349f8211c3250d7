import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstByteDiff, lineDiff, parseCallFile, parseSnapshots, readCallFile, runCallFile, snapshotFileOf } from '../../src/core';
import { cli, closeHosts, pluginsDir, root, startHost } from './helpers';

function write(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const kv = path.join(pluginsDir, 'host-functions', 'kv.mjs');

describe('call files: snapshots, groups, call trees, budgets, named expects', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-callfeat-'));
  });
  afterEach(async () => {
    await closeHosts();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'test', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '' } });

  it('snapshots: a missing one is written and reported, a same one passes, a changed one fails with a line diff; -u updates, --ci refuses to write', async () => {
    const file = write(dir, 'snap.extism-calls.json', {
      calls: [
        { name: 'text', plugin: 'echo', function: 'echo', input: 'one\ntwo\nthree', expect: { snapshot: true } },
        { name: 'bytes', plugin: 'echo', function: 'echo', input: { base64: 'AAEC' }, expect: { snapshot: true } },
      ],
    });
    const snapFile = snapshotFileOf(file);
    assert.equal(snapFile, path.join(dir, 'snap.extism-calls.snap.json'));
    const first = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }));
    assert.deepEqual(first.map((o) => [o.passed, o.notes]), [[true, ['snapshot written']], [true, ['snapshot written']]]);
    const stored = parseSnapshots(fs.readFileSync(snapFile, 'utf8'));
    assert.deepEqual(stored.get('text'), { output: 'one\ntwo\nthree' }, 'text as text');
    assert.deepEqual(stored.get('bytes'), { base64: 'AAEC' }, 'bytes that are not text as base64');
    const again = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }));
    assert.deepEqual(again.map((o) => [o.passed, o.notes]), [[true, []], [true, []]]);
    // the plugin now answers otherwise: the inputs change
    write(dir, 'snap.extism-calls.json', {
      calls: [
        { name: 'text', plugin: 'echo', function: 'echo', input: 'one\nTWO\nthree', expect: { snapshot: true } },
        { name: 'bytes', plugin: 'echo', function: 'echo', input: { base64: 'AAED' }, expect: { snapshot: true } },
      ],
    });
    const changed = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }));
    assert.equal(changed[0].passed, false);
    assert.match(changed[0].reason ?? '', /differs from its snapshot/);
    assert.equal(changed[0].checks[0].diff, '  one\n- two\n+ TWO\n  three');
    assert.equal(changed[0].checks[0].snapshot, true);
    assert.match(changed[1].reason ?? '', /byte 2 differs: expected 0x02, got 0x03/);
    const cliFail = run(file);
    assert.equal(cliFail.status, 1);
    assert.match(cliFail.stdout, /✗ text: the output differs from its snapshot \(\d+ ms\)\n {4} {2}one\n {4}- two\n {4}\+ TWO/);
    const updated = run('-u', file);
    assert.equal(updated.status, 0, updated.stdout);
    assert.match(updated.stdout, /✓ text \(\d+ ms\): snapshot updated/);
    assert.deepEqual(parseSnapshots(fs.readFileSync(snapFile, 'utf8')).get('text'), { output: 'one\nTWO\nthree' });
    fs.rmSync(snapFile);
    const ci = run('--ci', file);
    assert.equal(ci.status, 1);
    assert.match(ci.stdout, /no snapshot of "text" is stored \(in CI/);
    assert.equal(fs.existsSync(snapFile), false, 'nothing written in CI');
    const ciEnv = spawnSync(process.execPath, [cli, 'test', file], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(ciEnv.status, 1, 'CI in the environment is --ci');
    const written = run(file);
    assert.equal(written.status, 0);
    assert.match(written.stdout, /✓ text \(\d+ ms\): snapshot written/);
    assert.equal(run('-u', '--ci', file).status, 2);
  });

  it('lineDiff and firstByteDiff say where outputs differ', () => {
    assert.equal(lineDiff('a\nb\nc', 'a\nc'), '  a\n- b\n  c');
    assert.equal(lineDiff('1\n2\n3\n4\n5\n6\n7\n8\n9', '1\n2\n3\n4\n5\n6\n7\n8\nX'), '…\n  6\n  7\n  8\n- 9\n+ X');
    assert.match(lineDiff(Array.from({ length: 3000 }, (_, i) => i).join('\n'), Array.from({ length: 3000 }, (_, i) => (i === 1500 ? 'x' : i)).join('\n')), /^line 1501 differs:\n- 1500\n\+ x$/);
    assert.equal(firstByteDiff(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), 'byte 2 differs: expected the end, got 0x03 (2 bytes expected, 3 came)');
  });

  it('groups run on fresh plugins, in order, after the file\'s own calls; names are unique within a group', async () => {
    const file = write(dir, 'groups.extism-calls.json', {
      calls: [{ name: 'top', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } }],
      groups: [
        { name: 'first', calls: [
          { name: 'one', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } },
          { name: 'two', plugin: 'config_counter', function: 'count', expect: { output: 'counter=2' } },
        ] },
        { name: 'second', calls: [{ name: 'one', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } }] },
      ],
    });
    const calls = readCallFile(file);
    assert.deepEqual(calls.groups.map((g) => [g.name, g.calls.map((c) => `${c.index} ${c.at}`)]), [
      ['first', ['1 groups[0].calls[0]', '2 groups[0].calls[1]']],
      ['second', ['3 groups[1].calls[0]']],
    ]);
    const host = startHost({ pluginDirs: [pluginsDir] });
    const outcomes = await runCallFile(calls, host);
    assert.deepEqual(outcomes.map((o) => `${o.call.name} ${o.passed}`), ['top true', 'one true', 'two true', 'one true'], JSON.stringify(outcomes.map((o) => o.reason)));
    assert.equal(host.plugins().length, 1, 'a group\'s plugins are unloaded after it; the file\'s own stay');
    assert.equal(outcomes[3].spans[0].callerName, 'groups.extism-calls.json › second › one');
    const picked = await runCallFile(calls, startHost({ pluginDirs: [pluginsDir] }), new Set([2]));
    assert.deepEqual(picked.map((o) => `${o.call.name} ${o.passed}`), ['two true'], 'a picked call runs after the calls before it in its group only');
    const bad = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ groups: [{ name: 'g', calls: [] }, { name: 'g', calls: [] }, { calls: [] }, { name: 'h', calls: [], extra: 1 }] }));
    assert.deepEqual(bad.problems.map((p) => p.at), ['groups[1].name', 'groups[2].name', 'groups[3].extra']);
    const out = run(file);
    assert.equal(out.status, 0, out.stdout);
    assert.match(out.stdout, /✓ top \(\d+ ms\)\nfirst\n {2}✓ one \(\d+ ms\)\n {2}✓ two \(\d+ ms\)\nsecond\n {2}✓ one/);
  });

  it('expect.calls, expect.hostCalls and expect.noCalls are read from the spans, inputs and outputs included', async () => {
    const file = write(dir, 'tree.extism-calls.json', {
      hostFunctions: [kv],
      calls: [
        { name: 'chain', plugin: 'chain_a', function: 'step', input: 'x', expect: { calls: [{ callee: 'chain_b.step', input: 'x|a' }, 'chain_c.step'] } },
        { name: 'chain, wrong order', plugin: 'chain_a', function: 'step', input: 'x', expect: { calls: ['chain_c.step', 'chain_b.step'] } },
        { name: 'chain, count', plugin: 'chain_a', function: 'step', input: 'x', expect: { calls: [{ callee: 'chain_b.step', count: 2 }] } },
        { name: 'chain, wrong input', plugin: 'chain_a', function: 'step', input: 'x', expect: { calls: [{ callee: 'chain_b.step', input: 'nope' }] } },
        { name: 'kv', plugin: 'kv_counter', function: 'count_vowels', input: 'aei', expect: { hostCalls: ['extism:host/user.kv_read', { callee: 'extism:host/user.kv_write', count: 1 }] } },
        { name: 'echo calls nobody', plugin: 'echo', function: 'echo', input: 'a', expect: { noCalls: true } },
        { name: 'chain calls somebody', plugin: 'chain_a', function: 'step', input: 'x', expect: { noCalls: true } },
      ],
    });
    const outcomes = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir], hostFunctions: [kv] }));
    assert.deepEqual(outcomes.map((o) => `${o.call.name}: ${o.passed}`), [
      'chain: true', 'chain, wrong order: false', 'chain, count: false', 'chain, wrong input: false', 'kv: true', 'echo calls nobody: true', 'chain calls somebody: false',
    ], JSON.stringify(outcomes.map((o) => o.reason)));
    assert.match(outcomes[1].reason ?? '', /expected a call of chain_b\.step after call 2: it was not called there/);
    assert.equal(outcomes[1].actual, 'chain_b.step\nchain_c.step');
    assert.match(outcomes[2].reason ?? '', /expected 2 calls of chain_b\.step in a row, got 1/);
    assert.match(outcomes[3].reason ?? '', /it was called, but not with that input and output/);
    assert.match(outcomes[6].reason ?? '', /expected no calls, but it called chain_b\.step, chain_c\.step/);
    const bad = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ calls: [
      { plugin: 'p', function: 'f', expect: { calls: 'x' } },
      { plugin: 'p', function: 'g', expect: { calls: ['nodot'] } },
      { plugin: 'p', function: 'h', expect: { noCalls: true, calls: ['a.b'] } },
      { plugin: 'p', function: 'i', expect: { hostCalls: [{ callee: 'a.b', count: 0 }] } },
    ] }));
    assert.deepEqual(bad.calls.map((c) => c.problemAt), ['calls[0].expect.calls', 'calls[1].expect.calls[0].callee', 'calls[2].expect.noCalls', 'calls[3].expect.hostCalls[0].count']);
  });

  it('expect.maxMs: the median of repeat runs against the budget', async () => {
    const file = write(dir, 'time.extism-calls.json', {
      calls: [
        { name: 'quick', plugin: 'echo', function: 'echo', input: 'a', repeat: 5, expect: { output: 'a', maxMs: 1000 } },
        { name: 'slow', plugin: 'loop', function: 'spin', timeoutMs: 100, expect: { maxMs: 1 } },
        { name: 'counted', plugin: 'config_counter', function: 'count', repeat: 3, expect: { output: 'counter=1' } },
        { name: 'after', plugin: 'config_counter', function: 'count', expect: { output: 'counter=4' } },
      ],
    });
    const outcomes = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }));
    assert.equal(outcomes[0].passed, true, outcomes[0].reason);
    assert.match(outcomes[0].notes[0], /^the median of 5 runs: \d+\.\d\d ms$/);
    assert.equal(outcomes[1].passed, false, 'a call that fails fails its budget too');
    assert.equal(outcomes[2].passed, true, 'the first run\'s output is checked');
    assert.equal(outcomes[3].passed, true, 'every run ran');
    const bad = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ calls: [{ plugin: 'p', function: 'f', repeat: 0 }, { plugin: 'p', function: 'g', expect: { maxMs: -1 } }] }));
    assert.deepEqual(bad.calls.map((c) => c.problemAt), ['calls[0].repeat', 'calls[1].expect.maxMs']);
  });

  it('named expects: a list, each checked and reported by name', async () => {
    const file = write(dir, 'named.extism-calls.json', {
      calls: [{
        name: 'vowels', plugin: 'count_vowels', function: 'count_vowels', input: 'aaa',
        expect: [
          { name: 'counts', json: { count: 3 } },
          { name: 'wrong count', json: { count: 4 } },
          { name: 'is quick', maxMs: 5000 },
          { contains: 'count' },
        ],
      }],
    });
    const [o] = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }));
    assert.deepEqual(o.checks.map((c) => `${c.name ?? c.at} ${c.passed}`), ['counts true', 'wrong count false', 'is quick true', 'calls[0].expect[3] true']);
    assert.equal(o.passed, false);
    assert.match(o.reason ?? '', /^wrong count: the output JSON does not contain the expected fields$/);
    const out = run(file);
    assert.equal(out.status, 1);
    assert.match(out.stdout, /✗ vowels \(\d+ ms\)\n {4}✓ counts\n {4}✗ wrong count: the output JSON does not contain the expected fields\n {8}expected: \{/);
    assert.match(out.stdout, / {4}✓ calls\[0\]\.expect\[3\]\n/);
    const bad = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ calls: [{ plugin: 'p', function: 'f', expect: [{ name: 'a', output: 'x' }, { name: 'a', output: 'y' }] }, { plugin: 'p', function: 'g', expect: [] }] }));
    assert.deepEqual(bad.calls.map((c) => c.problemAt), ['calls[0].expect[1].name', 'calls[1].expect']);
    const failing = write(dir, 'fails.extism-calls.json', { calls: [{ name: 'f', plugin: 'trap', function: 'fail', expect: [{ name: 'fails', error: 'deliberate' }, { name: 'no calls', noCalls: true }] }] });
    const [f] = await runCallFile(readCallFile(failing), startHost({ pluginDirs: [pluginsDir] }));
    assert.equal(f.passed, true, `an expected failure does not fail the call's other expects: ${f.reason}`);
  });
});
