import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import createPlugin from '@extism/extism';
import { closeHosts, startHost, wasm } from './helpers';

/**
 * The same plugin, the same inputs: our runtime and the reference Extism SDK must give the same
 * bytes, call after call (vars included), and fail on the same calls.
 */
type Step = { func: string; input: Uint8Array | string };

async function reference(name: string, steps: Step[], config: Record<string, string> = {}): Promise<(string | Buffer)[]> {
  const plugin = await createPlugin({ wasm: [{ data: fs.readFileSync(wasm(name)) }], config }, { useWasi: false });
  const results: (string | Buffer)[] = [];
  try {
    for (const step of steps) {
      try {
        const out = await plugin.call(step.func, step.input);
        results.push(Buffer.from(out ? out.bytes() : new Uint8Array(0)));
      } catch {
        results.push('error');
      }
    }
  } finally {
    await plugin.close();
  }
  return results;
}

async function ours(name: string, steps: Step[], config: Record<string, string> = {}): Promise<(string | Buffer)[]> {
  const host = startHost();
  const plugin = await host.register(name, { config });
  const results: (string | Buffer)[] = [];
  for (const step of steps) {
    try {
      results.push(Buffer.from(await host.call(plugin.id, step.func, step.input)));
    } catch {
      results.push('error');
    }
  }
  return results;
}

const cases: { name: string; steps: Step[]; config?: Record<string, string> }[] = [
  {
    name: 'count_vowels',
    steps: [
      { func: 'count_vowels', input: 'Hello, World!' },
      { func: 'count_vowels', input: 'A very long sentence with many vowels in it' },
      { func: 'count_vowels', input: '' },
    ],
  },
  { name: 'count_vowels', config: { vowels: 'lo' }, steps: [{ func: 'count_vowels', input: 'Hello, World!' }] },
  {
    name: 'echo',
    steps: [
      { func: 'echo', input: new Uint8Array(randomBytes(70_001)) },
      { func: 'echo', input: '' },
      { func: 'length', input: 'ünïcödé' },
    ],
  },
  { name: 'chain_c', steps: [{ func: 'step', input: 'mixed Case 123' }] },
  {
    name: 'config_counter',
    config: { step: '3', label: 'k' },
    steps: [{ func: 'count', input: '' }, { func: 'count', input: '' }, { func: 'reset', input: '' }, { func: 'count', input: '' }, { func: 'big_var', input: '64' }],
  },
  { name: 'trap', steps: [{ func: 'ok', input: '' }, { func: 'fail', input: '' }, { func: 'trap', input: '' }, { func: 'ok', input: '' }] },
];

describe('differential: our runtime and @extism/extism give the same bytes', () => {
  afterEach(closeHosts);

  it('a manifest of two linked modules', async () => {
    const manifest = { wasm: [{ data: fs.readFileSync(wasm('math_lib')), name: 'math' }, { data: fs.readFileSync(wasm('linked_main')), name: 'main' }] };
    const sdk = await createPlugin(manifest, { useWasi: false });
    let expected: string;
    try {
      expected = (await sdk.call('compute', '6 7'))?.text() ?? '';
    } finally {
      await sdk.close();
    }
    const host = startHost({ pluginDirs: [] });
    const p = await host.register(wasm('linked_main'), { link: { math: wasm('math_lib') } });
    assert.equal(Buffer.from(await host.call(p.id, 'compute', '6 7')).toString(), expected);
    assert.equal(expected, '13 42');
  });

  for (const c of cases) {
    it(`${c.name}${c.config ? ' with config' : ''}: ${c.steps.map((s) => s.func).join(', ')}`, async () => {
      const expected = await reference(c.name, c.steps, c.config);
      const actual = await ours(c.name, c.steps, c.config);
      assert.deepEqual(actual, expected);
      assert.ok(expected.some((r) => r !== 'error' && r.length > 0), 'the case produces output');
    });
  }
});
