import * as assert from 'node:assert/strict';
import { decodeSpans, SpanEncoder } from '../../src/core/transport/spanCodec';
import type { Span } from '../../src/shared/traceRecords';
import { closeHosts, startHost, transports } from './helpers';

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

const names = (s: Span) => [s.callerName, s.calleeName, s.func, s.error, s.bound];

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
    ];
    for (const s of first) encoder.add(s);
    const a = decodeSpans(encoder.take());
    // the next batch's table starts afresh: a name the last batch had must be interned again
    const second = [span(7, 'nest', 'echo', 'echo'), span(8, 'echo', 'echo', 'nest', { bound: 'b' }), span(9, 'nest', 'echo', 'echo')];
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
