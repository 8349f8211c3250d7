import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendRecordedCall, CallFileError, readCallFile } from '../../src/core';
import { cli, pluginsDir } from './helpers';

describe('recording calls into a call file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-record-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ipc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '' } });

  it('extism-ipc call --record appends each call with its output, creating the file; the file replays green', () => {
    const file = path.join(dir, 'rec.extism-calls.json');
    const a = ipc('call', 'count_vowels', 'count_vowels', 'Hello', '--record', file);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /recorded in .*rec\.extism-calls\.json/);
    assert.equal(ipc('call', 'count_vowels', 'count_vowels', 'aeiou', '--config', 'vowels=ae', '--record', file).status, 0);
    assert.equal(ipc('call', path.join(pluginsDir, 'echo.wasm'), 'echo', '--input-file', path.join(pluginsDir, 'echo.wasm'), '--record', file).status, 0, 'bytes that are not text');
    assert.equal(ipc('call', 'kv_counter', 'count_vowels', 'aei', '--host-functions', path.join(pluginsDir, 'host-functions', 'kv.mjs'), '--record', file).status, 0);
    const failed = ipc('call', 'trap', 'fail', '--record', file);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /not recorded in .*: the call failed/);
    const calls = readCallFile(file);
    assert.deepEqual(calls.calls.map((c) => c.name), ['count_vowels.count_vowels', 'count_vowels.count_vowels 2', 'echo.echo', 'kv_counter.count_vowels']);
    assert.deepEqual(calls.calls[0].expect[0].output, { output: '{"count":2,"total":2,"vowels":"aeiouAEIOU"}' });
    assert.deepEqual({ ...calls.calls[1].config }, { vowels: 'ae' });
    assert.ok(calls.calls[2].input && 'base64' in calls.calls[2].input, 'a binary input as base64');
    assert.ok(calls.calls[2].expect[0].output && 'base64' in calls.calls[2].expect[0].output, 'a binary output as base64');
    assert.equal(calls.calls[2].plugin, path.relative(dir, path.join(pluginsDir, 'echo.wasm')));
    assert.deepEqual(calls.hostFunctions, [path.join(pluginsDir, 'host-functions', 'kv.mjs')]);
    const replay = ipc('test', file);
    assert.equal(replay.status, 0, replay.stdout);
    assert.match(replay.stdout, /4 passed, 0 failed/);
  });

  it('refuses what a call file cannot hold, and a file that is not a call file', () => {
    const file = path.join(dir, 'rec.extism-calls.json');
    const bound = ipc('call', 'run_bound', 'run', '--bind', 'count_vowels=count_vowels.count_vowels', '--record', file);
    assert.equal(bound.status, 2);
    assert.match(bound.stderr, /--record cannot write --bind into a call file/);
    assert.equal(ipc('call', 'echo', 'echo', '--record', path.join(dir, 'x.txt')).status, 2);
    assert.throws(() => appendRecordedCall('/f.json', '[1]', { plugin: 'p', function: 'f', input: new Uint8Array(), output: new Uint8Array() }), CallFileError);
    assert.throws(() => appendRecordedCall('/f.json', '{"calls": 3}', { plugin: 'p', function: 'f', input: new Uint8Array(), output: new Uint8Array() }), /"calls" must be a list/);
    const kept = JSON.parse(appendRecordedCall('/f.json', '{"plugins": ["p"], "calls": [{"name": "p.f", "plugin": "p", "function": "f"}]}', { plugin: 'p', function: 'f', input: Buffer.from('i'), output: Buffer.from('o') }));
    assert.deepEqual(kept.plugins, ['p'], 'the file\'s other fields stay');
    assert.deepEqual(kept.calls[1], { name: 'p.f 2', plugin: 'p', function: 'f', input: 'i', expect: { output: 'o' } });
  });
});
