import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import createPlugin from '@extism/extism';
import { closeHosts, rejects, startHost, text } from './helpers';
import { assemble, writeModule } from './wat';

/** `even` and `odd` call each other: each imports the other's function. */
const EVEN = `(module
  (import "odd" "is_odd" (func $is_odd (param i32) (result i32)))
  (func (export "is_even") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1)) (else (call $is_odd (i32.sub (local.get $n) (i32.const 1)))))))`;
const ODD = `(module
  (import "even" "is_even" (func $is_even (param i32) (result i32)))
  (func (export "is_odd") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0)) (else (call $is_even (i32.sub (local.get $n) (i32.const 1)))))))`;

/** The plugin: outputs "1" when its input's length is even, else "0", asking `even`. */
const MAIN = `(module
  (import "even" "is_even" (func $is_even (param i32) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "parity") (result i32)
    (local $blk i64)
    (local.set $blk (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $blk) (i32.add (i32.const 48) (call $is_even (i32.wrap_i64 (call $input_length)))))
    (call $output_set (local.get $blk) (i64.const 1))
    (i32.const 0)))`;

/** A cycle closed by a memory: `even` (this one) imports `mem_b`'s function, `mem_b` imports its memory. */
const MEM_A = `(module
  (import "mem_b" "f" (func $f (result i32)))
  (memory (export "memory") 1)
  (func (export "is_even") (param i32) (result i32) (call $f)))`;
const MEM_B = `(module
  (import "even" "memory" (memory 1))
  (func (export "f") (result i32) (i32.load (i32.const 0))))`;

/** A cycle whose start function calls around it before the other side exists: `even` (this one) and `early_b`. */
const EARLY_A = `(module
  (import "early_b" "f" (func $f (result i32)))
  (func (export "is_even") (param i32) (result i32) (call $f))
  (func (export "g") (result i32) (i32.const 7)))`;
const EARLY_B = `(module
  (import "even" "g" (func $g (result i32)))
  (global $seen (mut i32) (i32.const 0))
  (func $start (global.set $seen (call $g)))
  (start $start)
  (func (export "f") (result i32) (global.get $seen)))`;

describe('linked modules that import each other (circular imports)', () => {
  afterEach(closeHosts);
  const files: Record<string, string> = {};
  before(async () => {
    const sources = { even: EVEN, odd: ODD, cyc_main: MAIN, mem_a: MEM_A, mem_b: MEM_B, early_a: EARLY_A, early_b: EARLY_B };
    for (const [name, wat] of Object.entries(sources)) files[name] = writeModule(name, await assemble(wat));
  });
  after(() => {
    for (const file of Object.values(files)) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  const link = (...names: string[]) => Object.fromEntries(names.map((n) => [n, files[n]]));

  it('links them, each call going round the cycle, call after call', async () => {
    const host = startHost({ pluginDirs: [] });
    const p = await host.register(files.cyc_main, { link: link('even', 'odd') });
    const inputs = ['', 'a', 'ab', 'abc', 'x'.repeat(1000), 'x'.repeat(1001)];
    const outputs = [];
    for (const input of inputs) outputs.push(text(await host.call(p.id, 'parity', input)));
    assert.deepEqual(outputs, ['1', '0', '1', '0', '1', '0']);
  });

  it('gives the same bytes as @extism/extism for a manifest of the three', async () => {
    const manifest = {
      wasm: [
        { data: fs.readFileSync(files.even), name: 'even' },
        { data: fs.readFileSync(files.odd), name: 'odd' },
        { data: fs.readFileSync(files.cyc_main), name: 'main' },
      ],
    };
    const inputs = ['', 'abc', 'x'.repeat(100)];
    const sdk = await createPlugin(manifest, { useWasi: false });
    const expected: string[] = [];
    try {
      for (const input of inputs) expected.push((await sdk.call('parity', input))?.text() ?? '');
    } finally {
      await sdk.close();
    }
    const host = startHost({ pluginDirs: [] });
    const p = await host.register(files.cyc_main, { link: link('even', 'odd') });
    const actual: string[] = [];
    for (const input of inputs) actual.push(text(await host.call(p.id, 'parity', input)));
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected, ['1', '0', '1']);
  });

  it('refuses a cycle closed by something other than a function, saying so', async () => {
    const host = startHost({ pluginDirs: [] });
    await rejects(
      host.register(files.cyc_main, { link: { even: files.mem_a, mem_b: files.mem_b } }),
      'PluginError',
      /^plugin #1 \(cyc_main\): modules "mem_b" and "even" import each other, and "even"\."memory" is a memory: only functions can be imported around a cycle$/,
    );
    assert.equal(host.plugins().length, 0);
  });

  it('fails a call around the cycle made before the other side exists, naming both; the host goes on', async () => {
    const host = startHost({ pluginDirs: [] });
    await rejects(
      host.register(files.cyc_main, { link: { even: files.early_a, early_b: files.early_b } }),
      'PluginError',
      /linked module "early_b" called "even"\."g" before "even" was instantiated \(they import each other\)/,
    );
    const p = await host.register(files.cyc_main, { link: link('even', 'odd') });
    assert.equal(text(await host.call(p.id, 'parity', 'ab')), '1');
  });
});
