import * as assert from 'node:assert/strict';
import { PluginHost } from '../../src/core';
import { closeHosts, rejects, startHost, text } from './helpers';
import { assemble, ENV_IMPORTS, INPUT_BLOCK, writeModule } from './wat';

/**
 * A plugin controls every offset and length it hands the host, and every byte of its Extism memory,
 * the kernel's block headers included. The host must read and write only inside that memory, fail
 * the call with a message naming plugin, function and kernel call, and stay usable.
 */
const FREE_HEADER = (0x1000n << 32n) | 0x46524545n; // magic "FREE", capacity 4096

const WAT = `(module
  ${ENV_IMPORTS}
  (memory (export "memory") 1)
  ${INPUT_BLOCK}
  (func (export "negative_offset") (result i32)
    (drop (call $alloc (i64.const 12)))
    (call $output_set (i64.const -1) (i64.const 12))
    (i32.const 0))
  (func (export "past_block") (result i32) (local $p i64) (local $q i64)
    (local.set $p (call $alloc (i64.const 4)))
    (call $store_u8 (local.get $p) (i32.const 0x61))
    (local.set $q (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $q) (i64.const 0x2174657263657321))
    (call $output_set (local.get $p) (i64.const 64))
    (i32.const 0))
  ;; frees a block, then stores over its free-list link (pointing it near the end of memory) and
  ;; forges a free header there: the host's next write must not follow it
  (func (export "corrupt_free_list") (result i32) (local $key i64) (local $a i64) (local $v i64)
    (local.set $key (call $input_block))
    (local.set $a (call $alloc (i64.const 16)))
    (drop (call $alloc (i64.const 16)))
    (call $free (local.get $a))
    (call $store_u64 (local.get $a) (i64.const 65528))
    (call $store_u64 (i64.const 65512) (i64.const ${FREE_HEADER}))
    (local.set $v (call $config_get (local.get $key)))
    (call $output_set (local.get $v) (call $length (local.get $v)))
    (i32.const 0))
  (func (export "config") (result i32) (local $v i64)
    (local.set $v (call $config_get (call $input_block)))
    (call $output_set (local.get $v) (call $length (local.get $v)))
    (i32.const 0))
  ;; forges a used header over a block's length, then asks the host to read it
  (func (export "forged_length") (result i32) (local $p i64)
    (local.set $p (call $alloc (i64.const 8)))
    (call $store_u64 (i64.sub (local.get $p) (i64.const 8)) (i64.const 0x7fffffff))
    (call $log_info (local.get $p))
    (i32.const 0))
  ;; what the native kernel gives where a block or the memory ends, as eight u64s
  (func (export "edges") (result i32) (local $out i64)
    (call $store_u8 (i64.const 200) (i32.const 7))
    (call $store_u8 (i64.const 0x1000000c8) (i32.const 9))
    (call $store_u64 (i64.const 0xfffffffc) (i64.const -1))
    (local.set $out (call $alloc (i64.const 64)))
    (call $store_u64 (local.get $out) (call $alloc (i64.const 0)))
    (call $store_u64 (i64.add (local.get $out) (i64.const 8)) (call $length (i64.const 12345)))
    (call $store_u64 (i64.add (local.get $out) (i64.const 16)) (call $length_unsafe (i64.const 3)))
    (call $store_u64 (i64.add (local.get $out) (i64.const 24)) (i64.extend_i32_u (call $load_u8 (i64.const 0x1000000c8))))
    (call $store_u64 (i64.add (local.get $out) (i64.const 32)) (call $load_u64 (i64.const 0xfffffffc)))
    (call $store_u64 (i64.add (local.get $out) (i64.const 40)) (call $input_load_u64 (i64.const 1)))
    (call $store_u64 (i64.add (local.get $out) (i64.const 48)) (i64.extend_i32_u (call $input_load_u8 (i64.const 1000))))
    (call $store_u64 (i64.add (local.get $out) (i64.const 56)) (i64.extend_i32_u (call $load_u8 (i64.const 200))))
    (call $output_set (local.get $out) (i64.const 64))
    (i32.const 0))
)`;

describe('host access to plugin memory', () => {
  let file: string;
  before(async () => {
    file = writeModule('memfault', await assemble(WAT));
  });
  afterEach(closeHosts);

  /** A host with a bystander plugin that must keep answering after each fault. */
  async function setup(): Promise<{ host: PluginHost; id: number; stillAnswers: () => Promise<void> }> {
    const host = startHost();
    const echo = await host.register('echo');
    const plugin = await host.register(file, { config: { key: 'a config value longer than sixteen bytes' } });
    const stillAnswers = async () => assert.equal(text(await host.call(echo.id, 'echo', 'still here')), 'still here');
    return { host, id: plugin.id, stillAnswers };
  }

  it('a negative output offset fails the call, naming plugin, function and kernel call', async () => {
    const { host, id, stillAnswers } = await setup();
    await rejects(
      host.call(id, 'negative_offset'),
      'PluginError',
      /^plugin #2 \(memfault\)\.negative_offset: output_set\(0xffffffffffffffff, 12\) is outside its Extism memory \(65536 bytes\)$/,
    );
    await stillAnswers();
  });

  it('an output length past its block fails the call instead of handing over the next block', async () => {
    const { host, id, stillAnswers } = await setup();
    const error = await rejects(
      host.call(id, 'past_block'),
      'PluginError',
      /^plugin #2 \(memfault\)\.past_block: output_set\(0x[0-9a-f]+, 64\) is longer than its block \(4 bytes\)$/,
    );
    assert.doesNotMatch(error.message, /secret/);
    await stillAnswers();
  });

  it('a corrupted free list is not followed: the host writes a fresh block and the call succeeds', async () => {
    const { host, id, stillAnswers } = await setup();
    for (let i = 0; i < 3; i++) {
      assert.equal(text(await host.call(id, 'corrupt_free_list', 'key')), 'a config value longer than sixteen bytes');
    }
    await stillAnswers();
  });

  it('a forged block length is not read past the block', async () => {
    const { host, id, stillAnswers } = await setup();
    await rejects(host.call(id, 'forged_length'), 'PluginError', /^plugin #2 \(memfault\)\.forged_length: log_info: 0x[0-9a-f]+ is not an Extism memory block$/);
    await stillAnswers();
  });

  it('a config key is data: "__proto__" and "constructor" are absent keys, not properties', async () => {
    const { host, id } = await setup();
    for (const key of ['__proto__', 'constructor', 'toString']) assert.equal(text(await host.call(id, 'config', key)), '');
    assert.equal(text(await host.call(id, 'config', 'key')), 'a config value longer than sixteen bytes');
  });

  it('follows the native kernel at the edges: alloc(0), length of a non-block, loads outside memory or input', async () => {
    const { host, id } = await setup();
    const out = Buffer.from(await host.call(id, 'edges', 'abc'));
    const values = Array.from({ length: 8 }, (_, i) => out.readBigUInt64LE(i * 8));
    assert.deepEqual(values, [0n, 0n, 0n, 0n, 0n, 0n, 0n, 7n]);
  });
});
