import * as assert from 'node:assert/strict';
import type { PluginInfo } from '../../src/core';
import { CallHistory, INPUT_HISTORY_BYTES, INPUTS_PER_FUNCTION, inputPreview, MAX_KEPT_INPUT_BYTES } from '../../src/vscode/callHistory';
import type { HistoryStore } from '../../src/vscode/callHistory';

/** The workspace state as VS Code keeps it: values through JSON. */
class JsonStore implements HistoryStore {
  readonly values = new Map<string, string>();
  get(key: string): unknown {
    const v = this.values.get(key);
    return v === undefined ? undefined : JSON.parse(v);
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.stringify(value));
  }
}

const plugin = (name: string, id = 1): PluginInfo => ({ id, name, source: `/p/${name}.wasm` }) as unknown as PluginInfo;
const bytes = (text: string) => new TextEncoder().encode(text);
const texts = (list: readonly Uint8Array[]) => list.map((b) => new TextDecoder().decode(b));

describe('the call history (Call Again, recent inputs)', () => {
  it('offers the inputs given to a function, most recent first, without repeats, across sessions', async () => {
    const store = new JsonStore();
    const h = new CallHistory(store);
    for (const t of ['a', 'b', 'a', 'c']) await h.recordCall(plugin('echo'), 'echo', bytes(t), true);
    await h.recordCall(plugin('echo'), 'other', bytes('x'), true);
    assert.deepEqual(texts(h.recentInputs('echo', 'echo')), ['c', 'a', 'b']);
    assert.deepEqual(texts(new CallHistory(store).recentInputs('echo', 'echo')), ['c', 'a', 'b']);
    assert.deepEqual(texts(h.recentInputs('echo', 'nope')), []);
  });

  it('keeps the last call whatever its input, and only given inputs in the history', async () => {
    let firsts = 0;
    const h = new CallHistory(new JsonStore(), () => firsts++);
    assert.equal(h.lastCall(), undefined);
    await h.recordCall(plugin('echo', 4), 'echo', bytes('typed'), true);
    await h.recordCall(plugin('echo', 4), 'echo', bytes('from code'), false);
    await h.recordCall(plugin('echo', 4), 'echo', new Uint8Array(0), true);
    assert.equal(firsts, 1);
    const last = h.lastCall();
    assert.deepEqual({ ...last, input: texts([last!.input]) }, { pluginId: 4, name: 'echo', source: '/p/echo.wasm', func: 'echo', input: [''] });
    assert.deepEqual(texts(h.recentInputs('echo', 'echo')), ['typed']);
  });

  it('is bounded: inputs per function, a size per input, and a total that drops the least recent functions first', async () => {
    const h = new CallHistory(new JsonStore());
    for (let i = 0; i < INPUTS_PER_FUNCTION + 5; i++) await h.recordCall(plugin('p'), 'f', bytes(`in ${i}`), true);
    const recent = texts(h.recentInputs('p', 'f'));
    assert.equal(recent.length, INPUTS_PER_FUNCTION);
    assert.equal(recent[0], `in ${INPUTS_PER_FUNCTION + 4}`);
    await h.recordCall(plugin('p'), 'big', new Uint8Array(MAX_KEPT_INPUT_BYTES + 1).fill(65), true);
    assert.equal(h.recentInputs('p', 'big').length, 0);
    const n = Math.ceil(INPUT_HISTORY_BYTES / MAX_KEPT_INPUT_BYTES) + 1;
    for (let i = 0; i < n; i++) await h.recordCall(plugin('p'), `g${i}`, new Uint8Array(MAX_KEPT_INPUT_BYTES).fill(66), true);
    assert.equal(h.recentInputs('p', 'f').length, 0, 'the least recently used function went first');
    assert.equal(h.recentInputs('p', `g${n - 1}`).length, 1);
    let total = 0;
    for (let i = 0; i < n; i++) total += h.recentInputs('p', `g${i}`).reduce((sum, b) => sum + b.byteLength, 0);
    assert.ok(total <= INPUT_HISTORY_BYTES, `${total} bytes kept`);
  });

  it('keys are plugin text, not object keys: __proto__ and a name with a dot stay apart', async () => {
    const h = new CallHistory(new JsonStore());
    await h.recordCall(plugin('__proto__'), 'constructor', bytes('1'), true);
    await h.recordCall(plugin('a.b'), 'c', bytes('2'), true);
    await h.recordCall(plugin('a'), 'b.c', bytes('3'), true);
    assert.deepEqual(texts(h.recentInputs('__proto__', 'constructor')), ['1']);
    assert.deepEqual(texts(h.recentInputs('a.b', 'c')), ['2']);
    assert.deepEqual(texts(h.recentInputs('a', 'b.c')), ['3']);
  });

  it('shows an input on one line, cut, or its size when it is not text', () => {
    assert.equal(inputPreview(bytes('{\n  "a": 1\n}')), '{ "a": 1 }');
    assert.equal([...inputPreview(bytes('x'.repeat(100)), 20)].length, 20);
    assert.equal(inputPreview(new Uint8Array([0xff, 0xfe])), '(2 bytes, not UTF-8 text)');
  });
});
