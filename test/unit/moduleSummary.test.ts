// The overview of a .wasm read from its bytes: the sample plugins, hand-written modules with and
// without a name section, producers and DWARF sections, and hostile bytes (bounded, never a throw).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { guessPdk, ImportContext, importServed, importServer, ModuleSummary, ModuleSummaryResult, summarizeModule } from '../../src/core';
import { wasm } from './helpers';
import { assemble, ENV_IMPORTS } from './wat';

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function str(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...leb(b.length), ...b];
}

/** A section: id, size, payload. */
function section(id: number, payload: number[]): number[] {
  return [id, ...leb(payload.length), ...payload];
}

function custom(name: string, payload: number[]): number[] {
  return section(0, [...str(name), ...payload]);
}

function withSections(module: Uint8Array, ...sections: number[][]): Uint8Array {
  return new Uint8Array([...module, ...sections.flat()]);
}

function producers(fields: Record<string, [string, string][]>): number[] {
  const entries = Object.entries(fields);
  return custom('producers', [...leb(entries.length), ...entries.flatMap(([f, vs]) => [...str(f), ...leb(vs.length), ...vs.flatMap(([n, v]) => [...str(n), ...str(v)])])]);
}

function ok(result: ModuleSummaryResult): ModuleSummary {
  if (!result.ok) assert.fail(`expected a summary, got: ${result.error}`);
  return result;
}

const HEADER = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];

const PLUGIN_WAT = `(module
  ${ENV_IMPORTS}
  (import "extism:host/user" "call_plugin" (func $call (param i64 i64) (result i64)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "extism:host/user" "kv_read" (func $kv (param i64) (result i64)))
  (memory (export "memory") 2 16)
  (func (export "greet") (result i32) (i32.const 0))
  (func (export "malloc") (param i32) (result i32) (i32.const 0))
  (func (export "_initialize"))
)`;

describe('module summary', () => {
  it('reads a sample plugin: its exports, its typed imports, its memory, its PDK', () => {
    const bytes = fs.readFileSync(wasm('run'));
    const s = ok(summarizeModule(bytes));
    assert.equal(s.size, bytes.byteLength);
    assert.ok(s.exports.some((e) => e.name === 'run' && e.kind === 'function'));
    const alloc = s.imports.find((i) => i.module === 'extism:host/env' && i.name === 'alloc');
    assert.equal(alloc?.type, '(i64) -> i64');
    assert.ok(s.imports.some((i) => i.name === 'register_plugin'));
    assert.ok(s.usesExtism);
    // built with its own abort, no runtime exports and no name section: nothing tells its PDK
    assert.equal(s.pdk, null);
    assert.ok(s.memories.length >= 1);
    assert.ok(s.functions > 0);
  });

  it('reads every sample plugin without an error', () => {
    for (const f of fs.readdirSync(wasm('run').replace(/run\.wasm$/, '')).filter((f) => f.endsWith('.wasm'))) {
      const s = summarizeModule(fs.readFileSync(wasm(f.slice(0, -5))));
      assert.ok(s.ok, `${f}: ${s.ok ? '' : s.error}`);
    }
  });

  it('reads a hand-written module: memory limits and export, no name section, no DWARF', async () => {
    const s = ok(summarizeModule(await assemble(PLUGIN_WAT)));
    assert.deepEqual(s.exports.map((e) => e.name), ['memory', 'greet', 'malloc', '_initialize']);
    assert.deepEqual(s.memories, [{ initial: 2, maximum: 16, shared: false, memory64: false, imported: null, exportedAs: ['memory'] }]);
    assert.equal(s.hasNameSection, false);
    assert.deepEqual(s.dwarf, []);
    assert.equal(s.producers, null);
    const fdWrite = s.imports.find((i) => i.name === 'fd_write');
    assert.equal(fdWrite?.type, '(i32, i32, i32, i32) -> i32');
  });

  it('sees a name section, a producers section and DWARF sections', async () => {
    const base = await assemble(PLUGIN_WAT);
    // name section: function names subsection (1) naming function 0 `__rust_alloc`
    const names = custom('name', section(1, [...leb(1), ...leb(0), ...str('__rust_alloc')]));
    const bytes = withSections(base, names, producers({ language: [['Rust', '']], 'processed-by': [['rustc', '1.80.0 (abc 2024-07-21)']] }), custom('.debug_info', [1, 2, 3]), custom('.debug_line', [4, 5]));
    const s = ok(summarizeModule(bytes));
    assert.equal(s.hasNameSection, true);
    assert.deepEqual(s.dwarf, ['.debug_info', '.debug_line']);
    assert.deepEqual(s.producers, Object.assign(Object.create(null), { language: ['Rust'], 'processed-by': ['rustc 1.80.0 (abc 2024-07-21)'] }));
    assert.equal(s.pdk?.language, 'Rust');
    assert.ok(s.pdk?.evidence.some((e) => /rustc/.test(e)));
    assert.deepEqual(s.customSections.map((c) => c.name), ['name', 'producers', '.debug_info', '.debug_line']);
  });

  it('a malformed producers or name section is skipped, not an error', async () => {
    const base = await assemble(PLUGIN_WAT);
    const s = ok(summarizeModule(withSections(base, custom('producers', [0xff, 0xff, 0xff, 0xff, 0x0f, 1]), custom('name', [1, 0xff]))));
    assert.equal(s.producers, null);
    assert.equal(s.hasNameSection, true);
  });

  it('guesses the PDK from names when there is no producers section', () => {
    const none = { imports: [], exports: [], producers: null, customSections: [], functionNames: [] };
    assert.equal(guessPdk({ ...none, exports: ['__invoke', '__invoke_i32', 'greet'] })?.language, 'JavaScript');
    assert.equal(guessPdk({ ...none, exports: ['hs_init', 'greet'] })?.language, 'Haskell');
    assert.equal(guessPdk({ ...none, imports: [{ module: 'env', name: 'abort' }] })?.language, 'AssemblyScript');
    assert.equal(guessPdk({ ...none, exports: ['__new', '__pin'] })?.language, 'AssemblyScript');
    assert.equal(guessPdk({ ...none, functionNames: ['tinygo_unwind', 'runtime.alloc'] })?.language, 'TinyGo');
    assert.equal(guessPdk({ ...none, functionNames: ['runtime.main', 'go.buildid'] })?.language, 'Go');
    assert.equal(guessPdk({ ...none, functionNames: ['_ZN4core3fmt5write17h0123456789abcdefE'] })?.language, 'Rust');
    assert.equal(guessPdk({ ...none, producers: { language: ['C11'], 'processed-by': ['clang 17.0.6'] } })?.language, 'C');
    assert.equal(guessPdk({ ...none, producers: { 'processed-by': ['Zig 0.13.0'] } })?.language, 'Zig');
    assert.equal(guessPdk({ ...none, producers: { 'processed-by': ['TinyGo 0.33.0'] } })?.language, 'TinyGo');
    assert.equal(guessPdk(none), null);
  });

  it('says who serves each import, and which leave the plugin unloadable', async () => {
    const s = ok(summarizeModule(await assemble(PLUGIN_WAT)));
    const ctx: ImportContext = { wasi: false, bindings: [], hostFunctions: [] };
    const by = (name: string, c: ImportContext = ctx) => importServer(s.imports.find((i) => i.name === name)!, c);
    assert.deepEqual(by('alloc'), { kind: 'kernel' });
    assert.deepEqual(by('call_plugin'), { kind: 'host', what: 'call_plugin' });
    assert.deepEqual(by('fd_write'), { kind: 'wasi', granted: false });
    assert.equal(importServed(by('fd_write')), false);
    assert.deepEqual(by('fd_write', { ...ctx, wasi: true }), { kind: 'wasi', granted: true });
    assert.deepEqual(by('kv_read'), { kind: 'nobody' });
    assert.equal(importServed(by('kv_read')), false);
    assert.deepEqual(by('kv_read', { ...ctx, hostFunctions: [{ import: 'extism:host/user.kv_read', file: '/x/kv.mjs' }] }), { kind: 'hostFunction', file: '/x/kv.mjs' });
    const binding = { key: 'extism:host/user.kv_read', module: 'extism:host/user', name: 'kv_read', plugin: 'kv', func: 'read' };
    assert.deepEqual(by('kv_read', { ...ctx, bindings: [binding], hostFunctions: [{ import: 'extism:host/user.kv_read', file: '/x/kv.mjs' }] }), { kind: 'binding', target: 'kv.read' });
  });
});

describe('module summary of hostile bytes', () => {
  const bounded = (bytes: Uint8Array) => {
    const t0 = performance.now();
    const s = summarizeModule(bytes);
    assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
    return s;
  };

  it('an empty file, a text file, a truncated module, a component: a clear error', async () => {
    const empty = bounded(new Uint8Array(0));
    assert.ok(!empty.ok && /empty/.test(empty.error));
    const text = bounded(new TextEncoder().encode('{"wasm": []}'));
    assert.ok(!text.ok && /not a WebAssembly module/.test(text.error));
    const whole = await assemble(PLUGIN_WAT);
    const cut = bounded(whole.subarray(0, whole.length - 7));
    assert.ok(!cut.ok && /not a valid WebAssembly module/.test(cut.error), cut.ok ? '' : cut.error);
    const component = bounded(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]));
    assert.ok(!component.ok && /component/.test(component.error));
  });

  it('a huge count in a small section is an error, quickly', () => {
    // an import section claiming 2^32-1 imports in 6 bytes
    const s = bounded(new Uint8Array([...HEADER, ...section(2, [0xff, 0xff, 0xff, 0xff, 0x0f, 0])]));
    assert.ok(!s.ok);
  });

  it('giant names are cut, and many exports are counted past the listed ones', () => {
    const bytes = (...parts: (number[] | Uint8Array)[]) => Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
    const sized = (id: number, payload: Uint8Array) => bytes([id, ...leb(payload.length)], payload);
    const big = Buffer.alloc(4 * 1024 * 1024, 'x');
    const exportsN = 5000;
    // a type, 5000 functions of it, each exported; the first under a 4 MiB name; a custom section with a 1 MiB name
    const types = section(1, [1, 0x60, 0, 0]);
    const funcs = section(3, [...leb(exportsN), ...new Array<number>(exportsN).fill(0)]);
    const entries = Array.from({ length: exportsN }, (_, i) => (i === 0 ? bytes(leb(big.length), big, [0, 0]) : bytes([...str(`f${i}`), 0, ...leb(i)])));
    const exps = sized(7, bytes(leb(exportsN), ...entries));
    const code = section(10, [...leb(exportsN), ...Array.from({ length: exportsN }, () => [2, 0, 0x0b]).flat()]);
    const customName = Buffer.alloc(1024 * 1024, 'y');
    const giantCustom = sized(0, bytes(leb(customName.length), customName, [1, 2, 3]));
    const s = ok(bounded(bytes(HEADER, types, funcs, exps, code, giantCustom)));
    assert.ok(s.exports[0].name.length <= 201 && s.exports[0].name.endsWith('…'));
    assert.equal(s.exports.length + s.moreExports, exportsN);
    assert.ok(s.moreExports > 0);
    assert.ok(s.customSections[0].name.length <= 201);
  });
});
