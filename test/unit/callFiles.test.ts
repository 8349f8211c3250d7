import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CallFileError, formatTraceTree, jsonPlaces, parseCallFile, placeOf, readCallFile, runCallFile, toChromeTrace } from '../../src/core';
import { cli, closeHosts, pluginsDir, root, startHost, transports } from './helpers';

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

  it('refuses a file that is not JSON or not an object as a whole, naming the file', () => {
    for (const [value, message] of [['{', /is not valid JSON/], ['[]', /must be a JSON object/], ['3', /must be a JSON object/]] as const) {
      const file = path.join(dir, 'bad.extism-calls.json');
      assert.throws(() => parseCallFile(file, value), (e: Error) => e instanceof CallFileError && e.message.startsWith(`${file}: `) && message.test(e.message));
    }
  });

  it('checks each call on its own: a bad call is one problem naming the file, the call and the field', () => {
    const cases: [unknown, RegExp, string][] = [
      [{ calls: [1] }, /calls\[0\] must be an object/, 'calls[0]'],
      [{ calls: [{ function: 'f' }] }, /calls\[0\]\.plugin must be/, 'calls[0].plugin'],
      [{ calls: [{ plugin: 'p' }] }, /calls\[0\]\.function must name an export/, 'calls[0].function'],
      [{ calls: [{ plugin: 'p', function: 'f', nope: 1 }] }, /calls\[0\]\.nope is not a field of a call/, 'calls[0].nope'],
      [{ calls: [{ plugin: 'p', function: 'f', input: 3 }] }, /calls\[0\]\.input must be a string, or one of/, 'calls[0].input'],
      [{ calls: [{ plugin: 'p', function: 'f', input: { base64: 1 } }] }, /calls\[0\]\.input\.base64 must be a string/, 'calls[0].input.base64'],
      [{ calls: [{ plugin: 'p', function: 'f', config: { a: 1 } }] }, /calls\[0\]\.config must map names to strings/, 'calls[0].config'],
      [{ calls: [{ plugin: 'p', function: 'f', timeoutMs: -1 }] }, /calls\[0\]\.timeoutMs must be a whole number/, 'calls[0].timeoutMs'],
      [{ calls: [{ plugin: 'p', function: 'f', timeoutMs: 2 ** 40 }] }, /calls\[0\]\.timeoutMs must be a whole number/, 'calls[0].timeoutMs'],
      [{ calls: [{ plugin: 'p', function: 'f', expect: { output: 'a', json: 1 } }] }, /calls\[0\]\.expect must have at most one of .* \(it has "output" and "json"\)/, 'calls[0].expect'],
      [{ calls: [{ plugin: 'p', function: 'f', expect: { error: '(' } }] }, /calls\[0\]\.expect\.error is not a regular expression/, 'calls[0].expect.error'],
      [{ calls: [{ plugin: 'p', function: 'f', expect: {} }] }, /calls\[0\]\.expect must assert something/, 'calls[0].expect'],
      [{ calls: [{ plugin: 'p', function: 'f', wasi: 'yes' }] }, /calls\[0\]\.wasi must be true or false/, 'calls[0].wasi'],
    ];
    for (const [value, message, field] of cases) {
      const file = path.join(dir, 'bad.extism-calls.json');
      const parsed = parseCallFile(file, JSON.stringify({ calls: [...(value as { calls: unknown[] }).calls, { name: 'fine', plugin: 'echo', function: 'echo' }] }));
      const [bad, fine] = parsed.calls;
      assert.ok(bad.problem?.startsWith(`${file}: `), `${JSON.stringify(value)}: ${bad.problem}`);
      assert.match(bad.problem ?? '', message);
      assert.equal(bad.problemAt, field);
      assert.equal(fine.problem, undefined, 'the next call is still a call');
      assert.equal(fine.name, 'fine');
    }
    const twice = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ calls: [{ plugin: 'p', function: 'f' }, { plugin: 'p', function: 'f' }] }));
    assert.match(twice.calls[1].problem ?? '', /calls\[1\]\.name "p\.f" is the name of an earlier call too/);
    assert.notEqual(twice.calls[1].name, twice.calls[0].name, 'the second keeps a name of its own');
  });

  it('a bad field of the file is a problem of the file; its calls are still calls', () => {
    const cases: [unknown, RegExp, string][] = [
      [{ calls: {} }, /"calls" must be a list/, 'calls'],
      [{ calls: [], extra: 1 }, /"extra" is not a field of a call file/, 'extra'],
      [{ plugins: 'x', calls: [] }, /"plugins" must be a list/, 'plugins'],
      [{ hostFunctions: [1], calls: [] }, /"hostFunctions" must be a list/, 'hostFunctions'],
      [{}, /must have a "calls" list or a "groups" list/, ''],
    ];
    for (const [value, message, at] of cases) {
      const parsed = parseCallFile('/d/x.extism-calls.json', JSON.stringify(value));
      assert.equal(parsed.problems.length, 1, JSON.stringify(parsed.problems));
      assert.match(parsed.problems[0].message, message);
      assert.ok(parsed.problems[0].message.startsWith('/d/x.extism-calls.json: '));
      assert.equal(parsed.problems[0].at, at);
    }
    const withCalls = parseCallFile('/d/x.extism-calls.json', JSON.stringify({ plugins: 3, calls: [{ plugin: 'echo', function: 'echo' }] }));
    assert.equal(withCalls.calls.length, 1);
  });

  it('runs the good calls of a file with a bad one, which fails where it is without running', async () => {
    const file = write(dir, 'mixed.extism-calls.json', {
      calls: [
        { name: 'before', plugin: 'echo', function: 'echo', input: 'a', expect: { output: 'a' } },
        { name: 'bad', plugin: 'echo', function: 'echo', expect: { output: 1 } },
        { name: 'after', plugin: 'echo', function: 'echo', input: 'b', expect: { output: 'b' } },
      ],
    });
    const host = startHost({ pluginDirs: [pluginsDir] });
    const outcomes = await runCallFile(readCallFile(file), host);
    assert.deepEqual(outcomes.map((o) => `${o.call.name}: ${o.passed}${o.invalid ? ' invalid' : ''}`), ['before: true', 'bad: false invalid', 'after: true']);
    assert.match(outcomes[1].reason ?? '', /calls\[1\]\.expect\.output must be a string/);
    assert.equal(outcomes[1].spans.length, 0, 'the bad call did not run');
  });

  it('call-file calls show in the trace under their call\'s name and file, in the tree and the Chrome export', async () => {
    const file = write(dir, 'traced.extism-calls.json', { calls: [{ name: 'chained', plugin: 'chain_a', function: 'step', input: 'x' }] });
    for (const transport of [transports.inProcess, transports.childProcess]) {
      const host = startHost({ pluginDirs: [pluginsDir] }, transport);
      const [outcome] = await runCallFile(readCallFile(file), host);
      assert.ok(outcome.passed, outcome.reason);
      const root = outcome.spans.find((s) => s.depth === 0)!;
      assert.equal(root.caller, 'callFile');
      assert.equal(root.callerName, 'traced.extism-calls.json › chained');
      assert.ok(outcome.spans.some((s) => s.depth === 1 && typeof s.caller === 'number'), 'nested calls keep their plugin caller');
      assert.match(formatTraceTree(outcome.spans), /^traced\.extism-calls\.json › chained -> #\d+ chain_a\.step/);
      const events = toChromeTrace(outcome.spans).traceEvents as { args?: { caller?: string } }[];
      assert.ok(events.some((e) => e.args?.caller === 'traced.extism-calls.json › chained'));
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
    const badCall = write(dir, 'badcall.extism-calls.json', { calls: [{ plugin: 'echo' }, { name: 'good', plugin: 'echo', function: 'echo', input: 'x', expect: { output: 'x' } }] });
    const oneBad = run(badCall);
    assert.equal(oneBad.status, 1, 'a bad call fails; the others run');
    assert.match(oneBad.stdout, /✗ calls\[0\]: .*badcall\.extism-calls\.json: calls\[0\]\.function must name an export/);
    assert.match(oneBad.stdout, /✓ good/);
    assert.match(oneBad.stdout, /1 passed, 1 failed/);
    const malformed = write(dir, 'bad.extism-calls.json', '{"calls": [');
    const refused = run(malformed);
    assert.equal(refused.status, 2);
    assert.match(refused.stdout, /bad\.extism-calls\.json: is not valid JSON/);
    const all = run(dir);
    assert.equal(all.status, 2, 'a directory runs every call file in it');
    assert.match(all.stdout, /2 passed, 2 failed/);
  });
});

describe('where values sit in a call file', () => {
  it('jsonPlaces finds calls, groups and fields by path, and placeOf falls back to the enclosing value', () => {
    const text = '{\n  "calls": [\n    { "plugin": "a", "function": "f" },\n    {"plugin":"b\\"]}","function":"g","expect":{"output":1}}\n  ],\n  "groups": [{ "name": "g", "calls": [ {"plugin": "c"} ] }]\n}';
    const places = jsonPlaces(text);
    const slice = (p: string) => {
      const at = places.get(p)!;
      return text.slice(at.start, at.end);
    };
    assert.equal(slice('calls[0]'), '{ "plugin": "a", "function": "f" }');
    assert.equal(slice('calls[1].plugin'), '"b\\"]}"');
    assert.equal(slice('calls[1].expect.output'), '1');
    assert.equal(slice('groups[0].calls[0]'), '{"plugin": "c"}');
    assert.equal(text.slice(placeOf(places, 'calls[1].expect.output.deeper')!.start).startsWith('1'), true);
    assert.equal(placeOf(places, 'nothing[3]')!.start, 0, 'the document itself at last');
    assert.equal(jsonPlaces('{"calls": [').get('calls'), undefined, 'text that is not JSON gives what was found');
  });
});
