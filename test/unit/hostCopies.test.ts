import * as assert from 'node:assert/strict';
import { closeHosts, startHost } from './helpers';

/**
 * The host copies a nested call's input into the callee and its output into the caller, each once.
 * A copy whose destination would lie a few bytes past its source modulo 4 KiB (slow on x86-64) goes
 * to a block made a little further on instead (`extismMemory.ts`, `aliased`). Sizes stepped by 8
 * around the edges of that range place the blocks at every offset modulo 4 KiB that they can take,
 * so both moves (of an input and of an output) happen among them: every byte must arrive, and the
 * plugins must serve the next call.
 */
const payload = (n: number) => {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 13 + (i >> 8) + n) & 0xff;
  return bytes;
};

function nestInput(calleeId: number, k: number, func: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(calleeId, 0);
  head.writeUInt32LE(k, 4);
  head.writeUInt32LE(func.length, 8);
  return Buffer.concat([head, Buffer.from(func), data]);
}

const sizes = [
  ...Array.from({ length: 40 }, (_, i) => 2048 - 64 + i * 8),
  ...Array.from({ length: 520 }, (_, i) => 4096 + i * 8),
  512 * 1024 - 8, 512 * 1024, 512 * 1024 + 8,
];

describe('host copies of a nested call, wherever its blocks lie', function () {
  this.timeout(60_000);
  after(closeHosts);

  it('through call_plugin: the bytes come back whole at every size', async () => {
    const host = startHost({ maxMessageBytes: 4 * 1024 * 1024 });
    const nest = await host.register('nest');
    const echo = await host.register('echo');
    for (const n of sizes) {
      const data = payload(n);
      // twice each: the second call runs on the memory the first one grew and left
      for (let k = 1; k <= 2; k++) {
        const out = Buffer.from(await host.call(nest.id, 'nest', nestInput(echo.id, k, 'echo', data)));
        assert.ok(out.equals(data), `call_plugin, ${n} bytes, ${k} calls`);
      }
    }
  });

  it('through a binding: the bytes come back whole at every size', async () => {
    const host = startHost({ maxMessageBytes: 4 * 1024 * 1024, bindings: { bound_relay: { 'extism:host/user.target': 'echo.echo' } } });
    const relay = await host.register('bound_relay');
    for (const n of sizes) {
      const data = payload(n);
      const head = Buffer.alloc(4);
      head.writeUInt32LE(3, 0);
      const out = Buffer.from(await host.call(relay.id, 'repeat', Buffer.concat([head, data])));
      assert.ok(out.equals(data), `bound, ${n} bytes`);
    }
    assert.deepEqual(Buffer.from(await host.call(relay.id, 'relay', 'still serving')).toString(), 'still serving');
  });
});
