import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import createPlugin from '@extism/extism';
import { closeHosts, startHost } from './helpers';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

/**
 * The kernel zeroes what a call used lazily (kernel.wat, `$dirty_top`): a block is zeroed where it
 * overlaps bytes of freed blocks when it is handed out, a host-filled block only in its padding, and
 * a load or store past the heap top zeroes that range first. Whatever the order, no call reads
 * another call's bytes and a new block reads as zeros, as when the reset zeroed the heap at once.
 */
const WAT = `(module
  ${ENV_IMPORTS}
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (memory (export "memory") 1)
  (func $fill (param $p i64) (param $n i64) (param $v i64) (local $i i64)
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u64 (i64.add (local.get $p) (local.get $i)) (local.get $v))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $next))))
  (func $input_u32 (result i64)
    (i64.or (i64.or (i64.extend_i32_u (call $input_load_u8 (i64.const 0)))
                    (i64.shl (i64.extend_i32_u (call $input_load_u8 (i64.const 1))) (i64.const 8)))
            (i64.shl (i64.extend_i32_u (call $input_load_u8 (i64.const 2))) (i64.const 16))))
  ;; fills n bytes (the input's u24) with 0xaa, n+8 more past them, and leaves both
  (func (export "dirty") (result i32) (local $n i64)
    (local.set $n (call $input_u32))
    (call $fill (call $alloc (local.get $n)) (local.get $n) (i64.const 0xaaaaaaaaaaaaaaaa))
    (call $fill (call $alloc (i64.const 64)) (i64.const 64) (i64.const 0xaaaaaaaaaaaaaaaa))
    (i32.const 0))
  ;; a block filled and freed at the top, then a block of the same size: its bytes are the output
  (func (export "free_at_top") (result i32) (local $p i64) (local $q i64)
    (local.set $p (call $alloc (i64.const 64)))
    (call $fill (local.get $p) (i64.const 64) (i64.const 0x5ec2e75ec2e75ec2))
    (call $free (local.get $p))
    (local.set $q (call $alloc (i64.const 64)))
    (call $output_set (local.get $q) (i64.const 64))
    (i32.const 0))
  ;; a fresh block of n bytes (the input's u24), as the output
  (func (export "fresh") (result i32) (local $n i64) (local $q i64)
    (local.set $n (call $input_u32))
    (local.set $q (call $alloc (local.get $n)))
    (call $output_set (local.get $q) (local.get $n))
    (i32.const 0))
  ;; before any block is made, sixteen u64 loads where the last call's blocks were, then an output of them
  (func (export "peek") (result i32) (local $i i64) (local $acc i64) (local $q i64)
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (i64.const 128)))
      (local.set $acc (i64.or (local.get $acc) (call $load_u64 (i64.add (i64.const 64) (local.get $i)))))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $next)))
    (local.set $q (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $q) (local.get $acc))
    (call $output_set (local.get $q) (i64.const 8))
    (i32.const 0))
  ;; the 8 bytes after the input, in its block's padding and past it: a u8 load each
  (func (export "past_input") (result i32) (local $i i64) (local $end i64) (local $q i64) (local $out i64)
    (local.set $end (i64.add (call $input_offset) (call $input_length)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (i64.const 8)))
      (local.set $out (i64.or (local.get $out)
        (i64.shl (i64.extend_i32_u (call $load_u8 (i64.add (local.get $end) (local.get $i)))) (i64.mul (local.get $i) (i64.const 8)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (local.set $q (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $q) (local.get $out))
    (call $output_set (local.get $q) (i64.const 8))
    (i32.const 0))
  ;; a store past the top stays (as natively); the bytes next to it, left by the last call, read as zeros
  (func (export "store_past_top") (result i32) (local $p i64) (local $q i64) (local $stored i64) (local $next i64)
    (local.set $p (call $alloc (i64.const 8)))
    (call $store_u64 (i64.add (local.get $p) (i64.const 32)) (i64.const 0x0123456789abcdef))
    (local.set $stored (call $load_u64 (i64.add (local.get $p) (i64.const 32))))
    (local.set $next (call $load_u64 (i64.add (local.get $p) (i64.const 40))))
    (local.set $q (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $q) (local.get $stored))
    (call $store_u64 (i64.add (local.get $q) (i64.const 8)) (local.get $next))
    (call $output_set (local.get $q) (i64.const 16))
    (i32.const 0))
)`;

const u24 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff);
const zeros = (n: number) => Buffer.alloc(n);

describe('kernel: what a call used reads as zeros (lazy zeroing)', function () {
  this.timeout(30_000);
  let file: string;
  before(async () => {
    file = writeModule('zeroing', await assemble(WAT));
  });
  after(closeHosts);

  it('a block freed at the top and made again reads as zeros, as in the SDK', async () => {
    const host = startHost();
    const p = await host.register(file);
    const sdk = await createPlugin({ wasm: [{ data: fs.readFileSync(file) }] }, { useWasi: false });
    try {
      const sdkOut = await sdk.call('free_at_top', new Uint8Array(0));
      assert.deepEqual(Buffer.from(sdkOut!.bytes()), zeros(64));
      assert.deepEqual(Buffer.from(await host.call(p.id, 'free_at_top', new Uint8Array(0))), zeros(64));
      // and in the next call, which reuses the same offsets
      assert.deepEqual(Buffer.from(await host.call(p.id, 'free_at_top', new Uint8Array(0))), zeros(64));
    } finally {
      await sdk.close();
    }
  });

  it('the next call reads none of the last call’s bytes: not in a new block, not by a load past the top', async () => {
    const host = startHost();
    const p = await host.register(file);
    await host.call(p.id, 'dirty', u24(256));
    assert.deepEqual(Buffer.from(await host.call(p.id, 'peek', new Uint8Array(0))), zeros(8));
    await host.call(p.id, 'dirty', u24(256));
    assert.deepEqual(Buffer.from(await host.call(p.id, 'fresh', u24(512))), zeros(512));
  });

  it('a new block that reaches past the used bytes, or past memory the last call grew, reads as zeros', async () => {
    const host = startHost();
    const p = await host.register(file);
    // sizes at the edges: a multiple of 8, one past it, one short, and across a page the last call grew
    for (const [dirty, fresh] of [[64, 64], [64, 65], [63, 72], [200_000, 300_000], [300_000, 200_001]]) {
      await host.call(p.id, 'dirty', u24(dirty));
      const out = Buffer.from(await host.call(p.id, 'fresh', u24(fresh)));
      assert.equal(out.byteLength, fresh);
      assert.ok(out.equals(zeros(fresh)), `dirty ${dirty}, fresh ${fresh}: a byte is not zero`);
    }
  });

  it('the host fills its blocks at once but zeroes their padding: the bytes after an input read as zeros', async () => {
    const host = startHost();
    const p = await host.register(file);
    for (const n of [13, 15, 16, 17, 1]) {
      // the last input filled every byte of a block of 24
      await host.call(p.id, 'past_input', new Uint8Array(24).fill(0xff));
      const out = Buffer.from(await host.call(p.id, 'past_input', new Uint8Array(n).fill(0xee)));
      assert.deepEqual(out, zeros(8), `an input of ${n} bytes`);
    }
  });

  it('an input the host writes into memory grown since the last call comes back whole', async () => {
    const host = startHost();
    const echo = await host.register('echo');
    for (const n of [100, 70_000, 300_000, 65_536 - 96, 65_536 - 80]) {
      const input = Buffer.alloc(n);
      for (let i = 0; i < n; i++) input[i] = (i * 31 + n) & 0xff;
      assert.ok(Buffer.from(await host.call(echo.id, 'echo', input)).equals(input), `${n} bytes`);
    }
  });

  it('a store past the top stays, as natively; the last call’s bytes beside it read as zeros', async () => {
    const host = startHost();
    const p = await host.register(file);
    await host.call(p.id, 'dirty', u24(512));
    const out = Buffer.from(await host.call(p.id, 'store_past_top', new Uint8Array(0)));
    assert.equal(out.readBigUInt64LE(0), 0x0123456789abcdefn);
    assert.equal(out.readBigUInt64LE(8), 0n);
  });
});
