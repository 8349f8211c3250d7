import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { HostOptions, PluginHost, RuntimeTransport, Span } from '../../src/core';
import { closeHosts, pluginsDir, rejects, startHost, text, transports } from './helpers';
import { NUMBERS_FUNCTIONS, numbersModule, PROBE_COMMANDS, probeModule, TempDir, transformModule } from './hostFunctionFixtures';

const KV = path.join(pluginsDir, 'host-functions', 'kv.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: TempDir;
let probe: string;
let numbers: string;
let commands: string;

/** The test plugins and the probe's command module, in a temporary directory of the suite's own. */
function fixtures(): void {
  before(async () => {
    tmp = new TempDir();
    probe = tmp.write('probe.wasm', await probeModule());
    numbers = tmp.write('numbers.wasm', await numbersModule());
    commands = tmp.write('commands.cjs', PROBE_COMMANDS);
  });
  after(() => tmp.remove());
}

/** A host whose host functions have loaded (a failure to load fails the test). */
async function hostWith(files: string[], options: HostOptions = {}, transport?: RuntimeTransport): Promise<PluginHost> {
  const host = startHost({ hostFunctions: files, ...options }, transport);
  await host.hostFunctions();
  return host;
}

/** Runs a probe command and parses the JSON its host function stored. */
async function command(host: PluginHost, id: number, input: string, hostContext?: unknown): Promise<unknown> {
  return JSON.parse(text(await host.call(id, 'run', input, 'api', hostContext)));
}

describe('host functions the user supplies: calls', () => {
  fixtures();
  afterEach(closeHosts);

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: serve two namespaces with numbers (i64 as bigint, i32 and f64 as numbers) and blocks`, async () => {
      const nums = tmp.write(`numbers-${name}.cjs`, `module.exports = ${NUMBERS_FUNCTIONS};\n`);
      const host = await hostWith([KV, nums], {}, transports[name]);
      const kv = await host.register('kv_counter');
      assert.equal(text(await host.call(kv.id, 'count_vowels', 'Hello, World!')), '{"count":3,"total":3}');
      assert.equal(text(await host.call(kv.id, 'count_vowels', 'aeiou')), '{"count":5,"total":8}', 'the store the module keeps carries over');
      assert.equal(text(await host.call(kv.id, 'arith', '6 7')), '42 42.0');
      const [product] = text(await host.call(kv.id, 'arith', '3037000499 3037000499')).split(' ');
      assert.equal(product, String(3037000499n * 3037000499n), 'an i64 past 2^53 keeps every digit');
      const n = await host.register(numbers);
      assert.deepEqual(JSON.parse(text(await host.call(n.id, 'types'))), ['bigint', '-9007199254740993', 'number', -7, 'number', 2.5]);
      assert.equal(Buffer.from(await host.call(n.id, 'wide')).readBigUInt64LE(), 0x7ffffffffffffff1n);
      assert.equal(Buffer.from(await host.call(n.id, 'half')).readDoubleLE(), 7);
      assert.deepEqual(kv.hostFunctions.map((h) => `${h.import} ${path.basename(h.file)}`).sort(), [
        'example:math.mult kv.mjs',
        'example:math.scale kv.mjs',
        'extism:host/user.kv_read kv.mjs',
        'extism:host/user.kv_write kv.mjs',
      ]);
    });
  }

  it('give every call context method the meaning of the SDK\'s', async () => {
    const host = await hostWith([commands]);
    const p = await host.register(probe);
    const read = (await command(host, p.id, 'read:héllo')) as Record<string, unknown>;
    assert.deepEqual(read, {
      text: 'read:héllo', string: 'read:héllo', bytes: [...Buffer.from('read:héllo')], byteLength: 11, firstByte: 114, number: 'read:héllo',
      json: { k: [1, 'é'] }, zero: null, zeroNumber: null, inside: null, far: null, negative: null,
    });
    assert.deepEqual(await command(host, p.id, 'store:ünï'), { types: ['bigint', 'bigint'], empty: ['0', '0'], text: 'ünï', lengths: ['5', '3', '2'], bytes: [0, 255, 7], sub: [8, 7] });
    assert.deepEqual(await command(host, p.id, 'alloc:5'), { type: 'bigint', length: '5', big: '10', zero: '0', distinct: true });
    assert.deepEqual(await command(host, p.id, 'length'), { self: '6', zero: '0', inside: '0', number: '6' });
  });

  it('share the plugin\'s vars both ways, within max_var_bytes', async () => {
    const host = await hostWith([commands], { maxVarBytes: 64 });
    const p = await host.register(probe);
    assert.deepEqual(await command(host, p.id, 'setvar:colour=blue'), { set: 'colour' });
    assert.equal(text(await host.call(p.id, 'get_var', 'colour')), 'blue', 'the plugin\'s var_get sees what the host function set');
    assert.deepEqual([...(await host.call(p.id, 'get_var', 'colour.bytes'))], [1, 2, 3]);
    await host.call(p.id, 'set_var', 'mine');
    assert.equal(await command(host, p.id, 'getvar:mine'), 'mine', 'getVariable sees what the plugin\'s var_set set');
    assert.equal(await command(host, p.id, 'getvar:nothing'), null);
    assert.equal(await command(host, p.id, 'delvar:colour'), null);
    assert.equal(text(await host.call(p.id, 'get_var', 'colour')), '');
    await rejects(
      command(host, p.id, 'bigvar:100'),
      'PluginError',
      /^plugin #1 \(probe\)\.run: host function extism:host\/user\.transform: setVariable: plugin #1 \(probe\) vars would take \d+ bytes, over the limit of 64 \(max_var_bytes\)$/,
    );
    assert.equal(await command(host, p.id, 'getvar:big'), null, 'a refused var is not set');
    assert.equal(await command(host, p.id, 'getvar:mine'), 'mine', 'and the others stay');
    assert.deepEqual(await command(host, p.id, 'bigvar:20'), 'set');
  });

  it('fail the call with the message of setError once the plugin returns, and the next call works', async () => {
    const host = await hostWith([commands]);
    const p = await host.register(probe);
    await rejects(host.call(p.id, 'run', 'seterror:the host says no'), 'PluginError', /^plugin #1 \(probe\)\.run failed: the host says no$/);
    await rejects(host.call(p.id, 'run', 'seterror:Error'), 'PluginError', /^plugin #1 \(probe\)\.run failed: an Error object$/);
    await rejects(host.call(p.id, 'run', 'seterror:'), 'PluginError', /^plugin #1 \(probe\)\.run: host function extism:host\/user\.transform: setError needs a message$/);
    assert.equal(await command(host, p.id, 'getvar:x'), null);
  });

  it('read and set the log level: the plugin\'s get_log_level and its logs follow it', async () => {
    const host = await hostWith([commands], { logLevel: 'info' });
    const logs: string[] = [];
    host.onLog((e) => logs.push(`${e.level} ${e.message}`));
    const p = await host.register(probe);
    const level = async () => Buffer.from(await host.call(p.id, 'log_level')).readBigUInt64LE();
    assert.equal(await command(host, p.id, 'loglevel'), 'info');
    assert.equal(await level(), 2n);
    await host.call(p.id, 'log', 'one');
    assert.deepEqual(await command(host, p.id, 'setlevel:warn'), ['info', 'warn']);
    assert.equal(await level(), 3n);
    await host.call(p.id, 'log', 'two');
    assert.deepEqual(await command(host, p.id, 'setlevel:silent'), ['warn', 'silent']);
    assert.equal(await level(), 0x7fffffffn);
    await host.call(p.id, 'log', 'three');
    assert.deepEqual(logs, ['info one', 'warn one', 'warn two']);
    await rejects(host.call(p.id, 'run', 'setlevel:loud'), 'PluginError', /transform: logLevel "loud" is not one of trace, debug, info, warn, error, silent$/);
    const quiet = await hostWith([commands], { logLevel: 'off' });
    const q = await quiet.register(probe);
    assert.equal(await command(quiet, q.id, 'loglevel'), 'silent');
  });

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: hand host functions the host context of the call, null without one`, async () => {
      const host = await hostWith([commands], {}, transports[name]);
      const p = await host.register(probe);
      assert.deepEqual(await command(host, p.id, 'context', { user: 'ann', roles: ['a', 'b'], n: 3 }), { user: 'ann', roles: ['a', 'b'], n: 3 });
      assert.equal(await command(host, p.id, 'context'), null);
      assert.equal(await command(host, p.id, 'context', 'just text'), 'just text');
      assert.equal(await command(host, p.id, 'context'), null, 'a context does not outlive its call');
    });
  }
});

describe('host functions the user supplies: failures', () => {
  fixtures();
  afterEach(closeHosts);

  it('a host function that throws fails the call naming the plugin, the function and the message; the next call works', async () => {
    const host = await hostWith([commands]);
    await host.register('echo');
    const p = await host.register(probe);
    await rejects(host.call(p.id, 'run', 'throw:the disk is full'), 'PluginError', /^plugin #2 \(probe\)\.run: host function extism:host\/user\.transform failed: the disk is full$/);
    await rejects(host.call(p.id, 'run', 'throw:string'), 'PluginError', /^plugin #2 \(probe\)\.run: host function extism:host\/user\.transform failed: a thrown string$/);
    await rejects(host.call(p.id, 'run', 'throw:noproto'), 'PluginError', /transform failed: a value with no text of its own \(\[object Object\]\)$/);
    await rejects(host.call(p.id, 'run', 'frobnicate'), 'PluginError', /transform failed: no command "frobnicate"$/);
    assert.deepEqual(await command(host, p.id, 'length'), { self: '6', zero: '0', inside: '0', number: '6' });
    assert.equal(host.plugins().find((x) => x.id === p.id)?.errors, 4);
  });

  it('an async host function is refused with why, and its rejection goes unhandled nowhere', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rejecting = tmp.write('async.cjs', transformModule('cjs', `(async () => { throw new Error('late failure'); })()`));
      const asyncFunction = tmp.write('async.mjs', `export default { 'extism:host/user': { async transform(ctx) { return ctx.store('too late'); } } };\n`);
      const host = await hostWith([rejecting]);
      const p = await host.register(probe);
      const other = await hostWith([asyncFunction]);
      const q = await other.register(probe);
      await rejects(other.call(q.id, 'run', 'x'), 'PluginError', /^plugin #1 \(probe\)\.run: host function extism:host\/user\.transform returned a Promise: host functions here are synchronous/);
      for (let i = 0; i < 2; i++) {
        await rejects(
          host.call(p.id, 'run', 'x'),
          'PluginError',
          /^plugin #1 \(probe\)\.run: host function extism:host\/user\.transform returned a Promise: host functions here are synchronous \(an async function cannot be awaited inside a plugin's call\)$/,
        );
      }
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a result of the wrong kind is a clear error: a number for an i64, a bigint for an f64, nothing for an i64', async () => {
    const wrong = tmp.write('wrong.cjs', `module.exports = { 'example:num': {
      types: (ctx) => 5, wide: (ctx) => undefined, half: (ctx) => 1n } };\n`);
    const host = await hostWith([wrong]);
    const n = await host.register(numbers);
    await rejects(host.call(n.id, 'types'), 'PluginError', /^plugin #1 \(numbers\)\.types: host function example:num\.types returned the number 5 for an i64 result: return a bigint \(as with @extism\/extism\), such as 5n$/);
    await rejects(host.call(n.id, 'wide'), 'PluginError', /^plugin #1 \(numbers\)\.wide: host function example:num\.wide returned undefined for an i64 result: return a bigint/);
    await rejects(host.call(n.id, 'half'), 'PluginError', /^plugin #1 \(numbers\)\.half: host function example:num\.half returned the bigint 1n for an f64 result: return a number$/);
  });

  for (const name of ['worker', 'childProcess'] as const) {
    it(`${name}: a host context that cannot be sent to the runtime fails the call, and holds nothing open`, async () => {
      const host = await hostWith([commands], {}, transports[name]);
      const p = await host.register(probe);
      const call = host.call(p.id, 'run', 'context', 'api', { callback: () => 1 });
      await rejects(call, 'HostError', /^call: its parameters cannot be sent to the plugin runtime \(.*could not be cloned\); send structured-cloneable data$/);
      assert.deepEqual(await command(host, p.id, 'context', { plain: true }), { plain: true });
    });
  }

  it('an endless loop in a host function is stopped by the call timeout, and the plugin works after', async () => {
    const host = await hostWith([commands], { callTimeoutMs: 300 });
    const p = await host.register(probe);
    const t0 = Date.now();
    await rejects(host.call(p.id, 'run', 'spin'), 'TimeoutError', /^call to plugin #1 \(probe\)\.run timed out after 300 ms \(callTimeoutMs\)/);
    assert.ok(Date.now() - t0 < 3000, `stopped after ${Date.now() - t0} ms`);
    const spun = host.trace.spans().find((s) => s.host === 'extism:host/user.transform') as Span;
    assert.equal(spun.status, 'error', 'the host function\'s span ends with the call');
    assert.match(spun.error ?? '', /timed out after 300 ms/);
    assert.deepEqual(await command(host, p.id, 'length'), { self: '6', zero: '0', inside: '0', number: '6' });
    assert.equal(host.trace.runningSpans().length, 0);
  });

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: each host function call is a span under its plugin's, a failed one with its message`, async () => {
      const failing = tmp.write(`kv-failing-${name}.mjs`, `import kv from ${JSON.stringify(KV)};
        export default { ...kv, 'extism:host/user': { ...kv['extism:host/user'], kv_write(ctx, key, value) { ctx.read(key); ctx.read(value); throw new Error('the store is offline'); } } };\n`);
      const host = await hostWith([failing], {}, transports[name]);
      const kv = await host.register('kv_counter');
      await rejects(host.call(kv.id, 'count_vowels', 'Hello, World!'), 'PluginError', /host function extism:host\/user\.kv_write failed: the store is offline$/);
      const spans = host.trace.spans().sort((a, b) => a.id - b.id);
      assert.deepEqual(spans.map((s) => `${s.host ?? `${s.calleeName}.${s.func}`} ${s.status}`), [
        'kv_counter.count_vowels error',
        'extism:host/user.kv_read ok',
        'extism:host/user.kv_write error',
      ]);
      const [call, read, write] = spans;
      assert.equal(read.parentId, call.id);
      assert.equal(write.parentId, call.id);
      assert.equal(read.caller, kv.id);
      assert.equal(read.func, 'kv_read');
      assert.equal(read.inputBytes, 5, 'what it read: the key "count"');
      assert.equal(Buffer.from(read.inputHead).toString(), 'count');
      assert.equal(write.inputBytes, 5 + 1, 'the key and the value "3"');
      assert.match(write.error ?? '', /^plugin #1 \(kv_counter\)\.count_vowels: host function extism:host\/user\.kv_write failed: the store is offline$/);
    });
  }
});
