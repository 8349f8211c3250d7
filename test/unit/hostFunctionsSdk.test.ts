import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import createPlugin from '@extism/extism';
import { closeHosts, pluginsDir, startHost, wasm } from './helpers';
import { NUMBERS_FUNCTIONS, numbersModule, probeModule, TempDir } from './hostFunctionFixtures';

/**
 * The same plugin and the same host-function module on both engines: our runtime and
 * `@extism/extism` must give the same bytes call after call, and fail on the same calls.
 *
 * Each engine gets an instance of the module of its own, so the state a module keeps (kv.mjs's
 * store) starts empty on both: the SDK gets the file imported here with a query no one else uses
 * (`?sdk=N`), and our runtime imports the file itself, under a query naming its runtime.
 */
type Step = { func: string; input: string; hostContext?: unknown };
type Result = Buffer | 'error';

let sdkInstances = 0;

type Functions = NonNullable<Parameters<typeof createPlugin>[1]>['functions'];

async function sdkFunctions(file: string): Promise<Functions> {
  const namespace = (await import(`${pathToFileURL(file).href}?sdk=${++sdkInstances}`)) as { default: Functions };
  return namespace.default;
}

async function reference(plugin: string, functions: string, steps: Step[]): Promise<Result[]> {
  const sdk = await createPlugin({ wasm: [{ data: fs.readFileSync(plugin) }] }, { useWasi: false, runInWorker: false, functions: await sdkFunctions(functions) });
  const results: Result[] = [];
  try {
    for (const step of steps) {
      try {
        const out = await sdk.call(step.func, step.input, step.hostContext);
        results.push(Buffer.from(out ? out.bytes() : new Uint8Array(0)));
      } catch {
        results.push('error');
      }
    }
  } finally {
    await sdk.close();
  }
  return results;
}

async function ours(plugin: string, functions: string, steps: Step[]): Promise<Result[]> {
  const host = startHost({ hostFunctions: [functions] });
  await host.hostFunctions();
  const p = await host.register(plugin);
  const results: Result[] = [];
  for (const step of steps) {
    try {
      results.push(Buffer.from(await host.call(p.id, step.func, step.input, 'api', step.hostContext)));
    } catch {
      results.push('error');
    }
  }
  return results;
}

/**
 * probe's transform on the call context: read, store, length, alloc and the var functions. Storing
 * no bytes gives offset 0 here, as Extism's native kernel does (its alloc(0) is 0), where the SDK
 * makes an empty block: the module reads such a block with `?.`, so both give the same bytes.
 */
const MEMORY_FUNCTIONS = `
const encoder = new TextEncoder();
export default {
  'extism:host/user': {
    transform(ctx, offs) {
      const input = ctx.read(offs);
      const text = input === null ? '' : input.text();
      if (text === 'throw') throw new Error('thrown by the host function');
      if (text === 'seterror') {
        ctx.setError('set by the host function');
        return ctx.store('not the output');
      }
      if (text === 'context') return ctx.store(JSON.stringify(ctx.hostContext() ?? null));
      const prev = ctx.getVariable('seen');
      const seen = prev === null ? text : prev.text() + ',' + text;
      if (text === 'drop') ctx.deleteVariable('seen');
      else ctx.setVariable('seen', seen);
      ctx.setVariable('upper', encoder.encode(text.toUpperCase()));
      const upper = ctx.read(ctx.store(ctx.getVariable('upper').bytes()));
      const scratch = ctx.alloc(3 + text.length);
      const part = ctx.store(new Uint8Array([1, 2, 3, 4]).subarray(1));
      return ctx.store(JSON.stringify({
        text, length: String(ctx.length(offs)), seen, upper: upper?.text() ?? '', upperBytes: upper?.byteLength ?? 0,
        scratch: String(ctx.length(scratch)), part: [...ctx.read(part).bytes()], json: ctx.read(ctx.store('{"k":[1,"é"]}')).json(),
        types: [typeof part, typeof ctx.length(part)],
      }));
    },
  },
};
`;

describe('host functions the user supplies: the same bytes as @extism/extism', () => {
  let tmp: TempDir;
  before(() => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());
  afterEach(closeHosts);

  async function same(plugin: string, functions: string, steps: Step[]): Promise<void> {
    const expected = await reference(plugin, functions, steps);
    const actual = await ours(plugin, functions, steps);
    assert.deepEqual(actual.map(String), expected.map(String));
    assert.ok(expected.filter((r) => r !== 'error').length >= steps.length / 2, `the case mostly works: ${expected.map(String).join(' | ')}`);
  }

  it('kv_counter with plugins/host-functions/kv.mjs: count_vowels call after call, and arith', async () => {
    await same(wasm('kv_counter'), path.join(pluginsDir, 'host-functions', 'kv.mjs'), [
      { func: 'count_vowels', input: 'Hello, World!' },
      { func: 'count_vowels', input: 'aeiou' },
      { func: 'count_vowels', input: '' },
      { func: 'count_vowels', input: 'A very long sentence with many vowels in it' },
      { func: 'arith', input: '6 7' },
      { func: 'arith', input: '3037000499 3037000499' },
      { func: 'arith', input: '-5 3' },
      { func: 'count_vowels', input: 'xyz' },
    ]);
  });

  it('a WAT plugin whose host function reads, stores, allocates and keeps vars', async () => {
    const plugin = tmp.write('probe.wasm', await probeModule());
    const functions = tmp.write('memory.mjs', MEMORY_FUNCTIONS);
    await same(plugin, functions, [
      { func: 'run', input: 'a' },
      { func: 'run', input: 'héllo wörld' },
      { func: 'get_var', input: 'seen' },
      { func: 'get_var', input: 'upper' },
      { func: 'set_var', input: 'seen' },
      { func: 'run', input: 'after set_var' },
      { func: 'run', input: '' },
      { func: 'run', input: 'throw' },
      { func: 'run', input: 'seterror' },
      { func: 'run', input: 'drop' },
      { func: 'run', input: 'fresh' },
      { func: 'run', input: 'context', hostContext: { user: 'ann', n: [1, 2] } },
      { func: 'run', input: 'context' },
      { func: 'run', input: 'x'.repeat(3000) },
    ]);
  });

  it('a WAT plugin of numeric imports: i64 as bigint, i32 and f64 as numbers', async () => {
    const plugin = tmp.write('numbers.wasm', await numbersModule());
    const functions = tmp.write('numbers.mjs', `export default ${NUMBERS_FUNCTIONS};\n`);
    await same(plugin, functions, [
      { func: 'types', input: '' },
      { func: 'wide', input: '' },
      { func: 'half', input: '' },
    ]);
  });
});
