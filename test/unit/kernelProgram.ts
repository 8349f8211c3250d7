import { ENV_IMPORTS } from './wat';

/**
 * A plugin that interprets its input as a program of kernel calls, and the generator of such
 * programs for the kernel differential fuzz. Handles live in slots and are never shown: engines
 * give different offsets, so only lengths, bytes and outcomes are compared.
 *
 * The generator keeps a shadow of each slot so that it knows, for each program, which edges of the
 * memory model it touches; a difference between engines must be explained by one of them.
 */
export const OP = {
  alloc: 0, free: 1, length: 2, lengthUnsafe: 3, store8: 4, load8: 5, store64: 6, load64: 7,
  inputLength: 8, inputLoad8: 9, inputLoad64: 10, output: 11, error: 12, varSet: 13, varGet: 14,
  configGet: 15, log: 16, key: 17, varDelete: 18,
} as const;

export const INTERPRETER_WAT = `(module
  ${ENV_IMPORTS}
  (memory (export "memory") 2)
  (global $pc (mut i64) (i64.const 0))
  (global $t (mut i32) (i32.const 0))
  (func $u8 (result i32)
    (call $input_load_u8 (global.get $pc))
    (global.set $pc (i64.add (global.get $pc) (i64.const 1))))
  (func $u16 (result i64)
    (i64.or (i64.extend_i32_u (call $u8)) (i64.shl (i64.extend_i32_u (call $u8)) (i64.const 8))))
  (func $slot (result i32) (i32.shl (i32.and (call $u8) (i32.const 7)) (i32.const 3)))
  (func $get (param $s i32) (result i64) (i64.load (local.get $s)))
  (func $emit (param $v i64)
    (i64.store (i32.add (i32.const 1024) (global.get $t)) (local.get $v))
    (global.set $t (i32.add (global.get $t) (i32.const 8))))
  (func (export "run") (result i32)
    (local $op i32) (local $s i32) (local $d i32) (local $n i64) (local $i i64) (local $p i64) (local $out i32)
    (global.set $pc (i64.const 0))
    (global.set $t (i32.const 0))
    (block $end (loop $step
      (br_if $end (i64.ge_u (global.get $pc) (call $input_length)))
      (local.set $op (call $u8))
      (block $next
        (if (i32.eq (local.get $op) (i32.const 0)) (then
          (local.set $s (call $slot))
          (i64.store (local.get $s) (call $alloc (call $u16))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 1)) (then (call $free (call $get (call $slot))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 2)) (then (call $emit (call $length (call $get (call $slot)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 3)) (then (call $emit (call $length_unsafe (call $get (call $slot)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 4)) (then
          (local.set $p (call $get (call $slot)))
          (local.set $p (i64.add (local.get $p) (call $u16)))
          (call $store_u8 (local.get $p) (call $u8)) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 5)) (then
          (local.set $p (call $get (call $slot)))
          (call $emit (i64.extend_i32_u (call $load_u8 (i64.add (local.get $p) (call $u16))))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 6)) (then
          (local.set $p (call $get (call $slot)))
          (local.set $p (i64.add (local.get $p) (call $u16)))
          (call $store_u64 (local.get $p) (call $input_load_u64 (global.get $pc)))
          (global.set $pc (i64.add (global.get $pc) (i64.const 8))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 7)) (then
          (local.set $p (call $get (call $slot)))
          (call $emit (call $load_u64 (i64.add (local.get $p) (call $u16)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 8)) (then (call $emit (call $input_length)) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 9)) (then (call $emit (i64.extend_i32_u (call $input_load_u8 (call $u16)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 10)) (then (call $emit (call $input_load_u64 (call $u16))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 11)) (then
          (local.set $p (call $get (call $slot)))
          (call $output_set (local.get $p) (call $u16))
          (local.set $out (i32.const 1)) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 12)) (then (call $error_set (call $get (call $slot))) (return (i32.const 1))))
        (if (i32.eq (local.get $op) (i32.const 13)) (then
          (local.set $s (call $slot))
          (call $var_set (call $get (local.get $s)) (call $get (call $slot))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 14)) (then
          (local.set $s (call $slot)) (local.set $d (call $slot))
          (i64.store (local.get $d) (call $var_get (call $get (local.get $s))))
          (call $emit (call $length (call $get (local.get $d)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 15)) (then
          (local.set $s (call $slot)) (local.set $d (call $slot))
          (i64.store (local.get $d) (call $config_get (call $get (local.get $s))))
          (call $emit (call $length (call $get (local.get $d)))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 16)) (then (call $log_info (call $get (call $slot))) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 17)) (then
          (local.set $s (call $slot))
          (i64.store (local.get $s) (call $alloc (i64.const 1)))
          (call $store_u8 (call $get (local.get $s)) (call $u8)) (br $next)))
        (if (i32.eq (local.get $op) (i32.const 18)) (then (call $var_set (call $get (call $slot)) (i64.const 0)) (br $next)))
        (unreachable))
      (br $step)))
    (if (local.get $out) (then (return (i32.const 0))))
    ;; no output set: the trace of emitted values is the output
    (local.set $p (call $alloc (i64.extend_i32_u (global.get $t))))
    (local.set $i (i64.const 0))
    (block $done (loop $copy
      (br_if $done (i64.ge_u (local.get $i) (i64.extend_i32_u (global.get $t))))
      (call $store_u8 (i64.add (local.get $p) (local.get $i))
        (i32.load8_u (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $copy)))
    (call $output_set (local.get $p) (i64.extend_i32_u (global.get $t)))
    (i32.const 0))
)`;

/** The edges of the memory model a program can touch, where the engines are known to differ. */
export type Edge =
  | 'out-of-block'
  | 'zero-length-block'
  | 'use-after-free'
  | 'null-handle'
  | 'past-input'
  | 'freed-by-sdk'
  | 'output-freed'
  | 'output-shorter-than-block';

type Slot = { state: 'live' | 'freed' | 'zero' | 'null' | 'sdk-freed'; size: number; isOutput: boolean };

export interface Program {
  bytes: Uint8Array;
  /** Edges in the order the program reaches them (a program can stop earlier on an error). */
  edges: Edge[];
  calls: number;
}

/** The config the fuzzed plugin gets on both engines: keys "a" and "b". */
export const FUZZ_CONFIG = { a: 'alpha', b: 'a longer config value' };

export function generate(rand: () => number): Program {
  const out: number[] = [];
  const edges: Edge[] = [];
  const slots: Slot[] = [];
  const vars = new Map<number, number>();
  const pastInput: { at: number; width: number }[] = [];
  let calls = 0;
  const int = (n: number) => Math.floor(rand() * n);
  const u16 = (v: number) => out.push(v & 0xff, (v >> 8) & 0xff);
  const edge = (e: Edge) => edges.push(e);
  const touch = (s: Slot) => {
    if (s.state === 'freed') edge('use-after-free');
    else if (s.state === 'zero') edge('zero-length-block');
    else if (s.state === 'null') edge('null-handle');
    else if (s.state === 'sdk-freed') edge('freed-by-sdk');
  };
  const alloc = (s: number, size: number) => {
    out.push(OP.alloc, s);
    u16(size);
    slots[s] = { state: size === 0 ? 'zero' : 'live', size, isOutput: false };
    calls++;
  };
  const key = (s: number, k: number) => {
    out.push(OP.key, s, k);
    slots[s] = { state: 'live', size: 1, isOutput: false };
    calls += 2;
  };
  // a clean start: every slot a block, no vars left from an earlier program
  for (let k = 0; k < 3; k++) {
    key(7, 0x61 + k);
    out.push(OP.varDelete, 7);
    calls++;
  }
  for (let s = 0; s < 8; s++) alloc(s, rand() < 0.03 ? 0 : 1 + int(48));
  const offset = (slot: Slot, width: number) => {
    const r = rand();
    const off = r < 0.88 ? int(Math.max(1, slot.size - width + 1)) : r < 0.97 ? slot.size + int(16) : int(0xffff);
    if (slot.state === 'live' && off + width > slot.size) edge('out-of-block');
    return off;
  };
  const ops = 5 + int(30);
  for (let i = 0; i < ops; i++) {
    const s = int(8);
    const slot = slots[s];
    const r = int(100);
    calls++;
    if (r < 10) alloc(s, rand() < 0.05 ? 0 : 1 + int(r < 2 ? 4000 : 64));
    else if (r < 16) {
      out.push(OP.free, s);
      touch(slot);
      if (slot.state === 'live' && slot.isOutput) edge('output-freed');
      if (slot.state === 'live') slot.state = 'freed';
    } else if (r < 22) {
      out.push(rand() < 0.5 ? OP.length : OP.lengthUnsafe, s);
      touch(slot);
    } else if (r < 34) {
      touch(slot);
      out.push(OP.store8, s);
      u16(offset(slot, 1));
      out.push(int(256));
    } else if (r < 44) {
      touch(slot);
      out.push(OP.load8, s);
      u16(offset(slot, 1));
    } else if (r < 52) {
      touch(slot);
      out.push(OP.store64, s);
      u16(offset(slot, 8));
      // the value is read from the input at the pc: past the end when the program ends here
      for (let b = 0; b < 8; b++) out.push(int(256));
    } else if (r < 60) {
      touch(slot);
      out.push(OP.load64, s);
      u16(offset(slot, 8));
    } else if (r < 63) out.push(OP.inputLength);
    else if (r < 68) {
      const wide = rand() < 0.5;
      out.push(wide ? OP.inputLoad64 : OP.inputLoad8);
      const at = rand() < 0.9 ? int(out.length) : out.length + int(64);
      u16(at);
      pastInput.push({ at, width: wide ? 8 : 1 });
    } else if (r < 72) {
      const k = int(3);
      key(s, 0x61 + k);
      const v = int(8);
      if (v === s) continue;
      out.push(OP.varSet, s, v);
      touch(slots[v]);
      if (slots[v].state === 'live') vars.set(k, slots[v].size);
      else vars.delete(k);
      calls--;
    } else if (r < 78) {
      const k = int(3);
      key(s, 0x61 + k);
      const d = (s + 1 + int(7)) % 8;
      out.push(rand() < 0.5 ? OP.varGet : OP.configGet, s, d);
      const isVar = out[out.length - 3] === OP.varGet;
      const size = isVar ? vars.get(k) : [5, 21][k];
      slots[s].state = 'sdk-freed';
      slots[d] = { state: size ? 'live' : 'null', size: size ?? 0, isOutput: false };
      if (!size) edge('null-handle'); // its length is emitted at once
      calls++;
    } else if (r < 82) {
      out.push(OP.log, s);
      touch(slot);
      if (slot.state === 'live') slot.state = 'sdk-freed';
    } else if (r < 90) {
      touch(slot);
      out.push(OP.output, s);
      const length = rand() < 0.85 ? int(slot.size + 1) : slot.size + 1 + int(8);
      if (slot.state === 'live' && length < slot.size) edge('output-shorter-than-block');
      u16(length);
      for (const o of slots) o.isOutput = false;
      slot.isOutput = true;
    } else if (r < 92) {
      touch(slot);
      out.push(OP.error, s);
      break;
    } else {
      key(s, 0x61 + int(3));
    }
  }
  const bytes = Uint8Array.from(out);
  for (const p of pastInput) if (p.at + p.width > bytes.byteLength) edges.push('past-input');
  return { bytes, edges, calls };
}
