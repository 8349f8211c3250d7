import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallFileError, parseCallFile, readCallFile, runCallFile } from '../../src/core';
import { cli, closeHosts, pluginsDir, root, startHost } from './helpers';

function write(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('call files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-calls-'));
  });
  afterEach(async () => {
    await closeHosts();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('checks every kind of expectation, passing and failing', async () => {
    fs.writeFileSync(path.join(dir, 'in.txt'), 'from a file');
    const file = write(dir, 'kinds.extism-calls.json', {
      calls: [
        { name: 'output ok', plugin: 'echo', function: 'echo', input: 'hi', expect: { output: 'hi' } },
        { name: 'output bad', plugin: 'echo', function: 'echo', input: 'hi', expect: { output: 'ho' } },
        { name: 'base64 ok', plugin: 'echo', function: 'echo', input: { base64: 'AP8=' }, expect: { base64: 'AP8=' } },
        { name: 'base64 bad', plugin: 'echo', function: 'echo', input: { base64: 'AP8=' }, expect: { base64: 'AP4=' } },
        { name: 'json ok', plugin: 'count_vowels', function: 'count_vowels', input: 'aaa', expect: { json: { count: 3 } } },
        { name: 'json bad', plugin: 'count_vowels', function: 'count_vowels', input: 'aaa', expect: { json: { count: 4 } } },
        { name: 'json not json', plugin: 'echo', function: 'echo', input: 'plain', expect: { json: { a: 1 } } },
        { name: 'contains ok', plugin: 'echo', function: 'echo', input: { file: 'in.txt' }, expect: { contains: 'a file' } },
        { name: 'contains bad', plugin: 'echo', function: 'echo', input: { json: [1] }, expect: { contains: '2' } },
        { name: 'error ok', plugin: 'trap', function: 'fail', expect: { error: 'deliberate' } },
        { name: 'error but it worked', plugin: 'trap', function: 'ok', expect: { error: 'deliberate' } },
        { name: 'error of another kind', plugin: 'trap', function: 'trap', expect: { error: '^nope$' } },
        { name: 'no expect, fails', plugin: 'echo', function: 'missing' },
        { name: 'no expect, works', plugin: path.join(pluginsDir, 'echo.wasm'), function: 'length', input: '1234' },
      ],
    });
    const host = startHost({ pluginDirs: [pluginsDir] });
    const outcomes = await runCallFile(readCallFile(file), host);
    assert.deepEqual(outcomes.map((o) => `${o.call.name}: ${o.passed}`), [
      'output ok: true', 'output bad: false', 'base64 ok: true', 'base64 bad: false', 'json ok: true', 'json bad: false',
      'json not json: false', 'contains ok: true', 'contains bad: false', 'error ok: true', 'error but it worked: false',
      'error of another kind: false', 'no expect, fails: false', 'no expect, works: true',
    ]);
    const bad = outcomes[1];
    assert.equal(bad.expected, 'ho');
    assert.equal(bad.actual, 'hi');
    assert.match(outcomes[5].reason ?? '', /does not contain the expected fields/);
    assert.match(outcomes[5].actual ?? '', /"count": 3/);
    assert.match(outcomes[12].reason ?? '', /has no export "missing"/);
    assert.ok(outcomes[0].spans.some((s) => s.calleeName === 'echo' && s.func === 'echo'), 'the spans of the call come with it');
  });

  it('reuses a live plugin for the same plugin and options, so vars carry over; other options get their own', async () => {
    const file = write(dir, 'vars.extism-calls.json', {
      plugins: [path.relative(dir, pluginsDir)],
      calls: [
        { plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } },
        { name: 'again', plugin: 'config_counter', function: 'count', expect: { output: 'counter=2' } },
        { name: 'labelled', plugin: 'config_counter', function: 'count', config: { label: 'x' }, expect: { output: 'x=1' } },
        { name: 'third', plugin: 'config_counter', function: 'count', expect: { output: 'counter=3' } },
      ],
    });
    const calls = readCallFile(file);
    assert.deepEqual(calls.pluginDirs, [pluginsDir]);
    const host = startHost({ pluginDirs: calls.pluginDirs });
    const outcomes = await runCallFile(calls, host);
    assert.deepEqual(outcomes.map((o) => o.passed), [true, true, true, true], JSON.stringify(outcomes.map((o) => o.reason)));
    assert.equal(host.plugins().length, 2);
    const picked = await runCallFile(calls, startHost({ pluginDirs: calls.pluginDirs }), new Set([1]));
    assert.deepEqual(picked.map((o) => `${o.call.name} ${o.passed}`), ['again true'], 'the calls before a picked one still run');
  });

  it('refuses malformed files, naming the file and the field', () => {
    const cases: [unknown, RegExp][] = [
      ['{', /is not valid JSON/],
      [[], /must be a JSON object/],
      [{ calls: {} }, /"calls" must be a list/],
      [{ calls: [], extra: 1 }, /"extra" is not a field of a call file/],
      [{ plugins: 'x', calls: [] }, /"plugins" must be a list/],
      [{ calls: [1] }, /calls\[0\] must be an object/],
      [{ calls: [{ function: 'f' }] }, /calls\[0\]\.plugin must be/],
      [{ calls: [{ plugin: 'p' }] }, /calls\[0\]\.function must name an export/],
      [{ calls: [{ plugin: 'p', function: 'f', nope: 1 }] }, /calls\[0\]\.nope is not a field of a call/],
      [{ calls: [{ plugin: 'p', function: 'f', input: 3 }] }, /calls\[0\]\.input must be a string, or one of/],
      [{ calls: [{ plugin: 'p', function: 'f', input: { base64: 1 } }] }, /calls\[0\]\.input\.base64 must be a string/],
      [{ calls: [{ plugin: 'p', function: 'f', config: { a: 1 } }] }, /calls\[0\]\.config must map names to strings/],
      [{ calls: [{ plugin: 'p', function: 'f', timeoutMs: -1 }] }, /calls\[0\]\.timeoutMs must be a whole number/],
      [{ calls: [{ plugin: 'p', function: 'f', timeoutMs: 2 ** 40 }] }, /calls\[0\]\.timeoutMs must be a whole number/],
      [{ calls: [{ plugin: 'p', function: 'f', expect: { output: 'a', json: 1 } }] }, /calls\[0\]\.expect must have exactly one of/],
      [{ calls: [{ plugin: 'p', function: 'f', expect: { error: '(' } }] }, /calls\[0\]\.expect\.error is not a regular expression/],
      [{ calls: [{ plugin: 'p', function: 'f' }, { plugin: 'p', function: 'f' }] }, /calls\[1\]\.name "p\.f" is the name of an earlier call too/],
      [{ calls: [{ plugin: 'p', function: 'f', wasi: 'yes' }] }, /calls\[0\]\.wasi must be true or false/],
    ];
    for (const [value, message] of cases) {
      const file = path.join(dir, 'bad.extism-calls.json');
      assert.throws(() => parseCallFile(file, typeof value === 'string' ? value : JSON.stringify(value)), (e: Error) => {
        assert.ok(e instanceof CallFileError, `${JSON.stringify(value)}: ${e}`);
        assert.ok(e.message.startsWith(`${file}: `), e.message);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  it('cli: extism-ipc test prints a line per call and the count; its exit status says how it went', () => {
    const ok = write(dir, 'ok.extism-calls.json', { calls: [{ name: 'vowels', plugin: 'count_vowels', function: 'count_vowels', input: 'aei', expect: { json: { count: 3 } } }] });
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'test', ...args], { cwd: root, encoding: 'utf8' });
    const passed = run(ok);
    assert.equal(passed.status, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /^✓ vowels \(\d+ ms\)\n1 passed, 0 failed\n$/);
    const failing = write(dir, 'fail.extism-calls.json', { calls: [{ name: 'wrong', plugin: 'echo', function: 'echo', input: 'a', expect: { output: 'b' } }] });
    const failed = run(failing);
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /✗ wrong: the output differs \(\d+ ms\)\n {4}expected: b\n {4}actual: {3}a\n0 passed, 1 failed/);
    const malformed = write(dir, 'bad.extism-calls.json', { calls: [{ plugin: 'echo' }] });
    const refused = run(malformed);
    assert.equal(refused.status, 2);
    assert.match(refused.stdout, /bad\.extism-calls\.json: calls\[0\]\.function must name an export/);
    const all = run(dir);
    assert.equal(all.status, 2, 'a directory runs every call file in it');
    assert.match(all.stdout, /1 passed, 1 failed/);
  });
});
