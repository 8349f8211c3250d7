// Fast byte movement between this module's memory and Extism memory (the kernel's
// blocks, addressed by u64 offsets), plus UTF-8-correct input/output helpers.
//
// Bulk copies go 8 bytes per host call (load_u64 / store_u64 / input_load_u64) and
// finish with single bytes for the tail; nothing is copied byte by byte in bulk.
// The extism:host/env imports are the ones declared by @extism/as-pdk (lib/env.ts),
// so a plugin that also uses as-pdk's Config/Var gets each import exactly once.

import {
  alloc,
  error_set,
  free as extismFree,
  input_length,
  input_load_u64,
  input_load_u8,
  length,
  load_u64,
  load_u8,
  output_set,
  store_u64,
  store_u8,
} from "@extism/as-pdk/lib/env";

export { alloc, length, output_set, input_length, input_load_u64, input_load_u8 };

/** Frees an Extism block; offset 0 (no block, e.g. an empty alloc) is ignored. */
export function free(offset: u64): void {
  if (offset != 0) extismFree(offset);
}

// ---------------------------------------------------------------- raw copies

/** Copies `len` bytes from Extism offset `src` to linear-memory address `dst`. */
// @ts-ignore: decorator
@inline
export function copyFromExtism(src: u64, dst: usize, len: usize): void {
  let i: usize = 0;
  const n8 = len & ~(<usize>7);
  for (; i < n8; i += 8) store<u64>(dst + i, load_u64(src + <u64>i));
  for (; i < len; i++) store<u8>(dst + i, load_u8(src + <u64>i));
}

/** Copies `len` bytes from linear-memory address `src` to Extism offset `dst`. */
// @ts-ignore: decorator
@inline
export function copyToExtism(src: usize, dst: u64, len: usize): void {
  let i: usize = 0;
  const n8 = len & ~(<usize>7);
  for (; i < n8; i += 8) store_u64(dst + <u64>i, load<u64>(src + i));
  for (; i < len; i++) store_u8(dst + <u64>i, load<u8>(src + i));
}

/** Copies input bytes [start, start+len) to linear-memory address `dst`. */
export function copyInput(start: u64, dst: usize, len: usize): void {
  let i: usize = 0;
  const n8 = len & ~(<usize>7);
  for (; i < n8; i += 8) store<u64>(dst + i, input_load_u64(start + <u64>i));
  for (; i < len; i++) store<u8>(dst + i, input_load_u8(start + <u64>i));
}

function checkedLength(len: u64): i32 {
  if (len > <u64>i32.MAX_VALUE) abort("block too large for this plugin's memory");
  return <i32>len;
}

// ---------------------------------------------------------------- blocks

/** Bytes of the Extism block at `offset` (offset 0 = no block = empty). */
export function readBlock(offset: u64): Uint8Array {
  if (offset == 0) return new Uint8Array(0);
  const len = checkedLength(length(offset));
  const out = new Uint8Array(len);
  copyFromExtism(offset, out.dataStart, <usize>len);
  return out;
}

/** Allocates an Extism block holding `len` bytes from address `ptr`; returns its offset. */
export function writeBytes(ptr: usize, len: usize): u64 {
  const offset = alloc(<u64>len);
  if (len != 0 && offset == 0) abort("extism alloc failed");
  copyToExtism(ptr, offset, len);
  return offset;
}

/** Allocates an Extism block holding `bytes`; returns its offset. */
export function writeBlock(bytes: Uint8Array): u64 {
  return writeBytes(bytes.dataStart, <usize>bytes.length);
}

/** Allocates an Extism block holding `s` encoded as UTF-8 (no terminator). */
export function writeString(s: string): u64 {
  const buf = String.UTF8.encode(s);
  return writeBytes(changetype<usize>(buf), <usize>buf.byteLength);
}

/** Copies input bytes [start, start+len) into a new Extism block, without an
 *  intermediate copy in this module's memory. */
export function inputRangeToBlock(start: u64, len: u64): u64 {
  const offset = alloc(len);
  if (len != 0 && offset == 0) abort("extism alloc failed");
  let i: u64 = 0;
  const n8 = len & ~(<u64>7);
  for (; i < n8; i += 8) store_u64(offset + i, input_load_u64(start + i));
  for (; i < len; i++) store_u8(offset + i, input_load_u8(start + i));
  return offset;
}

/** The whole input copied into a new Extism block. */
export function inputToBlock(): u64 {
  return inputRangeToBlock(0, input_length());
}

// ---------------------------------------------------------------- input / output

/** Input length in bytes. */
export function inputLength(): u64 {
  return input_length();
}

/** The call's input bytes. */
export function input(): Uint8Array {
  const len = checkedLength(input_length());
  const out = new Uint8Array(len);
  copyInput(0, out.dataStart, <usize>len);
  return out;
}

/** The call's input decoded as UTF-8. */
export function inputString(): string {
  const len = checkedLength(input_length());
  const buf = new ArrayBuffer(len);
  copyInput(0, changetype<usize>(buf), <usize>len);
  return String.UTF8.decode(buf);
}

/** Sets the output to `len` bytes at address `ptr`. */
export function outputBytes(ptr: usize, len: usize): void {
  output_set(writeBytes(ptr, len), <u64>len);
}

/** Sets the output to `bytes`. */
export function output(bytes: Uint8Array): void {
  outputBytes(bytes.dataStart, <usize>bytes.length);
}

/** Sets the output to `s` as UTF-8 (the length is the UTF-8 length, unlike
 *  as-pdk 1.0.0's Host.outputString, which passes the UTF-16 length). */
export function outputString(s: string): void {
  const buf = String.UTF8.encode(s);
  outputBytes(changetype<usize>(buf), <usize>buf.byteLength);
}

/** Makes an existing Extism block the output (no copy). Offset 0 = empty output. */
export function outputBlock(offset: u64): void {
  output_set(offset, offset == 0 ? 0 : length(offset));
}

/** Sets the call's error message (the export should then return non-zero). */
export function setError(message: string): void {
  error_set(writeString(message));
}

// ---------------------------------------------------------------- small parsers

/** Parses the input as a decimal u64 (ASCII digits, surrounding whitespace allowed).
 *  Returns -1 (as i64) if it is not one. */
export function inputDecimal(): i64 {
  const len = input_length();
  let v: u64 = 0;
  let digits = 0;
  let i: u64 = 0;
  while (i < len && isSpace(input_load_u8(i))) i++;
  for (; i < len; i++) {
    const c = <u32>input_load_u8(i);
    if (c < 48 || c > 57) break;
    if (v > 99999999999999999) return -1; // would overflow i64
    v = v * 10 + <u64>(c - 48);
    digits++;
  }
  while (i < len && isSpace(input_load_u8(i))) i++;
  if (digits == 0 || i != len) return -1;
  return <i64>v;
}

function isSpace(c: u8): bool {
  return c == 32 || c == 9 || c == 10 || c == 13;
}

/** The input followed by the UTF-8 bytes of `suffix`, in a new Extism block. */
export function inputToBlockWithSuffix(suffix: string): u64 {
  const len = input_length();
  const tail = String.UTF8.encode(suffix);
  const tailLen = <u64>tail.byteLength;
  const offset = alloc(len + tailLen);
  if (len + tailLen != 0 && offset == 0) abort("extism alloc failed");
  let i: u64 = 0;
  const n8 = len & ~(<u64>7);
  for (; i < n8; i += 8) store_u64(offset + i, input_load_u64(i));
  for (; i < len; i++) store_u8(offset + i, input_load_u8(i));
  copyToExtism(changetype<usize>(tail), offset + len, <usize>tailLen);
  return offset;
}
