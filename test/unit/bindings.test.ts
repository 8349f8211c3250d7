import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatTraceTree, normalizePolicy, PolicyOptions, Span, toChromeTrace } from '../../src/core';
import { cli, closeHosts, rejects, root, startHost, text, transports } from './helpers';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

const SEED = { run_bound: { 'extism:host/user.count_vowels': 'count_vowels.count_vowels' } };
const relayTo = (target: string) => ({ bound_relay: { target } });
const COUNT = '{"count":3,"total":3,"vowels":"aeiouAEIOU"}';

/** A plugin whose `relay` hands its input to `extism:host/user.target` typed as given. */
async function relayModule(params: string, result: string): Promise<string> {
  return writeModule('typed', await assemble(`(module ${ENV_IMPORTS}
    (import "extism:host/user" "target" (func $target (param ${params}) (result ${result})))
    (memory (export "memory") 1)
    (func (export "relay") (result i32) (i32.const 0)))`));
}

/** A plugin with a bound import `target` and call_plugin: `relay` uses the binding, `direct` calls #2 echo by id. */
async function narrowModule(): Promise<string> {
  const store = (at: number, byte: number) => `(call $store_u8 (i64.add (local.get $name) (i64.const ${at})) (i32.const ${byte}))`;
  return writeModule('narrow', await assemble(`(module ${ENV_IMPORTS}
    (import "extism:host/user" "target" (func $target (param i64) (result i64)))
    (import "extism:host/user" "call_plugin" (func $call_plugin (param i64 i64 i64) (result i64)))
    (memory (export "memory") 1)
    (func (export "relay") (result i32) (local $out i64)
      (local.set $out (call $target (i64.const 0)))
      (call $output_set (local.get $out) (call $length (local.get $out)))
      (i32.const 0))
    (func (export "direct") (result i32) (local $name i64)
      (local.set $name (call $alloc (i64.const 4)))
      ${store(0, 101)} ${store(1, 99)} ${store(2, 104)} ${store(3, 111)}
      (drop (call $call_plugin (i64.const 2) (local.get $name) (i64.const 0)))
      (i32.const 0)))`));
}

describe('bindings: an import bound to another plugin\'s export', () => {
  afterEach(closeHosts);

  it('runs the seed scenario through a binding, the target loaded as the binder\'s child', async () => {
    const host = startHost({ bindings: SEED });
    const run = await host.register('run_bound');
    const tree = host.plugins().map((p) => [p.name, p.parentId]);
    assert.deepEqual(tree, [['run_bound', null], ['count_vowels', run.id]]);
    assert.equal(text(await host.call(run.id, 'run')), COUNT);
    assert.equal(JSON.parse(text(await host.call(run.id, 'run'))).total, 6, 'the same live child serves every call');
    assert.equal(host.plugins().length, 2, 'nothing is spawned per call');
    await host.unregister(run.id);
    assert.deepEqual(host.plugins(), [], 'the bound child goes with its binder');
  });

  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: the span of a bound call is marked, in the store, the text tree and the Chrome export`, async () => {
      const host = startHost({ bindings: SEED }, transport);
      const run = await host.register('run_bound');
      await host.call(run.id, 'run', '', 'command');
      const spans = host.trace.spans();
      const outer = spans.find((s) => s.calleeName === 'run_bound') as Span;
      const inner = spans.find((s) => s.calleeName === 'count_vowels') as Span;
      assert.equal(outer.bound, undefined);
      assert.equal(inner.bound, 'extism:host/user.count_vowels');
      assert.equal(inner.parentId, outer.id);
      assert.equal(inner.caller, run.id);
      assert.equal(inner.inputBytes, 13);
      assert.match(formatTraceTree(spans), /#1 run_bound -> #2 count_vowels\.count_vowels \(bound extism:host\/user\.count_vowels\)/);
      const events = toChromeTrace(spans).traceEvents as { cat?: string; args?: { bound?: string } }[];
      const bound = events.filter((e) => e.cat?.includes('bound'));
      assert.equal(bound.length, 1);
      assert.equal(bound[0].args?.bound, 'extism:host/user.count_vowels');
    });
  }

  it('is narrow: with an empty call permission the binder reaches its bound target, and call_plugin reaches nothing', async () => {
    const host = startHost({ bindings: { narrow: { target: 'echo.echo' } }, permissions: { narrow: { spawn: ['echo'], call: [] } } });
    const narrow = await host.register(await narrowModule());
    assert.deepEqual(host.plugins().map((p) => [p.id, p.name, p.parentId]), [[1, 'narrow', null], [2, 'echo', 1]]);
    assert.equal(text(await host.call(narrow.id, 'relay')), '');
    await rejects(host.call(narrow.id, 'direct'), 'PolicyError', /^call_plugin: plugin #1 \(narrow\) may not call echo\.echo \(permissions\["narrow"\]\.call\)$/);
    assert.equal(text(await host.call(narrow.id, 'relay')), '', 'the refusal lost nothing');
  });

  it('refuses a binding the spawn permission does not allow, loading nothing, and stays usable', async () => {
    const host = startHost({ bindings: SEED, permissions: { run_bound: { spawn: ['echo'], call: [] } } });
    await rejects(
      host.register('run_bound'),
      'PolicyError',
      /^plugin #1 \(run_bound\): binding extism:host\/user\.count_vowels -> count_vowels\.count_vowels is refused: "run_bound" may not spawn "count_vowels" \(permissions\["run_bound"\]\.spawn\)$/,
    );
    assert.deepEqual(host.plugins(), []);
    const echo = await host.register('echo');
    assert.equal(text(await host.call(echo.id, 'echo', 'still here')), 'still here');
  });

  it('refuses an ill-typed import, naming the binding, the type found and the type needed', async () => {
    for (const [params, result, type] of [['i32', 'i32', '(i32) -> i32'], ['i64 i64', 'i64', '(i64, i64) -> i64'], ['i64', 'i32', '(i64) -> i32']]) {
      const file = await relayModule(params, result);
      const host = startHost({ bindings: { typed: { target: 'echo.echo' } } });
      await rejects(host.register(file), 'PluginError', new RegExp(`binding extism:host/user\\.target -> echo\\.echo: the import is typed ${type.replace(/[()]/g, '\\$&')}; a bound import must be \\(i64\\) -> i64`));
      assert.deepEqual(host.plugins(), [], 'the target is not loaded for a binding refused before');
    }
    // the type is found past imports of other kinds (a global, a memory, a table)
    const behind = writeModule('typed', await assemble(`(module
      (import "env" "g" (global i64)) (import "env" "mem" (memory 1 2)) (import "env" "tab" (table 1 funcref))
      (import "extism:host/user" "target" (func (param f64) (result f32))))`));
    await rejects(startHost({ bindings: { typed: { target: 'echo.echo' } } }).register(behind), 'PluginError', /the import is typed \(f64\) -> f32;/);
    const good = await relayModule('i64', 'i64');
    const host = startHost({ bindings: { typed: { target: 'echo.echo' } } });
    const typed = await host.register(good);
    assert.deepEqual(host.plugins().map((p) => [p.name, p.parentId]), [['typed', null], ['echo', typed.id]]);
    assert.equal(text(await host.call(typed.id, 'relay')), '');
  });

  it('fails the binder\'s load when the target has no such export or no such plugin, and unloads the target', async () => {
    let host = startHost({ bindings: relayTo('echo.nope') });
    await rejects(host.register('bound_relay'), 'PluginError', /^plugin #1 \(bound_relay\): binding extism:host\/user\.target -> echo\.nope: plugin #2 \(echo\) has no export "nope"$/);
    assert.deepEqual(host.plugins(), []);
    host = startHost({ bindings: relayTo('no_such_plugin.run') });
    await rejects(host.register('bound_relay'), 'PolicyError', /binding extism:host\/user\.target -> no_such_plugin\.run: .*no_such_plugin/);
    assert.deepEqual(host.plugins(), []);
  });

  it('refuses a binding cycle instead of loading plugins until the limit', async () => {
    const host = startHost({ bindings: relayTo('bound_relay.relay') });
    await rejects(host.register('bound_relay'), 'PolicyError', /would load "bound_relay" inside its own bindings .*; bindings may not form a cycle/);
    assert.deepEqual(host.plugins(), []);
  });

  it('refuses reentrancy through a binding: the callee calling back into the binder', async () => {
    const host = startHost({ bindings: relayTo('pong.bounce') });
    const relay = await host.register('bound_relay');
    await rejects(
      host.call(relay.id, 'relay', String(relay.id)),
      'PolicyError',
      /call_plugin: plugin #1 \(bound_relay\) is already on the call stack \(#1 bound_relay -> #2 pong -> #1\); a plugin cannot be re-entered/,
    );
    const [, inner] = host.trace.spans().sort((a, b) => a.id - b.id);
    assert.equal(inner.bound, 'extism:host/user.target');
    assert.equal(inner.status, 'error');
  });

  it('holds the depth limit on a bound call', async () => {
    const host = startHost({ bindings: relayTo('echo.echo'), maxCallDepth: 1 });
    const relay = await host.register('bound_relay');
    await rejects(host.call(relay.id, 'relay', 'x'), 'PolicyError', /^bound extism:host\/user\.target: call depth limit of 1 reached \(maxCallDepth\) at #1 bound_relay$/);
  });

  it('stops a runaway target on time, and the binder and its target serve the next call', async () => {
    const host = startHost({ bindings: relayTo('loop.spin'), callTimeoutMs: 300 });
    const relay = await host.register('bound_relay');
    const loop = host.plugins().find((p) => p.name === 'loop');
    assert.ok(loop && loop.parentId === relay.id);
    await rejects(host.call(relay.id, 'relay'), 'TimeoutError', /call to plugin #1 \(bound_relay\)\.relay timed out after 300 ms \(callTimeoutMs\); plugin #2 \(loop\)\.spin was running/);
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok');
    await rejects(host.call(relay.id, 'relay'), 'TimeoutError', /timed out/);
    assert.equal(host.plugins().length, 2);
  });

  it('fails a call to a target that was unregistered, naming it, and loses nothing else', async () => {
    const host = startHost({ bindings: relayTo('echo.echo') });
    const relay = await host.register('bound_relay');
    const echo = host.plugins().find((p) => p.name === 'echo');
    assert.ok(echo);
    await host.unregister(echo.id);
    await rejects(host.call(relay.id, 'relay', 'x'), 'PolicyError', /^bound extism:host\/user\.target: #1 bound_relay cannot call echo\.echo: plugin #2 \(echo\) was unregistered$/);
    const other = await host.register('echo');
    assert.equal(text(await host.call(other.id, 'echo', 'ok')), 'ok');
  });

  it('cuts a binding the new policy no longer allows', async () => {
    const host = startHost({ bindings: relayTo('echo.echo') });
    const relay = await host.register('bound_relay');
    assert.equal(text(await host.call(relay.id, 'relay', 'a')), 'a');
    await host.configure({ pluginDirs: [path.join(root, 'plugins')], bindings: relayTo('echo.echo'), permissions: { bound_relay: { spawn: [], call: [] } } });
    await rejects(host.call(relay.id, 'relay', 'a'), 'PolicyError', /the policy no longer lets "bound_relay" spawn "echo" \(permissions\["bound_relay"\]\.spawn\)/);
  });

  it('keeps its bound targets over a reload', async () => {
    const host = startHost({ bindings: relayTo('echo.echo') });
    const relay = await host.register('bound_relay');
    await host.reload(relay.id);
    assert.equal(text(await host.call(relay.id, 'relay', 'again')), 'again');
    assert.equal(host.plugins().length, 2);
  });
});

describe('bindings: checked where the policy is normalised', () => {
  const refused = (bindings: unknown, message: RegExp) =>
    assert.throws(() => normalizePolicy({ bindings } as PolicyOptions), (e: Error) => e.name === 'PolicyError' && message.test(e.message));

  it('refuses every malformed shape with a message naming the field', () => {
    refused([], /^policy: bindings must map plugin names to their bound imports/);
    refused('run_bound', /^policy: bindings must map/);
    refused({ run_bound: 'count_vowels' }, /^policy: bindings\["run_bound"\] must map imports to "<plugin>\.<function>"/);
    refused({ run_bound: { count_vowels: 'count_vowels' } }, /^policy: bindings\["run_bound"\]\["count_vowels"\] must be "<plugin>\.<function>".*got "count_vowels"$/);
    refused({ run_bound: { count_vowels: 7 } }, /got 7$/);
    refused({ run_bound: { count_vowels: '.f' } }, /must be "<plugin>\.<function>"/);
    refused({ run_bound: { 'extism:host/user.': 'a.b' } }, /the import must be "<module>\.<import>"/);
    refused({ run_bound: { 'extism:host/env.alloc': 'a.b' } }, /extism:host\/env\.alloc is a function of the host itself and cannot be bound/);
    refused({ run_bound: { call_plugin: 'a.b' } }, /extism:host\/user\.call_plugin is a function of the host itself/);
    refused({ run_bound: { 'wasi_snapshot_preview1.fd_write': 'a.b' } }, /cannot be bound/);
    refused({ run_bound: { f: 'a.b', 'extism:host/user.f': 'a.c' } }, /extism:host\/user\.f is bound twice/);
  });

  it('reads a bare import as extism:host/user, splits the target at its first dot, keeps names as data', () => {
    const policy = normalizePolicy({ bindings: JSON.parse('{"__proto__": {"f": "a.b.c"}, "x": {"my.mod.g": "toString.valueOf"}}') });
    assert.deepEqual(policy.bindings['__proto__'], [{ key: 'extism:host/user.f', module: 'extism:host/user', name: 'f', plugin: 'a', func: 'b.c' }]);
    assert.deepEqual(policy.bindings.x, [{ key: 'my.mod.g', module: 'my.mod', name: 'g', plugin: 'toString', func: 'valueOf' }]);
    assert.equal(Object.getPrototypeOf(policy.bindings), null);
    assert.equal(Object.hasOwn(policy.bindings, 'constructor'), false);
  });
});

describe('cli: --bind and --bindings', () => {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root });
    return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  };

  it('runs the seed scenario through --bind, a bare import meaning extism:host/user', () => {
    const r = run(['call', 'run_bound', 'run', '--bind', 'count_vowels=count_vowels.count_vowels', '--trace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, COUNT);
    assert.match(r.stderr, /└─ #1 run_bound -> #2 count_vowels\.count_vowels \(bound extism:host\/user\.count_vowels\)/);
  });

  it('takes every plugin\'s bindings from --bindings FILE, --bind over it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-bind-'));
    const file = path.join(dir, 'bindings.json');
    fs.writeFileSync(file, JSON.stringify({ ...SEED, ...relayTo('echo.echo') }));
    let r = run(['call', 'run_bound', 'run', '--bindings', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, COUNT);
    r = run(['call', 'bound_relay', 'relay', 'hello', '--bindings', file, '--bind', 'target=count_vowels.count_vowels']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).count, 2);
  });

  it('says what is wrong with a flag, a file or a binding', () => {
    let r = run(['call', 'run_bound', 'run', '--bind', 'count_vowels']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bind takes IMPORT=PLUGIN\.FUNCTION, such as count_vowels=count_vowels\.count_vowels, got "count_vowels"/);
    r = run(['call', 'run_bound', 'run', '--bindings', os.tmpdir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bindings .*: is not a regular file/);
    r = run(['call', 'run_bound', 'run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /imports the function "extism:host\/user"\."count_vowels" \(i64\) -> i64, which no linked module, host function or binding supplies; .*--host-functions FILE.*--bind/);
    r = run(['call', 'run_bound', 'run', '--bind', 'count_vowels=echo.nope']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /binding extism:host\/user\.count_vowels -> echo\.nope: plugin #2 \(echo\) has no export "nope"/);
  });
});

describe('bindings: against the reference SDK', () => {
  afterEach(closeHosts);

  it('gives the bytes the SDK gives with the same import served by a host function', async () => {
    const { default: createPlugin } = await import('@extism/extism');
    type Context = { read(offs: bigint): { bytes(): Uint8Array } | null; store(data: Uint8Array): bigint };
    const sdk = await createPlugin(
      { wasm: [{ data: fs.readFileSync(path.join(root, 'plugins', 'bound_relay.wasm')) }] },
      { useWasi: false, functions: { 'extism:host/user': { target: (cx: Context, offs: bigint) => cx.store(cx.read(offs)?.bytes() ?? new Uint8Array(0)) } } },
    );
    const host = startHost({ bindings: relayTo('echo.echo') });
    const relay = await host.register('bound_relay');
    const k3 = (payload: string) => Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from(payload)]);
    try {
      for (const [func, input] of [['relay', Buffer.from('')], ['relay', Buffer.from('héllo\u0000bytes')], ['repeat', k3('x'.repeat(5000))], ['repeat', Buffer.from([0, 0, 0, 0])]] as const) {
        const expected = Buffer.from((await sdk.call(func, input))?.bytes() ?? new Uint8Array(0));
        assert.deepEqual(Buffer.from(await host.call(relay.id, func, input)), expected, `${func} of ${input.byteLength} bytes`);
      }
    } finally {
      await sdk.close();
    }
  });
});
