import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IpcError, kernelPath, kernelPlan } from '../../src/core';
import kernelWasm from '../../src/core/engine/kernel.wasm';
import { KERNEL_EXPORT, KERNEL_MODULE, mergeKernel } from '../../src/core/engine/kernelMerge';
import { ModuleCache } from '../../src/core/engine/moduleCache';
import { ModuleReader } from '../../src/core/engine/moduleReader';
import { customSection } from '../../src/core/engine/moduleSymbols';
import { WasmWriter } from '../../src/core/engine/wasmWriter';
import { cPlugin } from './cPlugins';
import { closeHosts, startHost, text } from './helpers';
import { writeModule } from './wat';

type Binaryen = {
  parseText(wat: string): BinaryenModule;
  readBinary(bytes: Uint8Array): BinaryenModule;
  setDebugInfo(on: boolean): void;
  Features: { All: number };
};
type BinaryenModule = { setFeatures(f: number): void; validate(): number; emitBinary(): Uint8Array; emitText(): string; dispose(): void };

let binaryen: Binaryen;

/** Assembles WAT with every feature on (reference types for the funcref global and elements); with a name section when asked. */
function assembleAll(wat: string, names = false): Uint8Array {
  const mod = binaryen.parseText(wat);
  try {
    mod.setFeatures(binaryen.Features.All);
    assert.ok(mod.validate(), 'test module validates');
    binaryen.setDebugInfo(names);
    return mod.emitBinary();
  } finally {
    binaryen.setDebugInfo(false);
    mod.dispose();
  }
}

/**
 * Traps two calls deep after calls to the kernel, past 200 functions: merged, each call to the
 * kernel needs a longer index than the import it replaces, so the code after it moves.
 */
const MANY_FUNCTIONS_WAT = `(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (memory (export "memory") 1)
  ${Array.from({ length: 200 }, (_, i) => `(func $f${i} (export "f${i}") (param i64) (result i64) (i64.add (local.get 0) (i64.const ${i})))`).join('\n  ')}
  (func $deep (param $n i64) (result i64)
    ${Array.from({ length: 6 }, () => '(local.set $n (i64.add (local.get $n) (call $input_load_u64 (local.get $n))))').join('\n    ')}
    (drop (call $f199 (local.get $n)))
    (if (i64.eqz (call $input_length)) (then unreachable))
    (local.get $n))
  (func (export "boom") (result i32)
    (drop (call $input_load_u64 (i64.const 0)))
    (drop (call $deep (call $input_length)))
    (i32.const 0)))`;

/** A small seeded generator (mulberry32). */
function random(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * A module whose export `boom` calls down a chain of functions, among others, to a trap (unreachable
 * or a division by zero); every function calls the kernel here and there, so a merge moves its code.
 */
function trapChainWat(seed: number): string {
  const pick = random(seed);
  const count = 3 + pick(300);
  const depth = 1 + pick(Math.min(4, count));
  const chain = new Set<number>();
  while (chain.size < depth) chain.add(pick(count));
  const order = [...chain];
  const kernelCalls = () =>
    Array.from({ length: pick(4) }, () =>
      ['(local.set $x (i64.add (local.get $x) (call $input_load_u64 (local.get $x))))', '(local.set $x (i64.xor (local.get $x) (call $load_u64 (local.get $x))))', '(drop (call $alloc (i64.const 8)))'][pick(3)],
    ).join('\n    ');
  const funcs = Array.from({ length: count }, (_, i) => {
    const at = order.indexOf(i);
    const next = at >= 0 && at + 1 < order.length ? `(local.set $x (call $f${order[at + 1]} (local.get $x)))` : '';
    const trap = at === order.length - 1 ? (pick(2) ? 'unreachable' : '(local.set $x (i64.div_s (local.get $x) (call $input_length)))') : '';
    return `(func $f${i} (param $x i64) (result i64)
    ${kernelCalls()}
    ${next}
    ${trap}
    ${kernelCalls()}
    (local.get $x))`;
  });
  return `(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (memory (export "memory") 1)
  ${funcs.join('\n  ')}
  (func (export "boom") (result i32) (local $x i64)
    ${kernelCalls()}
    (drop (call $f${order[0]} (local.get $x)))
    (i32.const 0)))`;
}

/** The frames V8 gives for `boom` of the module itself, its kernel imports answered by hand: [name or wasm-function[index], offset]. */
function fileFrames(bytes: Uint8Array): [string, number][] {
  const zero = () => 0n;
  const file = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    'extism:host/env': { input_length: zero, input_load_u64: zero, load_u64: zero, alloc: zero },
  }).exports as { boom(): number };
  try {
    file.boom();
  } catch (error) {
    return rawFrames(error).map(([name, index, offset]) => [name ?? `wasm-function[${index}]`, offset]);
  }
  throw new Error('boom did not trap');
}

/** The module with a custom section added at its end. */
function withCustomSection(bytes: Uint8Array, name: string, content: Uint8Array): Uint8Array {
  const section = new WasmWriter();
  section.name(name);
  section.bytes(content);
  const out = new WasmWriter();
  out.bytes(bytes);
  out.section(0, section);
  return out.done().slice();
}

/** Each function body of a module: where it starts in the code section's contents, and its size. */
function bodies(bytes: Uint8Array): [number, number][] {
  const r = new ModuleReader(bytes);
  while (!r.atEnd()) {
    const id = r.byte();
    const size = r.u32();
    if (id !== 10) {
      r.pos += size;
      continue;
    }
    const start = r.pos;
    const out: [number, number][] = [];
    for (let n = r.u32(); n > 0; n--) {
      const length = r.u32();
      out.push([r.pos - start, length]);
      r.pos += length;
    }
    return out;
  }
  return [];
}

/** Each wasm frame of a trap's stack, innermost first, as V8 names it: [function name or null, function index, module offset]. */
function rawFrames(error: unknown): [string | null, number, number][] {
  assert.ok(error instanceof Error && error.stack);
  return [...error.stack.matchAll(/at (?:(\S+) \()?wasm:\/\/wasm\/[0-9a-f]+:wasm-function\[(\d+)\]:0x([0-9a-f]+)/g)].map((m) => [m[1] ?? null, Number(m[2]), parseInt(m[3], 16)]);
}

/** Validated by Binaryen with every feature on: multi-memory too, which Node 20's V8 lacks. */
function binaryenValidates(bytes: Uint8Array): boolean {
  const mod = binaryen.readBinary(bytes);
  try {
    mod.setFeatures(binaryen.Features.All);
    return !!mod.validate();
  } finally {
    mod.dispose();
  }
}

/**
 * Every place a function index lives: kernel imports among host imports, a start function, a
 * table filled by an element segment, call_indirect, a funcref global with ref.func, an export of
 * an imported function, names. Output: "<started>:<input reversed, each byte through the table>".
 */
const SHAPES_WAT = `(module
  (type $byte (func (param i32) (result i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $same $upper)
  (global $started (mut i32) (i32.const 0))
  (global $pick funcref (ref.func $upper))
  (export "input_length_too" (func $input_length))
  (start $start)
  (func $start (global.set $started (i32.add (global.get $started) (i32.const 1))))
  (func $same (type $byte) (local.get 0))
  (func $upper (type $byte)
    (if (result i32) (i32.and (i32.ge_u (local.get 0) (i32.const 97)) (i32.le_u (local.get 0) (i32.const 122)))
      (then (i32.sub (local.get 0) (i32.const 32))) (else (local.get 0))))
  (func (export "run") (result i32) (local $n i64) (local $p i64) (local $i i64) (local $f i32)
    (local.set $n (call $input_length))
    (local.set $p (call $alloc (i64.add (local.get $n) (i64.const 2))))
    (call $store_u8 (local.get $p) (i32.add (i32.const 48) (global.get $started)))
    (call $store_u8 (i64.add (local.get $p) (i64.const 1)) (i32.const 58))
    (local.set $f (select (i32.const 0) (i32.const 1) (ref.is_null (global.get $pick))))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (i64.add (local.get $p) (i64.const 2)) (local.get $i))
        (call_indirect (type $byte)
          (call $input_load_u8 (i64.sub (i64.sub (local.get $n) (i64.const 1)) (local.get $i)))
          (local.get $f)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (call $log_info (local.get $p))
    (call $output_set (local.get $p) (call $length (local.get $p)))
    (i32.const 0)))`;

const multiMemory = Number(process.versions.node.split('.')[0]) >= 22 && process.env.EXTISM_IPC_KERNEL !== 'separate';

describe('the kernel merged into plugin modules', () => {
  let shapes: Uint8Array;
  before(async () => {
    binaryen = ((await import('binaryen')) as unknown as { default: Binaryen }).default;
    shapes = assembleAll(SHAPES_WAT);
  });
  after(closeHosts);

  it(`takes the path this Node allows: ${multiMemory ? 'merged (multi-memory)' : 'a kernel instance per plugin'}`, () => {
    assert.equal(kernelPath().path, multiMemory ? 'merged' : 'separate');
  });

  it('a merged module keeps the plugin\'s imports but the kernel\'s, adds Extism memory last, and validates with multi-memory', () => {
    const result = mergeKernel(shapes, kernelWasm, 7);
    assert.ok(result.merged, result.merged ? '' : result.reason);
    assert.ok(binaryenValidates(result.merged), 'validates (Binaryen, every feature)');
    assert.deepEqual(result.imports.map((i) => i.name), ['input_length', 'log_info', 'input_load_u8', 'alloc', 'config_get', 'store_u8', 'output_set', 'length']);
    const mod = binaryen.readBinary(result.merged);
    mod.setFeatures(binaryen.Features.All);
    const wat = mod.emitText();
    mod.dispose();
    // only host functions stay imported, and the kernel's own out_of_memory
    const imported = [...wat.matchAll(/\(import "([^"]+)" "([^"]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
    assert.deepEqual(imported, ['extism:host/env.log_info', 'extism:host/env.config_get', `${KERNEL_MODULE}.out_of_memory`]);
    assert.match(wat, /\(memory \$\S+ 1 7\)/, 'Extism memory: 1 page, at most the limit');
    assert.ok(!/\(start /.test(wat), 'the start function is the host\'s to run');
    if (multiMemory) {
      const exports = WebAssembly.Module.exports(new WebAssembly.Module(result.merged)).map((e) => e.name);
      assert.ok(exports.includes(`${KERNEL_EXPORT}memory`) && exports.includes(`${KERNEL_EXPORT}start`) && exports.includes('run'));
    }
  });

  it('runs the same on either path: start, table, funcref global, kernel and host imports', async () => {
    const file = writeModule('merge_shapes', shapes);
    const host = startHost({ logLevel: 'info' });
    const logs: string[] = [];
    host.onLog((e) => logs.push(e.message));
    const p = await host.register(file);
    assert.equal(text(await host.call(p.id, 'run', 'abc')), '1:CBA');
    // a second call: the kernel reset, the start function not run again
    assert.equal(text(await host.call(p.id, 'run', 'hello')), '1:OLLEH');
    assert.ok(logs.includes('1:OLLEH'), 'log_info (a host import) read the merged kernel\'s memory');
    assert.ok(!logs.some((l) => /not merged/.test(l)), logs.join('\n'));
    assert.ok(!p.exports.some((e) => e.startsWith(KERNEL_EXPORT)), 'the kernel\'s exports are not the plugin\'s');
  });

  it('the sample plugins that use the kernel are merged where the runtime merges', () => {
    const cache = new ModuleCache();
    const dir = path.resolve(__dirname, '..', '..', '..', 'plugins');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.wasm'));
    const merged = files.filter((f) => {
      const file = path.join(dir, f);
      const m = cache.get({ key: file, stamp: '1', source: file, read: () => fs.readFileSync(file) }, 16, f);
      return m.merged !== null;
    });
    const libraries = ['math_lib.wasm', 'vowels_raw.wasm'];
    assert.deepEqual(merged, multiMemory ? files.filter((f) => !libraries.includes(f)) : []);
  });

  for (const names of [true, false]) {
    it(`names a trap's frames by the file's offsets and function indices through a merge (${names ? 'a name section' : 'no names'})`, async () => {
      const bytes = assembleAll(MANY_FUNCTIONS_WAT, names);
      // what V8 gives for the file itself, its kernel imports answered by hand
      const file = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        'extism:host/env': { input_length: () => 0n, input_load_u64: () => 0n },
      }).exports as { boom(): number };
      let thrown: unknown;
      try {
        file.boom();
      } catch (error) {
        thrown = error;
      }
      const want = rawFrames(thrown);
      assert.equal(want.length, 2);
      const source = writeModule(`merge_frames_${names}`, bytes);
      const compiled = new ModuleCache().get({ key: source, stamp: '1', source, read: () => bytes }, 16, 'frames');
      assert.equal(compiled.merged !== null, multiMemory, 'merged where the runtime merges');
      const host = startHost();
      const p = await host.register(source);
      const error = await host.call(p.id, 'boom', '').then(() => null, (e: unknown) => e);
      assert.ok(error instanceof IpcError && error.frames, String(error));
      assert.deepEqual(
        error.frames.map((f) => [f.function, f.offset]),
        want.map(([name, index, offset]) => [name ?? `wasm-function[${index}]`, offset]),
      );
    });
  }

  it('gives the file\'s frames through a merge, with fuel or without, with names or without: 8 generated trap chains', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const names = seed % 2 === 0;
      const bytes = assembleAll(trapChainWat(seed), names);
      const want = fileFrames(bytes);
      const source = writeModule(`merge_chain_${seed}`, bytes);
      for (const fuel of [false, true]) {
        const host = startHost(fuel ? { fuel: 1e12 } : {});
        const p = await host.register(source);
        const error = await host.call(p.id, 'boom', '').then(() => null, (e: unknown) => e);
        assert.ok(error instanceof IpcError && error.frames, String(error));
        assert.deepEqual(error.frames.map((f) => [f.function, f.offset]), want, `seed ${seed}, ${names ? 'names' : 'no names'}, fuel ${fuel ? 'on' : 'off'}`);
      }
    }
  });

  it('merges a module with DWARF keeping every byte of its code where it was, its DWARF with it', () => {
    const file = fs.readFileSync(cPlugin('callee'));
    const result = mergeKernel(file, kernelWasm, 16, true);
    assert.ok(result.merged, result.merged ? '' : result.reason);
    const fileBodies = bodies(file);
    // the plugin's bodies first, at the same offsets in the code section, the same size; the kernel's after
    assert.deepEqual(bodies(result.merged).slice(0, fileBodies.length), fileBodies);
    for (const name of ['.debug_line', '.debug_info', '.debug_abbrev']) {
      const kept = customSection(result.merged, name);
      assert.ok(kept && kept.length > 0, name);
      assert.deepEqual(Buffer.from(kept), Buffer.from(customSection(file, name) ?? []), name);
    }
    const compiled = new ModuleCache().get({ key: 'callee', stamp: '1', source: 'callee', read: () => file }, 16, 'callee');
    assert.equal(compiled.merged !== null, multiMemory, 'merged where the runtime merges');
  });

  it('leaves a module with DWARF apart when a rewritten index needs more bytes than the file gave it', () => {
    const plain = assembleAll(MANY_FUNCTIONS_WAT);
    const withDwarf = withCustomSection(plain, '.debug_line', new Uint8Array(4));
    const result = mergeKernel(withDwarf, kernelWasm, 16, true);
    assert.equal(result.merged, null);
    assert.match(result.merged === null ? result.reason : '', /its code would move: index \d+ needs more bytes than the file gave/);
    assert.ok(mergeKernel(plain, kernelWasm, 16).merged, 'merged when its code may move');
  });

  it('keeps the kernel apart for a module with a source map, whose offsets count from the module\'s start, saying why', async () => {
    const bytes = withCustomSection(assembleAll(MANY_FUNCTIONS_WAT), 'sourceMappingURL', new TextEncoder().encode('\x0bboom.wasm.map'));
    const source = writeModule('merge_source_map', bytes);
    assert.equal(new ModuleCache().get({ key: source, stamp: '1', source, read: () => bytes }, 16, 'mapped').merged, null);
    const host = startHost({ logLevel: 'info' });
    const logs: string[] = [];
    host.onLog((e) => logs.push(e.message));
    await host.register(source);
    if (multiMemory) assert.ok(logs.some((l) => /not merged into the module: it names a source map \(sourceMappingURL\)/.test(l)), logs.join('\n'));
    else assert.ok(!logs.some((l) => /not merged/.test(l)), logs.join('\n'));
  });

  it('tells how the runtime here would reach the kernel from a module, for the overview', () => {
    const plugins = path.resolve(__dirname, '..', '..', '..', 'plugins');
    const plan = (bytes: Uint8Array) => kernelPlan(bytes);
    const noMultiMemory = { merged: false, why: kernelPath().why };
    assert.deepEqual(plan(fs.readFileSync(path.join(plugins, 'count_vowels.wasm'))), multiMemory ? { merged: true, why: 'multi-memory' } : noMultiMemory);
    assert.deepEqual(plan(fs.readFileSync(cPlugin('callee'))), multiMemory ? { merged: true, why: 'its code keeps every byte offset, so its DWARF holds' } : noMultiMemory);
    const mapped = withCustomSection(assembleAll(MANY_FUNCTIONS_WAT), 'sourceMappingURL', new TextEncoder().encode('\x0bboom.wasm.map'));
    assert.deepEqual(plan(mapped), multiMemory ? { merged: false, why: 'it names a source map (sourceMappingURL), whose offsets a merge would move' } : noMultiMemory);
    assert.equal(plan(fs.readFileSync(path.join(plugins, 'math_lib.wasm'))), null, 'a library calls no kernel function');
    assert.equal(plan(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff])), null, 'not a valid module');
  });

  it('falls back to a kernel instance of its own, saying why, for an import of another type than the kernel\'s', async () => {
    const wat = `(module (import "extism:host/env" "input_length" (func (result i32))) (memory (export "memory") 1)
      (func (export "run") (result i32) (i32.const 0)))`;
    const bytes = assembleAll(wat);
    const result = mergeKernel(bytes, kernelWasm, 16);
    assert.equal(result.merged, null);
    assert.match(result.merged === null ? result.reason : '', /input_length has another type than the kernel's/);
    const host = startHost({ logLevel: 'info' });
    const logs: string[] = [];
    host.onLog((e) => logs.push(e.message));
    await assert.rejects(host.register(writeModule('merge_badtype', bytes)), /input_length/);
    if (multiMemory) assert.ok(logs.some((l) => /not merged into the module: its import extism:host\/env\.input_length has another type/.test(l)), logs.join('\n'));
  });
});
