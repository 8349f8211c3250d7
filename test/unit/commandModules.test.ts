import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import createPlugin from '@extism/extism';
import { closeHosts, rejects, startHost, text } from './helpers';
import { assemble, writeModule } from './wat';

/**
 * A WASI command as toolchains build them: `_start` is the program and cannot run twice on one
 * instance (it traps, as Go's runtime fails with "randinit twice"). `_start` outputs "R", then,
 * when its input is a digit, exits with that code. `ready` outputs "<initialized><started>".
 */
function commandWat(withInitialize: boolean): string {
  return `(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
    (import "extism:host/env" "input_length" (func $input_length (result i64)))
    (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (memory (export "memory") 1)
    (global $initialized (mut i32) (i32.const 0))
    (global $started (mut i32) (i32.const 0))
    (func $out2 (param $a i32) (param $b i32)
      (local $blk i64)
      (local.set $blk (call $alloc (i64.const 2)))
      (call $store_u8 (local.get $blk) (local.get $a))
      (call $store_u8 (i64.add (local.get $blk) (i64.const 1)) (local.get $b))
      (call $output_set (local.get $blk) (i64.const 2)))
    ${withInitialize ? '(func (export "_initialize") (global.set $initialized (i32.const 1)))' : ''}
    (func (export "_start")
      (local $blk i64)
      (if (global.get $started) (then unreachable))
      (global.set $started (i32.const 1))
      (local.set $blk (call $alloc (i64.const 1)))
      (call $store_u8 (local.get $blk) (i32.const 82))
      (call $output_set (local.get $blk) (i64.const 1))
      (if (i64.gt_u (call $input_length) (i64.const 0))
        (then (call $proc_exit (i32.sub (call $input_load_u8 (i64.const 0)) (i32.const 48))))))
    (func (export "ready") (result i32)
      (call $out2 (i32.add (i32.const 48) (global.get $initialized)) (i32.add (i32.const 48) (global.get $started)))
      (i32.const 0)))`;
}

describe('command modules (_start), as Extism\'s native runtime runs them', () => {
  afterEach(closeHosts);
  let command: string;
  let reactorCommand: string;
  before(async () => {
    command = writeModule('wasi_command', await assemble(commandWat(false)));
    reactorCommand = writeModule('init_command', await assemble(commandWat(true)));
  });
  after(() => {
    for (const file of [command, reactorCommand]) fs.rmSync(file, { force: true });
  });

  it('never runs _start at load, and gives the next call a fresh instance after each _start', async () => {
    const host = startHost({ pluginDirs: [], wasi: true });
    const p = await host.register(command);
    assert.ok(p.exports.includes('_start'), '_start is a call like any other');
    assert.equal(text(await host.call(p.id, 'ready')), '00', '_start did not run at load');
    for (let run = 1; run <= 3; run++) {
      assert.equal(text(await host.call(p.id, '_start')), 'R', `run ${run} of the program`);
      assert.equal(text(await host.call(p.id, 'ready')), '00', `a fresh instance after run ${run}`);
    }
  });

  it('runs _initialize at load and _start only when called', async () => {
    const host = startHost({ pluginDirs: [], wasi: true });
    const p = await host.register(reactorCommand);
    assert.equal(text(await host.call(p.id, 'ready')), '10');
    assert.equal(text(await host.call(p.id, '_start')), 'R');
    assert.equal(text(await host.call(p.id, 'ready')), '10', 'the fresh instance was initialized too');
  });

  it('takes proc_exit(0) as success; another code fails the call naming it, and the plugin goes on', async () => {
    const host = startHost({ pluginDirs: [], wasi: true });
    const p = await host.register(command);
    assert.equal(text(await host.call(p.id, '_start', '0')), 'R');
    await rejects(host.call(p.id, '_start', '3'), 'PluginError', /^plugin #1 \(wasi_command\)\._start exited with code 3$/);
    await rejects(host.call(p.id, '_start', '7'), 'PluginError', /_start exited with code 7$/);
    assert.equal(text(await host.call(p.id, '_start')), 'R', 'the failed runs were rebuilt too');
    assert.equal(host.plugins().length, 1);
  });

  it('gives the same bytes as @extism/extism for a WASI command: ready, then _start', async () => {
    const sdk = await createPlugin({ wasm: [{ data: fs.readFileSync(command) }] }, { useWasi: true });
    const expected: string[] = [];
    try {
      for (const func of ['ready', '_start']) expected.push((await sdk.call(func, ''))?.text() ?? '');
    } finally {
      await sdk.close();
    }
    const host = startHost({ pluginDirs: [], wasi: true });
    const p = await host.register(command);
    const actual = [text(await host.call(p.id, 'ready')), text(await host.call(p.id, '_start'))];
    assert.deepEqual(actual, expected);
    assert.deepEqual(expected, ['00', 'R']);
  });
});
