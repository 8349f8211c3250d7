import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import type { PluginInfo, PluginsChange } from '../../src/core';
import { defaultPolicy } from '../../src/core';
import { childProcess } from '../../src/core/transport/childProcess';
import { CarrierFactory, RuntimeClient } from '../../src/core/transport/client';
import type { RuntimeMessage } from '../../src/core/transport/protocol';
import { workerThread } from '../../src/core/transport/workerThread';
import { closeHosts, runtimeEntry, startHost, transports } from './helpers';
import { assemble, writeModule } from './wat';

const NAME_BYTES = 64 * 1024;
const EXPORTS = 64;
const CALLS = 50;

/** 64 distinct export names of 64 KiB each, all of one function that returns 0. */
function longNames(): string[] {
  return Array.from({ length: EXPORTS }, (_, i) => `e${String(i).padStart(2, '0')}_`.padEnd(NAME_BYTES, 'x'));
}

async function manyExports(names: string[]): Promise<string> {
  // every byte escaped as WAT spells it, so any UTF-8 name assembles
  const wat = (n: string) => [...Buffer.from(n, 'utf8')].map((b) => (b >= 0x30 && b < 0x7b && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(16).padStart(2, '0')}`)).join('');
  const exports = names.map((n) => `(export "${wat(n)}" (func $f))`).join('\n');
  return writeModule('many_exports', await assemble(`(module (memory (export "memory") 1) (func $f (result i32) (i32.const 0)) ${exports})`));
}

/** A carrier that counts the bytes of every message the runtime sends, as the child process's channel serializes them. */
function counting(factory: CarrierFactory, sizes: number[]): CarrierFactory {
  return (events) => factory({ message: (m: RuntimeMessage) => (sizes.push(v8.serialize(m).length), events.message(m)), exit: events.exit });
}

const settings = {
  policy: defaultPolicy,
  tracing: true,
  logLevel: 'info' as const,
  wasiHint: 'grant WASI',
  hostFunctionsHint: 'give host functions',
};

describe('plugin descriptions: sent once, bounded', function () {
  this.timeout(120_000);
  afterEach(closeHosts);

  const carriers: Record<string, () => CarrierFactory> = {
    childProcess: () => childProcess(runtimeEntry, 1024),
    worker: () => workerThread(runtimeEntry, 1024),
  };
  for (const [kind, carrier] of Object.entries(carriers)) {
    it(`${kind}: 50 calls of a plugin with 64 exports of 64 KiB names send under 2 KiB each, not the description`, async () => {
      const names = longNames();
      const file = await manyExports(names);
      const sizes: number[] = [];
      const client = new RuntimeClient(counting(carrier(), sizes), () => undefined, () => undefined);
      try {
        await client.request('start', { settings, lastPluginId: 0, lastSpanId: 0 });
        const info = await client.request('register', { target: file, options: {} });
        const registered = sizes.reduce((a, b) => a + b, 0);
        // the description crosses with the reply and the added event, each bounded: 64 names of 256 characters and a note
        assert.ok(registered < 100_000, `register sent ${registered} bytes`);
        assert.equal(info.exports.length, EXPORTS);
        sizes.length = 0;
        for (let i = 0; i < CALLS; i++) await client.request('call', { caller: 'api', id: info.id, func: names[i % EXPORTS], input: new Uint8Array(0) });
        const perCall = sizes.reduce((a, b) => a + b, 0) / CALLS;
        console.log(`      ${kind}: ${Math.round(perCall)} bytes cross per call (${sizes.length} messages), ${registered} at register`);
        assert.ok(perCall < 2048, `${perCall} bytes per call`);
      } finally {
        await client.kill('done');
      }
    });
  }

  for (const kind of ['childProcess', 'worker'] as const) {
    it(`${kind}: the face sees each name cut with a note, the right counts, and spans with the cut name`, async () => {
      const names = longNames();
      const file = await manyExports(names);
      const host = startHost({}, transports[kind]);
      const changes: PluginsChange[] = [];
      host.onDidChangePlugins((c) => changes.push(c));
      const info = await host.register(file);
      const cut = (n: string) => `${n.slice(0, 256)}… (${NAME_BYTES - 256} more characters)`;
      assert.deepEqual(info.exports, names.map(cut));
      assert.equal(info.unlisted.exports, 0);
      for (let i = 0; i < 5; i++) await host.call(info.id, names[i]);
      await assert.rejects(host.call(info.id, 'nope'));
      const seen = host.plugins()[0] as PluginInfo;
      assert.equal(seen.calls, 5);
      assert.deepEqual(seen.exports, names.map(cut));
      const last = changes.filter((c) => c.kind === 'changed').pop();
      assert.ok(last && last.kind === 'changed');
      assert.equal(last.plugin.calls, 5);
      assert.deepEqual(last.plugin.exports, seen.exports);
      const spans = host.trace.spans();
      assert.equal(spans.length, 5);
      assert.deepEqual(spans.map((s) => s.func), names.slice(0, 5).map(cut));
    });
  }

  it('a plugin with 1,100 exports lists 1,000 and says how many more; calls still reach the rest', async () => {
    const names = Array.from({ length: 1100 }, (_, i) => `f${i}`);
    const file = await manyExports(names);
    const host = startHost({}, transports.worker);
    const info = await host.register(file);
    assert.deepEqual(info.exports, names.slice(0, 1000));
    assert.equal(info.unlisted.exports, 100);
    assert.equal((await host.call(info.id, 'f1099')).length, 0);
    assert.equal(host.plugin(info.id)?.calls, 1);
    assert.equal(host.plugin(info.id)?.unlisted.exports, 100);
  });

  it('a name of astral characters is never cut inside a surrogate pair', async () => {
    const name = `a${'😀'.repeat(200)}`;
    const file = await manyExports([name]);
    const host = startHost();
    const info = await host.register(file);
    assert.equal(info.exports[0], `a${'😀'.repeat(127)}… (146 more characters)`);
  });
});
