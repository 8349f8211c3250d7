import * as assert from 'node:assert/strict';
import { decodeSpans, SpanEncoder } from '../../src/core/transport/spanCodec';
import type { Span } from '../../src/shared/traceRecords';
import { closeHosts, startHost, transports } from './helpers';
import { prng } from './hostileInput';
import { PREVIEW_BYTES } from '../../src/shared/traceRecords';

/**
 * The span batch of the runtime side keeps, per field, the last string it interned: names that
 * alternate between fields, that repeat, and that come back after a batch was taken (its string
 * table starts afresh) must all decode to what was encoded.
 */
function span(id: number, callerName: string, calleeName: string, func: string, extra: Partial<Span> = {}): Span {
  return {
    kind: 'call', id, parentId: id > 1 ? id - 1 : null, caller: id > 1 ? 1 : 'api', callerName, calleeId: 2, calleeName, func,
    inputBytes: 3, outputBytes: 2, inputHead: Uint8Array.of(1, 2, 3), outputHead: Uint8Array.of(9, 8), depth: 0, start: 1000 + id,
    durationMs: 0.5, status: 'ok', ...extra,
  };
}

const names = (s: Span) => [s.callerName, s.calleeName, s.func, s.error, s.bound, s.host];

describe('span batches', () => {
  it('decode the names of each field, across fields, repeats and batches', () => {
    const encoder = new SpanEncoder();
    const first = [
      span(1, 'api', 'nest', 'nest'),
      span(2, 'nest', 'echo', 'echo'),
      span(3, 'nest', 'echo', 'echo'),
      span(4, 'echo', 'nest', 'echo', { status: 'error', error: 'nest: boom' }),
      span(5, 'nest', 'echo', 'nest', { bound: 'extism:host/user.target' }),
      span(6, 'nest', 'echo', 'echo', { status: 'error', error: 'extism:host/user.target', bound: 'extism:host/user.target' }),
      // the same import as a user host function's span, then as a binding's again
      span(7, 'nest', 'nest', 'target', { host: 'extism:host/user.target' }),
      span(8, 'nest', 'echo', 'echo', { bound: 'extism:host/user.target' }),
      span(9, 'nest', 'nest', 'kv_read', { host: 'extism:host/user.kv_read' }),
    ];
    for (const s of first) encoder.add(s);
    const a = decodeSpans(encoder.take());
    // the next batch's table starts afresh: a name the last batch had must be interned again
    const second = [span(10, 'nest', 'echo', 'echo'), span(11, 'echo', 'echo', 'nest', { bound: 'b' }), span(12, 'nest', 'echo', 'echo')];
    for (const s of second) encoder.add(s);
    const batch = encoder.take();
    const b = decodeSpans(batch);
    assert.deepEqual(a.map(names), first.map(names));
    assert.deepEqual(b.map(names), second.map(names));
    assert.deepEqual(batch.strings.sort(), ['b', 'echo', 'nest']);
    assert.deepEqual([...b[1].inputHead], [1, 2, 3]);
    assert.deepEqual([...b[1].outputHead], [9, 8]);
  });
});

describe('span batches: each span as what differs from the one before', () => {
  /** A span as decoding gives it back: heads cut at PREVIEW_BYTES, plain arrays to compare. */
  const expected = (s: Span) => ({ ...s, inputHead: [...s.inputHead.subarray(0, PREVIEW_BYTES)], outputHead: [...s.outputHead.subarray(0, PREVIEW_BYTES)] });
  const plain = (s: Span) => ({ ...s, inputHead: [...s.inputHead], outputHead: [...s.outputHead] });

  it('decode to the spans encoded, whatever changes from span to span and wherever a batch is taken', () => {
    const rand = prng(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
    const memory = new Uint8Array(8192).map((_, i) => (i * 7) & 0xff);
    const bytes = (n: number) => new Uint8Array(memory.buffer, pick([0, 0, 64, 100]), n);
    const encoder = new SpanEncoder();
    let id = 10;
    let batches = 0;
    let total = 0;
    for (let round = 0; round < 40; round++) {
      const spans: Span[] = [];
      const count = pick([1, 2, 5, 30, 200]);
      for (let i = 0; i < count; i++) {
        id = rand() < 0.7 ? id + 1 : pick([1, id + 5, id + 1000, 2 ** 40 + id]);
        const inputBytes = pick([0, 3, 16, 48, 49, 4096]);
        const outputBytes = pick([0, 16, 47, 48, 3000]);
        const error = rand() < 0.15 ? pick(['boom', 'timed out', '']) : undefined;
        const s: Span = {
          kind: 'call', id, parentId: pick([null, 1, id - 1, 2 ** 41]), caller: pick([1, 7, 'api', 'cli', 'command']),
          callerName: pick(['nest', 'echo', 'api']), calleeId: pick([2, 3, 2 ** 35]), calleeName: pick(['echo', 'nest']),
          func: pick(['echo', 'nest', 'count_vowels']), inputBytes, outputBytes,
          inputHead: bytes(Math.min(inputBytes, pick([inputBytes, 60]))), outputHead: rand() < 0.5 ? new Uint8Array(0) : bytes(Math.min(outputBytes, 60)),
          depth: pick([0, 1, 2, 31]), start: 1.7e12 + rand() * 1e6, durationMs: pick([0, 0.001, rand() * 100]),
          status: error === undefined ? 'ok' : 'error',
        };
        if (error !== undefined) s.error = error;
        const via = rand();
        if (via < 0.2) s.bound = pick(['extism:host/user.target', 'env.other']);
        else if (via < 0.35) s.host = pick(['extism:host/user.target', 'example:math.mult']);
        if (rand() < 0.6) {
          s.fuel = pick([0, 1, 135, 2 ** 40, 2 ** 53 - 1]);
          s.fuelTotal = s.fuel + pick([0, 0, 7, 2 ** 30]);
        }
        spans.push(s);
        encoder.add(s);
      }
      const batch = encoder.take();
      batches++;
      total += count;
      assert.equal(batch.count, count);
      assert.equal(batch.lastId, Math.max(...spans.map((s) => s.id)), `round ${round}: the highest id`);
      assert.deepEqual(decodeSpans(batch).map(plain), spans.map(expected), `round ${round}`);
    }
    assert.equal(batches, 40);
    assert.ok(total > 1000);
  });

  it('take three slots for a span of a burst that repeats all but its times', () => {
    const encoder = new SpanEncoder();
    const head = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    // the same call again and again spends the same fuel too
    for (let i = 0; i < 1000; i++) encoder.add(span(100 + i, 'nest', 'echo', 'echo', { inputHead: head.slice(), outputHead: head.slice(), inputBytes: 16, outputBytes: 16, parentId: 99, start: 5000 + i, fuel: 130, fuelTotal: 130 }));
    const batch = encoder.take();
    // the first span whole, then a mask, a start and a duration each; the heads once
    assert.ok(batch.numbers.length <= 19 + 999 * 3, `${batch.numbers.length} slots`);
    assert.equal(batch.heads.length, 32);
    const spans = decodeSpans(batch);
    assert.deepEqual(spans.map((s) => s.id), Array.from({ length: 1000 }, (_, i) => 100 + i));
    assert.deepEqual([...spans[999].outputHead], [...head]);
    assert.deepEqual([spans[999].fuel, spans[999].fuelTotal], [130, 130]);
  });
});

describe('call counters after nested calls', () => {
  after(closeHosts);

  for (const [name, transport] of [['in-process', transports.inProcess], ['child process', transports.childProcess]] as const) {
    it(`${name}: the host sees the callee's counter of every call, batch after batch`, async () => {
      const host = startHost({}, transport);
      const nest = await host.register('nest');
      const echo = await host.register('echo');
      const input = (k: number) => {
        const head = Buffer.alloc(12);
        head.writeUInt32LE(echo.id, 0);
        head.writeUInt32LE(k, 4);
        head.writeUInt32LE(4, 8);
        return Buffer.concat([head, Buffer.from('echo'), Buffer.from('hi')]);
      };
      await host.call(nest.id, 'nest', input(3));
      assert.equal(host.plugin(echo.id)?.calls, 3);
      await host.call(nest.id, 'nest', input(2));
      assert.equal(host.plugin(echo.id)?.calls, 5);
      await host.call(echo.id, 'echo', 'x');
      await host.call(nest.id, 'nest', input(1));
      assert.equal(host.plugin(echo.id)?.calls, 7);
      assert.equal(host.plugin(nest.id)?.calls, 3);
    });
  }
});
