import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Span } from '../../src/shared/traceRecords';
import { formatTraceTree, toChromeTrace } from '../../src/core';
import { cli, closeHosts, pluginsDir, rejects, root, startHost, transports } from './helpers';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

// Counted by hand, with wasmtime's default cost (1 an operator; nop, drop, block, loop, end, else,
// unreachable and return free) on the operators Binaryen emits for these modules.

/** spin: counts up to its input's length. call input_length 1, local.set 1, 9 an iteration, 4 for the exit test, i32.const 1. */
const SPIN = `(module ${ENV_IMPORTS}
  (memory (export "memory") 1)
  (func (export "spin") (result i32) (local $n i64) (local $i i64)
    (local.set $n (call $input_length))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (i32.const 0)))`;
const spinCost = (n: number) => 9 * n + 7;

/**
 * outer: calls plugin #1's `spin` twice through call_plugin with a 3-byte input. Its own work:
 * alloc 2, local.set and the first store 6, three more stores 15, alloc 2, local.set and the first
 * call_plugin 5, the second 4, i32.const 1: 35.
 */
const OUTER = `(module ${ENV_IMPORTS}
  (import "extism:host/user" "call_plugin" (func $call_plugin (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "twice") (result i32) (local $name i64) (local $in i64)
    (local.set $name (call $alloc (i64.const 4)))
    ${[115, 112, 105, 110].map((c, i) => `(call $store_u8 (i64.add (local.get $name) (i64.const ${i})) (i32.const ${c}))`).join(' ')}
    (local.set $in (call $alloc (i64.const 3)))
    (drop (call $call_plugin (i64.const 1) (local.get $name) (local.get $in)))
    (drop (call $call_plugin (i64.const 1) (local.get $name) (local.get $in)))
    (i32.const 0)))`;
const OUTER_OWN = 35;
const TREE = OUTER_OWN + 2 * spinCost(3);

/** main: i32.const, call (2), the linked module's sq (3), i32.const (1): 6, its linked module's work included. */
const LINKED_MAIN = `(module
  (import "math" "sq" (func $sq (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (result i32) (drop (call $sq (i32.const 5))) (i32.const 0)))`;
const MATH = `(module (func (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))`;

let spin: string;
let outer: string;
let linkedMain: string;
let math: string;

before(async () => {
  spin = writeModule('spin', await assemble(SPIN));
  outer = writeModule('outer', await assemble(OUTER));
  linkedMain = writeModule('linked', await assemble(LINKED_MAIN));
  math = writeModule('math', await assemble(MATH));
});

const calls = (host: ReturnType<typeof startHost>) => host.trace.spans().filter((s) => s.kind === 'call');

describe('fuel: counts on hand-counted plugins', () => {
  afterEach(closeHosts);

  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: a loop, a nested plugin through call_plugin, each span its own and its total; the same every run`, async () => {
      const host = startHost({ countFuel: true }, transport);
      const s = await host.register(spin);
      const o = await host.register(outer);
      for (const n of [0, 5, 100]) {
        await host.call(s.id, 'spin', 'x'.repeat(n));
        const last = calls(host).at(-1) as Span;
        assert.deepEqual([last.fuel, last.fuelTotal], [spinCost(n), spinCost(n)], `spin of ${n}`);
      }
      for (let run = 0; run < 3; run++) {
        await host.call(o.id, 'twice');
        const spans = calls(host).slice(-3);
        const top = spans.find((x) => x.calleeName === 'outer') as Span;
        const nested = spans.filter((x) => x.calleeName === 'spin');
        assert.deepEqual([top.fuel, top.fuelTotal], [OUTER_OWN, TREE], `run ${run}`);
        assert.deepEqual(nested.map((x) => [x.fuel, x.fuelTotal, x.parentId]), [[spinCost(3), spinCost(3), top.id], [spinCost(3), spinCost(3), top.id]]);
      }
    });
  }

  it('a budget of exactly the count passes, one unit less fails in the plugin that was running, and every plugin keeps working', async () => {
    const host = startHost({ fuel: TREE });
    const s = await host.register(spin);
    const o = await host.register(outer);
    await host.call(o.id, 'twice');
    assert.equal((calls(host).at(-1) as Span).fuelTotal, TREE);
    await host.configure({ fuel: TREE - 1 });
    // the last unit is outer's own i32.const after the second call
    await rejects(host.call(o.id, 'twice'), 'PluginError', new RegExp(`^plugin #2 \\(outer\\)\\.twice ran out of fuel \\(${TREE - 1} units\\)$`));
    assert.equal(text(await host.call(s.id, 'spin', 'abc')), '', 'spin alone fits');
    await host.configure({ fuel: TREE });
    await host.call(o.id, 'twice');
    assert.equal((calls(host).at(-1) as Span).status, 'ok');
  });

  it('ran out of fuel inside a nested call names the nested plugin; its span and its caller\'s fail with it', async () => {
    // outer spends 30 before the first call and 4 between them; the second spin has 80 - 68 = 12 left
    const host = startHost({ fuel: 80 });
    await host.register(spin);
    const o = await host.register(outer);
    const error = await rejects(host.call(o.id, 'twice'), 'PluginError', /^plugin #1 \(spin\)\.spin ran out of fuel \(80 units\)$/);
    const spans = calls(host);
    const failed = spans.filter((x) => x.status === 'error');
    assert.deepEqual(failed.map((x) => x.calleeName).sort(), ['outer', 'spin']);
    assert.ok(failed.every((x) => x.error === error.message));
    const top = failed.find((x) => x.calleeName === 'outer') as Span;
    // the second spin: 1 + 1, then its loop's runs of 4 (the test) and 5 (the step): 68 + 2 + 4 + 5 = 79, then 83
    assert.equal(top.fuelTotal, 83, 'the run that went past the limit is counted');
    assert.equal(text(await host.call(o.id, 'twice').catch((e: Error) => new TextEncoder().encode(e.message))), error.message, 'the same every time');
  });

  it('charges a linked module\'s work to its plugin', async () => {
    const host = startHost({ countFuel: true });
    const p = await host.register(linkedMain, { link: { math } });
    await host.call(p.id, 'run');
    assert.deepEqual([(calls(host).at(-1) as Span).fuel], [6]);
  });

  it('counts nothing when fuel is off, and a plugin loaded then is not metered', async () => {
    const host = startHost();
    const s = await host.register(spin);
    await host.call(s.id, 'spin', 'abc');
    assert.equal((calls(host).at(-1) as Span).fuel, undefined);
  });

  it('shows in the text tree and the Chrome export', async () => {
    const host = startHost({ countFuel: true });
    await host.register(spin);
    const o = await host.register(outer);
    await host.call(o.id, 'twice', '', 'cli');
    const tree = formatTraceTree(calls(host));
    assert.match(tree, new RegExp(`cli -> #2 outer\\.twice .*, fuel ${OUTER_OWN} \\(total ${TREE}\\), ok`));
    assert.match(tree, new RegExp(`#2 outer -> #1 spin\\.spin .*, fuel ${spinCost(3)}, ok`));
    const events = toChromeTrace(calls(host)).traceEvents as { name?: string; args?: { fuel?: number; fuelTotal?: number } }[];
    const top = events.find((e) => e.name === 'outer.twice');
    assert.deepEqual([top?.args?.fuel, top?.args?.fuelTotal], [OUTER_OWN, TREE]);
  });
});

describe('fuel: a real PDK plugin', () => {
  afterEach(closeHosts);

  it('count_vowels (AssemblyScript) spends the same run after run, on every transport', async () => {
    const runs: number[][] = [];
    for (const transport of Object.values(transports)) {
      const host = startHost({ countFuel: true }, transport);
      const cv = await host.register('count_vowels');
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        await host.call(cv.id, 'count_vowels', 'Hello, World! The quick brown fox.');
        counts.push((calls(host).at(-1) as Span).fuel as number);
      }
      runs.push(counts);
      await host.dispose();
    }
    // the first call of an instance does more (its runtime's first allocations); then every call the same
    const [first, ...rest] = runs[0];
    assert.ok(rest[0] > 1000 && first > rest[0], `${runs[0].join(', ')} units`);
    assert.deepEqual(rest, rest.map(() => rest[0]));
    assert.deepEqual(runs, runs.map(() => runs[0]), 'the same on every transport');
  });

  it('the nested sample (run -> count_vowels) stops at its limit, and both work again after', async () => {
    const host = startHost({ fuel: 1000 });
    const run = await host.register('run');
    await rejects(host.call(run.id, 'run'), 'PluginError', /^plugin #\d \((run|count_vowels)\)\.[a-z_]+ ran out of fuel \(1000 units\)$/);
    await host.configure({ pluginDirs: [pluginsDir], fuel: 10_000_000 });
    assert.match(text(await host.call(run.id, 'run')), /"count":3/);
    const top = calls(host).at(-1) as Span;
    assert.equal(top.calleeName, 'run');
    assert.ok((top.fuelTotal as number) > (top.fuel as number), 'the nested call\'s fuel is in the total, not in run\'s own');
  });
});

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

describe('fuel: the CLI and call files', () => {
  const cliRun = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root });
    return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  };

  it('extism-ipc call --fuel: exactly the count passes, one less fails naming the plugin; --count-fuel shows it in --trace', () => {
    const ok = cliRun(['call', spin, 'spin', 'abc', '--fuel', String(spinCost(3)), '--trace']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`cli -> #1 spin\\.spin .*, fuel ${spinCost(3)}, ok`));
    const out = cliRun(['call', spin, 'spin', 'abc', '--fuel', String(spinCost(3) - 1)]);
    assert.equal(out.code, 1);
    assert.ok(out.stderr.startsWith(`extism-ipc: PluginError: plugin #1 (spin).spin ran out of fuel (${spinCost(3) - 1} units) at `), out.stderr);
    const counted = cliRun(['call', spin, 'spin', 'abcde', '--count-fuel', '--trace']);
    assert.match(counted.stderr, new RegExp(`, fuel ${spinCost(5)}, ok`));
    assert.equal(cliRun(['call', spin, 'spin', '--fuel', 'lots']).code, 2);
  });

  it('expect.maxFuel, and a --fuel-baseline round trip with --fuel-tolerance', () => {
    const dir = fs.mkdtempSync(path.join(path.dirname(spin), 'calls-'));
    fs.copyFileSync(spin, path.join(dir, 'spin.wasm'));
    const calls = [
      { name: 'spin 3 within', plugin: './spin.wasm', function: 'spin', input: 'abc', expect: { output: '', maxFuel: spinCost(3) } },
      { name: 'spin 4', plugin: './spin.wasm', function: 'spin', input: 'abcd', expect: { maxFuel: 1000 } },
    ];
    const file = path.join(dir, 'spin.extism-calls.json');
    fs.writeFileSync(file, JSON.stringify({ calls }));
    assert.equal(cliRun(['test', file]).code, 0);
    fs.writeFileSync(file, JSON.stringify({ calls: [{ ...calls[0], expect: { output: '', maxFuel: spinCost(3) - 1 } }] }));
    const over = cliRun(['test', file]);
    assert.equal(over.code, 1);
    assert.match(over.stdout, new RegExp(`✗ spin 3 within: it spent ${spinCost(3)} fuel, over its expect\\.maxFuel of ${spinCost(3) - 1}`));

    fs.writeFileSync(file, JSON.stringify({ calls }));
    const baseline = path.join(dir, 'fuel.json');
    const first = cliRun(['test', '--fuel-baseline', baseline, file]);
    assert.equal(first.code, 0, first.stdout);
    assert.match(first.stdout, /fuel baseline: 2 call\(s\) recorded in /);
    const recorded = JSON.parse(fs.readFileSync(baseline, 'utf8')) as { calls: Record<string, number> };
    assert.deepEqual(recorded.calls, { 'spin.extism-calls.json spin 3 within': spinCost(3), 'spin.extism-calls.json spin 4': spinCost(4) });
    const again = cliRun(['test', '--fuel-baseline', baseline, file]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, new RegExp(`✓ spin 4 \\(\\d+ ms\\): fuel ${spinCost(4)}, was ${spinCost(4)}, \\+0\\.00%`));
    // a baseline from before the plugin got slower: 10% growth fails at 0%, passes at 10%
    fs.writeFileSync(baseline, JSON.stringify({ calls: { ...recorded.calls, 'spin.extism-calls.json spin 4': 39 } }));
    const grew = cliRun(['test', '--fuel-baseline', baseline, file]);
    assert.equal(grew.code, 1);
    assert.match(grew.stdout, /✗ spin 4: its fuel grew from 39 to 43 \(\+10\.26%\), over the tolerance of 0%/);
    assert.equal(cliRun(['test', '--fuel-baseline', baseline, '--fuel-tolerance', '10.5', file]).code, 0);
    assert.equal(cliRun(['test', '--fuel-tolerance', '5', file]).code, 2);
    fs.writeFileSync(baseline, '{"calls": {"x": "many"}}');
    assert.match(cliRun(['test', '--fuel-baseline', baseline, file]).stderr, /"x" must be a whole number of fuel units/);
  });
});
