import * as assert from 'node:assert/strict';
import { SPAN_DATA_BYTES, SPAN_DATA_CALLS } from '../../src/core';
import { SpanDataRing } from '../../src/core/model/spanData';
import { closeHosts, startHost, text, transports } from './helpers';

function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('span data: the input and output of recent calls, kept in the runtime', () => {
  afterEach(closeHosts);

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: a nested call's input and output are fetched by span id`, async () => {
      const host = startHost({}, transports[name]);
      const relay = await host.register('relay');
      assert.equal(text(await host.call(relay.id, 'relay', 'ping')), 'ping');
      const nested = host.trace.spans().find((s) => s.calleeName === 'echo');
      assert.ok(nested && nested.parentId !== null);
      const data = await host.spanData(nested.id);
      assert.ok(data);
      assert.equal(data.spanId, nested.id);
      assert.equal(text(data.input), 'ping');
      assert.equal(text(data.output), 'ping');
      assert.deepEqual([data.inputBytes, data.outputBytes], [4, 4]);
      const top = host.trace.spans().find((s) => s.calleeName === 'relay');
      assert.equal(text((await host.spanData(top!.id))!.output), 'ping');
      assert.equal(await host.spanData(9999), undefined);
    });
  }

  it('keeps at most 64 KiB of each input and output, counting the rest', async () => {
    const host = startHost();
    const echo = await host.register('echo');
    const input = bytes(SPAN_DATA_BYTES + 1000);
    await host.call(echo.id, 'echo', input);
    const span = host.trace.spans().at(-1)!;
    const data = (await host.spanData(span.id))!;
    assert.equal(data.input.length, SPAN_DATA_BYTES);
    assert.equal(data.inputBytes, SPAN_DATA_BYTES + 1000);
    assert.equal(data.outputBytes, SPAN_DATA_BYTES + 1000);
    assert.deepEqual(data.input, input.subarray(0, SPAN_DATA_BYTES));
    assert.deepEqual(data.output, input.subarray(0, SPAN_DATA_BYTES));
  });

  it(`keeps the last ${SPAN_DATA_CALLS} calls: older ones are pushed out`, async () => {
    const host = startHost();
    const echo = await host.register('echo');
    for (let i = 0; i < SPAN_DATA_CALLS + 10; i++) await host.call(echo.id, 'echo', `call ${i}`);
    const spans = host.trace.spans();
    assert.equal(await host.spanData(spans[0].id), undefined);
    assert.equal(await host.spanData(spans[9].id), undefined);
    assert.equal(text((await host.spanData(spans[10].id))!.input), 'call 10');
    assert.equal(text((await host.spanData(spans.at(-1)!.id))!.output), `call ${SPAN_DATA_CALLS + 9}`);
  });

  it('big calls push older ones out before the count does: the bytes kept are bounded', async () => {
    const host = startHost();
    const echo = await host.register('echo');
    // 128 KiB a call (64 KiB in, 64 KiB out): a 4 MiB arena holds 32 of them
    for (let i = 0; i < 40; i++) await host.call(echo.id, 'echo', bytes(SPAN_DATA_BYTES, i));
    const spans = host.trace.spans();
    assert.equal(await host.spanData(spans[0].id), undefined);
    const last = (await host.spanData(spans[39].id))!;
    assert.deepEqual(last.input, bytes(SPAN_DATA_BYTES, 39));
    const kept = (await Promise.all(spans.map((s) => host.spanData(s.id)))).filter((d) => d !== undefined);
    assert.ok(kept.length >= 30 && kept.length <= 32, `${kept.length} kept`);
    for (const d of kept) assert.deepEqual(d.output, bytes(SPAN_DATA_BYTES, spans.findIndex((s) => s.id === d.spanId)));
  });

  it('keeps nothing when tracing is off, and forgets when it is switched off', async () => {
    const host = startHost({ tracing: false });
    const echo = await host.register('echo');
    await host.call(echo.id, 'echo', 'quiet');
    assert.equal(host.trace.spans().length, 0);
    for (let id = 1; id <= 3; id++) assert.equal(await host.spanData(id), undefined);

    const traced = startHost();
    const e = await traced.register('echo');
    await traced.call(e.id, 'echo', 'loud');
    const span = traced.trace.spans()[0];
    assert.ok(await traced.spanData(span.id));
    await traced.configure({ pluginDirs: [], tracing: false });
    assert.equal(await traced.spanData(span.id), undefined);
  });

  it('a host with no runtime running answers without starting one', async () => {
    const host = startHost();
    assert.equal(await host.spanData(1), undefined);
  });

  it('the ring wraps its arena without tearing a call', () => {
    const ring = new SpanDataRing(8, 4, 20);
    ring.add(1, bytes(5, 1), bytes(5, 2)); // [0, 10)
    ring.add(2, bytes(6, 3), bytes(3, 4)); // [10, 19)
    ring.add(3, bytes(4, 5), bytes(4, 6)); // does not fit before 20: [20, 28) = [0, 8), overwrites 1
    assert.equal(ring.get(1), undefined);
    assert.deepEqual(ring.get(2)?.input, bytes(6, 3));
    assert.deepEqual(ring.get(3)?.output, bytes(4, 6));
    ring.add(4, bytes(20, 7), new Uint8Array(0)); // cut to 8 bytes: [28, 36), overwrites 2
    assert.equal(ring.get(2), undefined);
    assert.deepEqual(ring.get(4)?.input, bytes(8, 7));
    assert.equal(ring.get(4)?.inputBytes, 20);
    ring.clear();
    assert.equal(ring.get(4), undefined);
  });
});
