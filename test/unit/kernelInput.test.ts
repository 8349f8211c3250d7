import * as assert from 'node:assert/strict';
import { kernelPath } from '../../src/core';
import { closeHosts, startHost } from './helpers';
import { prng } from './hostileInput';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

/**
 * input_load_u64 reads through a window the kernel keeps (kernel.wat, `$input_window`) instead of
 * checking each call, so that where the kernel is merged V8 inlines it whole. Whatever the input
 * (a plugin may `input_set` any offset and length: past the top, over bytes the last call left, past
 * memory, near 2^64 so that it wraps) and whatever the heap does between (a block filled and freed at
 * the top), `input_load_u64(i)` is `load_u64(input_offset + i)` for i + 8 <= input_length and 0
 * otherwise, and `input_load_u8` the same with `load_u8`: what the checked loads give, never a byte
 * that should read as zero.
 */
const WAT = `(module
  ${ENV_IMPORTS}
  (import "extism:host/env" "input_set" (func $input_set (param i64 i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (memory (export "memory") 4)
  ;; fills n bytes at p with 0xaa, 8 at a time (n a multiple of 8)
  (func $fill (param $p i64) (param $n i64) (local $i i64)
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u64 (i64.add (local.get $p) (local.get $i)) (i64.const 0xaaaaaaaaaaaaaaaa))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $next))))
  ;; leaves n bytes of 0xaa past the top: a block filled and freed there
  (func (export "dirty") (result i32) (local $n i64) (local $p i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (local.set $p (call $alloc (local.get $n)))
    (call $fill (local.get $p) (local.get $n))
    (call $free (local.get $p))
    (i32.const 0))
  ;; frees its own input block (the top block) and reads the input again: before, after (or of both loads)
  (func (export "free_input") (result i32) (local $before i64) (local $after i64) (local $q i64)
    (local.set $before (call $input_load_u64 (i64.const 0)))
    (call $free (call $input_offset))
    (local.set $after (i64.or (call $input_load_u64 (i64.const 0)) (i64.extend_i32_u (call $input_load_u8 (i64.const 9)))))
    (local.set $q (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $q) (local.get $before))
    (call $store_u64 (i64.add (local.get $q) (i64.const 8)) (local.get $after))
    (call $output_set (local.get $q) (i64.const 16))
    (i32.const 0))
  ;; a block that ends where memory ends (its size the input's u64), an input across that end, then
  ;; memory grown past it: outputs the input's u64 at 0 and at 8 (the first bytes of the new page)
  (func (export "at_memory_end") (result i32) (local $end i64) (local $a i64) (local $b i64) (local $q i64)
    (drop (call $alloc (call $input_load_u64 (i64.const 0))))
    (local.set $end (i64.const 65536))
    (call $store_u64 (i64.sub (local.get $end) (i64.const 8)) (i64.const 0x1122334455667788))
    (call $input_set (i64.sub (local.get $end) (i64.const 8)) (i64.const 16))
    (local.set $a (call $input_load_u64 (i64.const 0)))
    (drop (call $alloc (i64.const 65536)))
    (call $store_u64 (local.get $end) (i64.const 0x0102030405060708))
    (local.set $b (call $input_load_u64 (i64.const 8)))
    (local.set $q (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $q) (local.get $a))
    (call $store_u64 (i64.add (local.get $q) (i64.const 8)) (local.get $b))
    (call $output_set (local.get $q) (i64.const 16))
    (i32.const 0))
  ;; The input: steps of four u64 (offset, length, index, dirty). Each step leaves dirty bytes past the
  ;; top when asked (before or after input_set, by the step's parity), then compares the input loads
  ;; with the checked loads they must equal, the input load first (a checked load past the top zeroes
  ;; what reads as zeros). Output: u64 mismatches, then the first one's step and both values.
  (func (export "probe") (result i32)
    (local $n i64) (local $k i64) (local $j i64) (local $off i64) (local $len i64) (local $i i64) (local $d i64)
    (local $a i64) (local $b i64) (local $bad i64) (local $first i64) (local $fa i64) (local $fb i64) (local $p i64) (local $q i64)
    (local.set $n (call $input_length))
    (block $done (loop $copy
      (br_if $done (i64.ge_u (local.get $j) (local.get $n)))
      (i64.store (i32.wrap_i64 (local.get $j)) (call $input_load_u64 (local.get $j)))
      (local.set $j (i64.add (local.get $j) (i64.const 8)))
      (br $copy)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $k) (local.get $n)))
      (local.set $off (i64.load (i32.wrap_i64 (local.get $k))))
      (local.set $len (i64.load offset=8 (i32.wrap_i64 (local.get $k))))
      (local.set $i (i64.load offset=16 (i32.wrap_i64 (local.get $k))))
      (local.set $d (i64.load offset=24 (i32.wrap_i64 (local.get $k))))
      (if (i32.and (i64.ne (local.get $d) (i64.const 0)) (i64.eqz (i64.and (local.get $k) (i64.const 32))))
        (then (local.set $p (call $alloc (local.get $d))) (call $fill (local.get $p) (local.get $d)) (call $free (local.get $p))))
      (call $input_set (local.get $off) (local.get $len))
      (if (i32.and (i64.ne (local.get $d) (i64.const 0)) (i64.ne (i64.and (local.get $k) (i64.const 32)) (i64.const 0)))
        (then (local.set $p (call $alloc (local.get $d))) (call $fill (local.get $p) (local.get $d)) (call $free (local.get $p))))
      (local.set $a (call $input_load_u64 (local.get $i)))
      (local.set $b (i64.const 0))
      (if (i32.and (i64.ge_u (local.get $len) (i64.const 8)) (i64.le_u (local.get $i) (i64.sub (local.get $len) (i64.const 8))))
        (then (local.set $b (call $load_u64 (i64.add (local.get $off) (local.get $i))))))
      (if (i64.ne (local.get $a) (local.get $b))
        (then
          (if (i64.eqz (local.get $bad)) (then (local.set $first (local.get $k)) (local.set $fa (local.get $a)) (local.set $fb (local.get $b))))
          (local.set $bad (i64.add (local.get $bad) (i64.const 1)))))
      (local.set $a (i64.extend_i32_u (call $input_load_u8 (local.get $i))))
      (local.set $b (i64.const 0))
      (if (i64.lt_u (local.get $i) (local.get $len))
        (then (local.set $b (i64.extend_i32_u (call $load_u8 (i64.add (local.get $off) (local.get $i)))))))
      (if (i64.ne (local.get $a) (local.get $b))
        (then
          (if (i64.eqz (local.get $bad)) (then (local.set $first (local.get $k)) (local.set $fa (local.get $a)) (local.set $fb (local.get $b))))
          (local.set $bad (i64.add (local.get $bad) (i64.const 1)))))
      (local.set $k (i64.add (local.get $k) (i64.const 32)))
      (br $next)))
    (local.set $q (call $alloc (i64.const 32)))
    (call $store_u64 (local.get $q) (local.get $bad))
    (call $store_u64 (i64.add (local.get $q) (i64.const 8)) (i64.shr_u (local.get $first) (i64.const 5)))
    (call $store_u64 (i64.add (local.get $q) (i64.const 16)) (local.get $fa))
    (call $store_u64 (i64.add (local.get $q) (i64.const 24)) (local.get $fb))
    (call $output_set (local.get $q) (i64.const 32))
    (i32.const 0))
)`;

const M64 = (1n << 64n) - 1n;
const PAGE = 65_536n;

interface Step {
  off: bigint;
  len: bigint;
  i: bigint;
  dirty: bigint;
}

/** Offsets, lengths and indices at the edges: the heap, its top, the pages' ends, 4 GiB, 2^64. */
function steps(seed: number, count: number): Step[] {
  const rand = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const small = () => BigInt(Math.floor(rand() * 64));
  const offs = () => pick<() => bigint>([
    () => 64n + small(),
    () => BigInt(Math.floor(rand() * 8192)),
    () => pick([1n, 2n, 3n, 4n]) * PAGE - small(),
    () => pick([1n, 2n, 3n, 4n]) * PAGE + small(),
    () => 0xffff_ffffn - small(),
    () => 0x1_0000_0000n + small(),
    () => (M64 + 1n - small()) & M64,
    () => (M64 + 1n - BigInt(Math.floor(rand() * 4096))) & M64,
    () => BigInt(Math.floor(rand() * 2 ** 32)),
    () => 0n,
  ])();
  const lens = () => pick<() => bigint>([
    () => small(),
    () => BigInt(Math.floor(rand() * 200_000)),
    () => M64 - small(),
    () => 1n << 32n,
    () => 0n,
  ])();
  const out: Step[] = [];
  for (let n = 0; n < count; n++) {
    const off = offs();
    const len = lens();
    const i = pick<() => bigint>([
      () => small(),
      () => (len > 8n ? len - 8n - small() : small()) & M64,
      () => (len - 8n + small()) & M64,
      () => (M64 + 1n - off + small()) & M64,
      () => BigInt(Math.floor(rand() * 300_000)),
      () => M64 - small(),
    ])();
    const dirty = pick([0n, 0n, 8n * BigInt(1 + Math.floor(rand() * 64)), 8n * BigInt(Math.floor(rand() * 30_000))]);
    out.push({ off, len, i, dirty });
  }
  return out;
}

function encode(list: Step[]): Uint8Array {
  const bytes = Buffer.alloc(list.length * 32);
  list.forEach((s, n) => {
    bytes.writeBigUInt64LE(s.off, n * 32);
    bytes.writeBigUInt64LE(s.len, n * 32 + 8);
    bytes.writeBigUInt64LE(s.i, n * 32 + 16);
    bytes.writeBigUInt64LE(s.dirty, n * 32 + 24);
  });
  return new Uint8Array(bytes);
}

describe(`kernel: input_load_u64 through its window equals the checked loads (${kernelPath().path} kernel)`, function () {
  this.timeout(60_000);
  let file: string;
  before(async () => {
    file = writeModule('kernel_input', await assemble(WAT));
  });
  after(closeHosts);

  it('40 seeds × 400 steps, over memory the last call left dirty and grew: no difference', async () => {
    const host = startHost({ logLevel: 'error' });
    const p = await host.register(file);
    let compared = 0;
    for (let seed = 1; seed <= 40; seed++) {
      // the last call's bytes past the top, over pages it grew
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(8 * Math.floor(prng(seed)() * 40_000)));
      await host.call(p.id, 'dirty', new Uint8Array(size));
      const list = steps(seed, 400);
      const out = Buffer.from(await host.call(p.id, 'probe', encode(list)));
      const bad = out.readBigUInt64LE(0);
      const at = Number(out.readBigUInt64LE(8));
      assert.equal(bad, 0n, `seed ${seed}: ${bad} differences, the first at step ${at} ${JSON.stringify(list[at], (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}: input load 0x${out.readBigUInt64LE(16).toString(16)}, checked load 0x${out.readBigUInt64LE(24).toString(16)}`);
      compared += list.length;
    }
    assert.equal(compared, 16_000);
  });

  it('an input its plugin freed (at the top) reads as zeros through both loads', async () => {
    const host = startHost({ logLevel: 'error' });
    const p = await host.register(file);
    for (const n of [16, 24, 4096, 70_000]) {
      const out = Buffer.from(await host.call(p.id, 'free_input', new Uint8Array(n).fill(0x5c)));
      assert.equal(out.readBigUInt64LE(0), 0x5c5c5c5c5c5c5c5cn, `${n} bytes: the input before the free`);
      assert.equal(out.readBigUInt64LE(8), 0n, `${n} bytes: the input after the free`);
    }
  });

  it('an input across the end of memory reads the bytes memory grows to hold', async () => {
    const host = startHost({ logLevel: 'error' });
    const p = await host.register(file);
    // this call's input (8 bytes) is the block at 80, so the heap top is 88: a block of 65,432 bytes
    // (its header at 88) ends where the first page does, with the top there
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(65_536n - 88n - 16n);
    const out = Buffer.from(await host.call(p.id, 'at_memory_end', new Uint8Array(size)));
    assert.equal(out.readBigUInt64LE(0), 0x1122334455667788n, 'the input inside memory');
    assert.equal(out.readBigUInt64LE(8), 0x0102030405060708n, 'the input in the page grown since');
  });
});
