// asc-options: --runtime stub --use abort=
// imports: none
//
// vowels_raw: NOT an Extism plugin. Plain wasm with no imports at all: the benchmark's
// floor for count_vowels (same byte loop, default vowel set "aeiouAEIOU", same JSON).
//
// export alloc(len: i32): i32   address of a reusable input buffer of >= len bytes
//                               (grows as needed; may grow memory: refresh views)
// export count(ptr: i32, len: i32): i32
//                               counts the vowels in ptr[0..len), adds them to a
//                               running total kept in the instance, writes
//                               {"count":N,"total":T,"vowels":"aeiouAEIOU"} to the
//                               output buffer and returns N
// export output_ptr(): i32      address of that JSON
// export output_len(): i32      its length in bytes
// Built with the stub runtime (never frees) and `--use abort=` (aborts just trap).

import { DEFAULT_VOWELS, countBytes, fillTableAscii, writeJsonAscii } from "./lib/vowels";

const table = memory.data(256);
const out = memory.data(128); // JSON for the default set is at most 85 bytes
let ready = false;
let outLen: i32 = 0;
let buf: usize = 0;
let cap: usize = 0;
let total: u64 = 0;

export function alloc(len: i32): i32 {
  const want = <usize>max(len, 16);
  if (want > cap) {
    let size = cap == 0 ? <usize>65536 : cap;
    while (size < want) size <<= 1;
    buf = buf == 0 ? heap.alloc(size) : heap.realloc(buf, size);
    cap = size;
  }
  return <i32>buf;
}

export function count(ptr: i32, len: i32): i32 {
  if (!ready) {
    fillTableAscii(table, DEFAULT_VOWELS);
    ready = true;
  }
  const n = countBytes(table, <usize>ptr, <usize>len);
  total += n;
  outLen = <i32>(writeJsonAscii(out, n, total, DEFAULT_VOWELS) - out);
  return <i32>n;
}

export function output_ptr(): i32 {
  return <i32>out;
}

export function output_len(): i32 {
  return outLen;
}
