import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isKernelDisassembly, isKernelFrameName, keepDebugInfo, readCallFile, runCallFile, summarizeModule } from '../../src/core';
import type { CallFileCaller, CallOutcome, DebuggedCall } from '../../src/core';
import { cPlugin } from './cPlugins';
import { closeHosts, pluginsDir, rejects, startHost, text, transports, wasm } from './helpers';
import { accepts } from '../tcpProbe';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('debug calls', () => {
  afterEach(closeHosts);

  it('the runtime process opens its inspector on request only, on a loopback port, and keeps its plugins', async () => {
    const host = startHost({}, transports.childProcess);
    const echo = await host.register('echo');
    const address = await host.openInspector();
    assert.equal(address.host, '127.0.0.1');
    assert.ok(address.port > 0);
    assert.match(address.url, new RegExp(`^ws://127\\.0\\.0\\.1:${address.port}/`));
    const list = (await (await fetch(`http://127.0.0.1:${address.port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    assert.equal(list[0].webSocketDebuggerUrl, address.url);
    // on no other interface of this machine
    const others = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    for (const other of others) assert.equal(await accepts(other!.address, address.port), false, `listening on ${other!.address}`);
    assert.equal(text(await host.call(echo.id, 'echo', 'still live')), 'still live');
    await host.closeInspector();
    assert.equal(await accepts('127.0.0.1', address.port), false, 'closed');
  });

  it('a runtime in the caller process or a worker thread is not debugged', async () => {
    await rejects(startHost().openInspector(), 'HostError', /only a plugin runtime in a child process of its own can be debugged/);
    await rejects(startHost({}, transports.worker).openInspector(), 'HostError', /only a plugin runtime in a child process of its own can be debugged/);
  });

  it('a debugged call runs past callTimeoutMs, stops when its session ends, and the runtime goes on', async () => {
    const host = startHost({ callTimeoutMs: 200 }, transports.childProcess);
    const loop = await host.register('loop');
    await host.openInspector();
    const t0 = Date.now();
    const spinning = host.debugCall(loop.id, 'spin', '', { everyEntry: true });
    await sleep(700);
    assert.equal(host.interruptDebugCall(), true);
    await rejects(spinning, 'HostError', /debug session ended: the call was stopped/);
    assert.ok(Date.now() - t0 >= 700, 'ran past its time limit');
    assert.equal(host.plugin(loop.id)?.name, 'loop', 'still live');
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok');
    // deadlines apply again to ordinary calls
    await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /timed out after 200 ms/);
    // nothing to stop now: no SIGINT is sent
    assert.equal(host.interruptDebugCall(), false);
    await host.closeInspector();
  });

  it('a debugged call from plugin to plugin gives the ordinary output when no debugger is attached', async () => {
    const host = startHost({}, transports.childProcess);
    const run = await host.register('run');
    await host.openInspector();
    const out = JSON.parse(text(await host.debugCall(run.id, 'run', '', { everyEntry: true }))) as { count: number };
    assert.equal(out.count, 3);
    assert.equal(text(await host.call(run.id, 'run', '')).includes('"count":3'), true);
    const spans = host.trace.spans().filter((s) => s.func === 'count_vowels');
    assert.equal(spans.length, 2, 'the debugged call is traced like any other');
  });

  it('a call file\'s picked calls go through the debug hook (only their first run), and are judged as a run judges them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-debugfile-'));
    try {
      const file = path.join(dir, 'debugged.extism-calls.json');
      fs.writeFileSync(file, JSON.stringify({
        calls: [
          { name: 'state', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } },
          { name: 'counts on', plugin: 'config_counter', function: 'count', expect: { output: 'counter=2' } },
          { name: 'wrong', plugin: 'echo', function: 'echo', input: 'given', expect: [{ name: 'says hello', output: 'hello' }, { contains: 'giv' }] },
          { name: 'repeated', plugin: 'echo', function: 'echo', input: 'r', repeat: 3, expect: { output: 'r', maxMs: 60_000 } },
          { name: 'missing', plugin: 'echo', function: 'nope', expect: { error: 'nope' } },
          { name: 'chained', plugin: 'run', function: 'run', expect: { json: { count: 3 }, calls: [{ callee: 'count_vowels.count_vowels' }] } },
        ],
      }));
      const picked = new Set([1, 2, 3, 4, 5]);
      const shown = (outcomes: CallOutcome[]) => outcomes.map((o) => ({ name: o.call.name, passed: o.passed, reason: o.reason, checks: o.checks.map((c) => ({ ...c, note: undefined })) }));
      const plain = await runCallFile(readCallFile(file), startHost({ pluginDirs: [pluginsDir] }), picked);

      const host = startHost({ pluginDirs: [pluginsDir] }, transports.childProcess);
      await host.openInspector();
      const through: { name: string; caller: CallFileCaller }[] = [];
      const debug: DebuggedCall = (h, id, call, input, caller) => {
        through.push({ name: call.name, caller });
        return h.debugCall(id, call.function, input, { everyEntry: true }, caller);
      };
      const debugged = await runCallFile(readCallFile(file), host, picked, { debug });
      await host.closeInspector();
      // the state call before the picked ones ran, but not through the hook; a repeated call's first run only
      assert.deepEqual(through.map((t) => t.name), ['counts on', 'wrong', 'repeated', 'missing', 'chained']);
      assert.deepEqual(through[0].caller, { callFile: file, name: 'counts on' });
      assert.deepEqual(shown(debugged), shown(plain));
      assert.deepEqual(debugged.map((o) => o.passed), [true, false, true, true, true]);
      assert.equal(debugged[1].reason, 'says hello: the output differs');
      // traced like any call of the file: under its file and name, its nested call included
      const chained = debugged[4].spans;
      assert.equal(chained.find((s) => s.depth === 0)?.callerName, 'debugged.extism-calls.json › chained');
      assert.ok(chained.some((s) => s.func === 'count_vowels'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a module with DWARF is told apart from one without, whose PDK\'s debug-info flag is named', () => {
    const summary = (file: string) => {
      const s = summarizeModule(fs.readFileSync(file));
      assert.ok(s.ok, file);
      return s;
    };
    const c = summary(cPlugin('callee'));
    assert.ok(c.dwarf.includes('.debug_line'), `DWARF: ${c.dwarf.join(', ')}`);
    const stripped = summary(cPlugin('callee.stripped'));
    assert.deepEqual(stripped.dwarf, []);
    assert.equal(stripped.pdk?.language, 'C');
    assert.match(keepDebugInfo(stripped.pdk?.language), /^C: compile with `-g` and do not strip/);
    // the sample plugins give their AssemblyScript away by nothing: the note names the usual flags
    const sample = summary(wasm('echo'));
    assert.deepEqual(sample.dwarf, []);
    assert.match(keepDebugInfo(sample.pdk?.language), /debug-info flag \(`-g` for C, C\+\+, Zig and Rust\)/);
    assert.match(keepDebugInfo('AssemblyScript'), /`--debug`/);
    assert.match(keepDebugInfo('Rust'), /debug = true/);
    assert.match(keepDebugInfo('TinyGo'), /-no-debug/);
    assert.match(keepDebugInfo('Go'), /-ldflags=-w/);
    assert.match(keepDebugInfo('Zig'), /-O Debug/);
    assert.match(keepDebugInfo('JavaScript'), /QuickJS/);
    assert.match(keepDebugInfo(undefined), /debug-info flag/);
  });

  it('the kernel\'s frames are told from a plugin\'s, as the JavaScript debugger names them', () => {
    // merged into a plugin: named after the kernel's exports (NUL shown as _), or extism:host/env.* by a name section
    for (const name of ['global.$_extism:kernel/host_length', '$\0extism:kernel/alloc', 'global.$extism:host/env.output_set']) assert.equal(isKernelFrameName(name), true, name);
    for (const name of ['global.$run', 'global.$count_vowels', '$func23', 'global.$forward', 'extismPluginEntry', 'global.$env.call_plugin']) assert.equal(isKernelFrameName(name), false, name);
    // a kernel of its own: the module that imports the host's out_of_memory (V8's disassembly)
    assert.equal(isKernelDisassembly('(module\n  (func $func0 (;0;) (import "host" "out_of_memory") (param i64))\n'), true);
    assert.equal(isKernelDisassembly('(module\n  (func $env.call_plugin (;1;) (import "env" "call_plugin") (param i64 i64 i64) (result i64))\n  (func $extism:host/kernel.out_of_memory (;2;) (import "extism:host/kernel" "out_of_memory") (param i64))'), false);
  });
});
