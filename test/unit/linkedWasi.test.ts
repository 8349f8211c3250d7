import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import createPlugin from '@extism/extism';
import type { LogEntry } from '../../src/core';
import { closeHosts, rejects, startHost, text } from './helpers';
import { assemble, writeModule } from './wat';

const FD_WRITE = '(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))';

/** A library as TinyGo builds them: it imports WASI and writes to stdout from its own memory. */
const LIB = `(module
  ${FD_WRITE}
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from lib\\n")
  (func (export "greet") (result i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 15))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
    (i32.load (i32.const 24))))`;

/**
 * The plugin: calls lib.greet and outputs the bytes lib's fd_write wrote, as two digits ("15" when
 * lib's WASI reads lib's memory; "00" when it reads another). With WASI of its own, it first writes
 * a line from its memory, at other offsets than lib's.
 */
function mainWat(ownWasi: boolean): string {
  return `(module
    (import "lib" "greet" (func $greet (result i32)))
    ${ownWasi ? FD_WRITE : ''}
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (memory (export "memory") 1)
    (data (i32.const 200) "main says hi\\n")
    (func (export "run") (result i32)
      (local $n i32) (local $blk i64)
      ${ownWasi ? `(i32.store (i32.const 100) (i32.const 200))
      (i32.store (i32.const 104) (i32.const 13))
      (drop (call $fd_write (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 108)))` : ''}
      (local.set $n (call $greet))
      (local.set $blk (call $alloc (i64.const 2)))
      (call $store_u8 (local.get $blk) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
      (call $store_u8 (i64.add (local.get $blk) (i64.const 1)) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (call $output_set (local.get $blk) (i64.const 2))
      (i32.const 0)))`;
}

describe('linked modules that import WASI', () => {
  afterEach(closeHosts);
  let lib: string;
  let main: string;
  let plainMain: string;
  before(async () => {
    lib = writeModule('lib', await assemble(LIB));
    main = writeModule('wasi_main', await assemble(mainWat(true)));
    plainMain = writeModule('plain_main', await assemble(mainWat(false)));
  });
  after(() => {
    for (const file of [lib, main, plainMain]) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  for (const [what, file] of [['a main module with WASI of its own', () => main], ['a main module without WASI', () => plainMain]] as const) {
    it(`gives every module the granted WASI, each on its own memory: ${what}`, async () => {
      const host = startHost({ pluginDirs: [], wasi: true });
      const logs: LogEntry[] = [];
      host.onLog((e) => logs.push(e));
      const p = await host.register(file(), { link: { lib } });
      for (let i = 0; i < 2; i++) assert.equal(text(await host.call(p.id, 'run')), '15', `call ${i + 1}`);
      const lines = logs.map((e) => e.message);
      const own = file() === main ? ['[stdout] main says hi'] : [];
      assert.deepEqual(lines, [...own, '[stdout] hello from lib', ...own, '[stdout] hello from lib']);
    });
  }

  it('refuses a linked module that imports WASI when WASI is not granted, naming the module', async () => {
    const host = startHost({ pluginDirs: [], wasiHint: 'pass --wasi' });
    await rejects(
      host.register(plainMain, { link: { lib } }),
      'PluginError',
      /^plugin #1 \(plain_main\): linked module "lib" imports WASI \(wasi_snapshot_preview1\.fd_write\), which is not granted; pass --wasi$/,
    );
    assert.equal(host.plugins().length, 0);
  });

  it('gives the same bytes as @extism/extism for a manifest of the two', async () => {
    const manifest = { wasm: [{ data: fs.readFileSync(lib), name: 'lib' }, { data: fs.readFileSync(main), name: 'main' }] };
    const sdk = await createPlugin(manifest, { useWasi: true });
    let expected: string;
    try {
      expected = (await sdk.call('run', ''))?.text() ?? '';
    } finally {
      await sdk.close();
    }
    const host = startHost({ pluginDirs: [], wasi: true });
    const p = await host.register(main, { link: { lib } });
    assert.equal(text(await host.call(p.id, 'run')), expected);
    assert.equal(expected, '15');
  });
});
