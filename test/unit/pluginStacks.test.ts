import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IpcError, parseCallFile, PluginHost, runCallFile, StackFrame } from '../../src/core';
import { ModuleCache } from '../../src/core/engine/moduleCache';
import { cDir, cPlugin, lineOf, relayInput } from './cPlugins';
import { TempDir } from './hostFunctionFixtures';
import { cli, closeHosts, rejects, startHost, text, transports, wasm } from './helpers';

function framesOf(error: Error): StackFrame[] {
  assert.ok(error instanceof IpcError);
  assert.ok(error.frames, `no frames on ${error.message}`);
  return error.frames;
}

describe('stacks of failures inside plugins', () => {
  afterEach(closeHosts);
  const callee = path.join(cDir, 'callee.c');
  const caller = path.join(cDir, 'caller.c');

  it('names the trap at its source line from DWARF 4, the export below it', async () => {
    const host = startHost();
    const p = await host.register(cPlugin('callee'));
    const error = await rejects(host.call(p.id, 'boom', ''), 'PluginError', /plugin #1 \(callee\)\.boom trapped: unreachable/);
    const frames = framesOf(error);
    assert.deepEqual(
      frames.map((f) => [f.plugin, f.function, f.file, f.line]),
      [
        ['plugin #1 (callee)', 'check_invariant', callee, lineOf('callee.c', '__builtin_trap')],
        ['plugin #1 (callee)', 'boom', callee, lineOf('callee.c', 'int checked = check_invariant')],
      ],
    );
    assert.equal(frames[0].column, 5);
    assert.ok(frames.every((f) => f.offset > 0));
    assert.equal((error as IpcError).notes, undefined);
  });

  it('gives one stack across plugins: the callee, the crossing, the caller (DWARF 5)', async () => {
    const host = startHost();
    const target = await host.register(cPlugin('callee'));
    const relay = await host.register(cPlugin('caller'));
    const error = await rejects(host.call(relay.id, 'relay', relayInput(target.id, 'boom')), 'PluginError', /plugin #1 \(callee\)\.boom trapped: unreachable/);
    assert.deepEqual(
      framesOf(error).map((f) => [f.plugin, f.crossing ?? f.function, f.file, f.line]),
      [
        ['plugin #1 (callee)', 'check_invariant', callee, lineOf('callee.c', '__builtin_trap')],
        ['plugin #1 (callee)', 'boom', callee, lineOf('callee.c', 'int checked = check_invariant')],
        ['plugin #2 (caller)', 'call_plugin', undefined, undefined],
        ['plugin #2 (caller)', 'forward', caller, lineOf('caller.c', 'return call_plugin')],
        ['plugin #2 (caller)', 'relay', caller, lineOf('caller.c', 'u64 out = forward')],
      ],
    );
  });

  it('keeps the frames of a failure the host raised while a plugin ran', async () => {
    const host = startHost();
    const relay = await host.register(cPlugin('caller'));
    // a call to a plugin that is not live fails in call_plugin itself
    const error = await rejects(host.call(relay.id, 'relay', relayInput(99, 'boom')), 'PolicyError', /#99/);
    assert.deepEqual(
      framesOf(error).map((f) => [f.function, f.line]),
      [
        ['forward', lineOf('caller.c', 'return call_plugin')],
        ['relay', lineOf('caller.c', 'u64 out = forward')],
      ],
    );
  });

  it('names functions and offsets in a module without DWARF, with one note on its debug info', async () => {
    const host = startHost();
    const p = await host.register(cPlugin('callee.stripped'));
    const error = await rejects(host.call(p.id, 'boom', ''), 'PluginError', /trapped: unreachable/);
    const frames = framesOf(error);
    assert.deepEqual(frames.map((f) => [f.function, f.file]), [['check_invariant', undefined], ['boom', undefined]]);
    // the same offsets as the module with DWARF: only custom sections after the code were removed
    const full = await host.register(cPlugin('callee'));
    const withDwarf = framesOf(await rejects(host.call(full.id, 'boom', ''), 'PluginError', /trapped/));
    assert.deepEqual(frames.map((f) => f.offset), withDwarf.map((f) => f.offset));
    const notes = (error as IpcError).notes ?? [];
    assert.equal(notes.length, 1);
    assert.match(notes[0], /plugin #1 \(callee\.stripped\) has no DWARF line table.*clang keeps them with `-g`/);
  });

  it('names a trap in a module metered for fuel at the same places as unmetered (its code moved)', async () => {
    const unmetered = startHost();
    const q = await unmetered.register(cPlugin('callee'));
    const plain = framesOf(await rejects(unmetered.call(q.id, 'boom', ''), 'PluginError', /trapped/));
    const host = startHost({ fuel: 1e12 });
    const p = await host.register(cPlugin('callee'));
    const metered = framesOf(await rejects(host.call(p.id, 'boom', ''), 'PluginError', /trapped/));
    const places = (frames: StackFrame[]) => frames.map((f) => [f.function, f.file, f.line, f.column, f.offset]);
    assert.deepEqual(places(metered), places(plain));
    assert.equal(metered[0].line, lineOf('callee.c', '__builtin_trap'));
    // the module V8 runs leaves the DWARF out (its code moved: a debugger would read it wrong)
    const file = cPlugin('callee');
    const compiled = new ModuleCache().get({ key: file, stamp: '1', source: file, read: () => fs.readFileSync(file) }, 16, 'callee', true);
    const runs = compiled.merged ?? compiled.module;
    assert.deepEqual(WebAssembly.Module.customSections(runs, '.debug_line'), []);
    assert.deepEqual(WebAssembly.Module.customSections(runs, '.debug_info'), []);
  });

  it('names where a call ran out of fuel: a line of the function that was running', async () => {
    const host = startHost({ fuel: 5_000_000 });
    const p = await host.register(cPlugin('hot'));
    const frames = framesOf(await rejects(host.call(p.id, 'work', 'x'), 'PluginError', /ran out of fuel/));
    assert.deepEqual(frames.map((f) => [f.function, f.file]), [['spin', path.join(cDir, 'hot.c')], ['work', path.join(cDir, 'hot.c')]]);
    const first = lineOf('hot.c', 'static u64 spin(');
    assert.ok(frames[0].line !== undefined && frames[0].line >= first && frames[0].line < first + 8, `line ${frames[0].line} is not in spin`);
    assert.equal(frames[1].line, lineOf('hot.c', 'x = spin(x, 1000000)'));
  });

  it('names a function of a module without a name section by its index', async () => {
    const host = startHost();
    const p = await host.register(cPlugin('callee.nonames'));
    const frames = framesOf(await rejects(host.call(p.id, 'boom', ''), 'PluginError', /trapped/));
    assert.equal(frames.length, 2);
    for (const f of frames) assert.match(f.function, /^wasm-function\[\d+\]$/);
  });

  it('carries the frames across the child-process transport', async () => {
    const host = new PluginHost({}, transports.childProcess);
    try {
      const target = await host.register(cPlugin('callee'));
      const relay = await host.register(cPlugin('caller'));
      const error = await rejects(host.call(relay.id, 'relay', relayInput(target.id, 'boom')), 'PluginError', /trapped/);
      const frames = framesOf(error);
      assert.deepEqual(frames.map((f) => f.crossing ?? f.function), ['check_invariant', 'boom', 'call_plugin', 'forward', 'relay']);
      assert.equal(frames[0].line, lineOf('callee.c', '__builtin_trap'));
    } finally {
      await host.dispose();
    }
  });

  it('gives a call file\'s failed call the frames, for the Test Explorer\'s location', async () => {
    const host = startHost();
    const file = path.join(cDir, 'build', 'traps.extism-calls.json');
    const calls = parseCallFile(file, JSON.stringify({ calls: [{ name: 'boom', plugin: 'callee.wasm', function: 'boom', expect: { output: 'ok' } }] }));
    const [outcome] = await runCallFile(calls, host);
    assert.equal(outcome.passed, false);
    assert.deepEqual(outcome.frames?.map((f) => [f.function, f.line]), [
      ['check_invariant', lineOf('callee.c', '__builtin_trap')],
      ['boom', lineOf('callee.c', 'int checked = check_invariant')],
    ]);
  });

  it('puts the top frame on the CLI\'s error line and the stack under it, a frame a line', () => {
    const run = spawnSync(process.execPath, [cli, 'call', cPlugin('callee'), 'boom'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    const trap = lineOf('callee.c', '__builtin_trap');
    assert.deepEqual(run.stderr.trimEnd().split('\n'), [
      `extism-ipc: PluginError: plugin #1 (callee).boom trapped: unreachable at check_invariant (${callee}:${trap}:5)`,
      `    check_invariant (${callee}:${trap}:5)`,
      `    boom (${callee}:${lineOf('callee.c', 'int checked = check_invariant')}:17)`,
    ]);
  });

  it('names where a call out of time was, at its source line, and the next call runs', async () => {
    const host = startHost({ callTimeoutMs: 200 });
    const p = await host.register(cPlugin('callee'));
    const error = await rejects(host.call(p.id, 'hang', ''), 'TimeoutError', /plugin #1 \(callee\)\.hang timed out after 200 ms/);
    const frames = framesOf(error);
    assert.deepEqual(frames.map((f) => [f.plugin, f.function, f.file]), [
      ['plugin #1 (callee)', 'spin_forever', callee],
      ['plugin #1 (callee)', 'hang', callee],
    ]);
    const loop = [lineOf('callee.c', 'for (;;)'), lineOf('callee.c', 'spins = spins + 1')];
    assert.ok(frames[0].line !== undefined && frames[0].line >= loop[0] && frames[0].line <= loop[1], `line ${frames[0].line} is not the loop's`);
    assert.equal(frames[1].line, lineOf('callee.c', 'spin_forever();'));
    // the span of the call stopped keeps the stack, as a trap's does
    const span = host.trace.spans().find((s) => s.func === 'hang');
    assert.ok(span);
    assert.deepEqual((await host.spanData(span.id))?.frames?.map((f) => f.function), ['spin_forever', 'hang']);
    assert.equal(text(await host.call(p.id, 'boom', '0123456789')), 'ok');
  });

  it('gives a nested call out of time one stack: the callee, the crossing, the caller', async () => {
    for (const transport of [transports.inProcess, transports.childProcess]) {
      const host = startHost({ callTimeoutMs: 200 }, transport);
      const target = await host.register(cPlugin('callee'));
      const relay = await host.register(cPlugin('caller'));
      const error = await rejects(host.call(relay.id, 'relay', relayInput(target.id, 'hang')), 'TimeoutError', /plugin #1 \(callee\)\.hang was running/);
      assert.deepEqual(
        framesOf(error).map((f) => [f.plugin, f.crossing ?? f.function, f.line]),
        [
          ['plugin #1 (callee)', 'spin_forever', framesOf(error)[0].line],
          ['plugin #1 (callee)', 'hang', lineOf('callee.c', 'spin_forever();')],
          ['plugin #2 (caller)', 'call_plugin', undefined],
          ['plugin #2 (caller)', 'forward', lineOf('caller.c', 'return call_plugin')],
          ['plugin #2 (caller)', 'relay', lineOf('caller.c', 'u64 out = forward')],
        ],
        transport.kind,
      );
      assert.equal(text(await host.call(target.id, 'boom', '0123456789')), 'ok');
    }
  });

  it('puts where a call ran out of time on the CLI\'s error line', () => {
    const run = spawnSync(process.execPath, [cli, 'call', cPlugin('callee'), 'hang', '--timeout', '150'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /timed out after 150 ms \(callTimeoutMs\); plugin #1 \(callee\)\.hang was running at spin_forever \(.*callee\.c:\d+(:\d+)?\)\n {4}spin_forever/);
  });

  it('stops a call that ran out of time blocked outside JavaScript, after a short wait for its stack', async () => {
    const tmp = new TempDir();
    try {
      // a host function that blocks in a child process the runtime waits for: no JavaScript runs meanwhile
      const blocking = tmp.write('blocking.cjs', "module.exports = { 'extism:host/user': { kv_read() { require('node:child_process').execFileSync('sleep', ['0.6']); return 0n; }, kv_write() {} }," +
        " 'example:math': { mult: (c, a, b) => a * b, scale: (c, x, by) => x * by } };");
      const host = startHost({ hostFunctions: [blocking], callTimeoutMs: 100 });
      await host.hostFunctions();
      const p = await host.register(wasm('kv_counter'));
      const started = Date.now();
      await rejects(host.call(p.id, 'count_vowels', 'abc'), 'TimeoutError', /timed out after 100 ms/);
      assert.ok(Date.now() - started < 5000);
      await rejects(host.call(p.id, 'count_vowels', 'abc'), 'TimeoutError', /timed out after 100 ms/);
    } finally {
      tmp.remove();
    }
  });

  it('adds no frames to the errors of calls that never ran a plugin', async () => {
    const host = startHost();
    const p = await host.register(cPlugin('callee'));
    const error = await rejects(host.call(p.id, 'nothing', ''), 'PluginError', /no export/);
    assert.equal((error as IpcError).frames, undefined);
  });
});
