// memory_hog: exhausts memory, to test the host's limits.
//
// export grow(): input ignored. memory.grow(16) (1 MiB) in a loop, writing one byte in
//   each new 64 KiB page, until memory.grow returns -1, then memory.grow(1) until that
//   returns -1 too (so the last 1-15 pages below the limit are taken as well); outputs
//   "stopped at <pages> pages" with memory.size() at that point, i.e. the limit: e.g.
//   "stopped at 1024 pages" under a 1024-page (64 MiB) limit on linear memory (the
//   module's memory has no maximum of its own). The output is built in a static buffer: the
//   AssemblyScript heap cannot grow any more afterwards, so a later call of this
//   instance that needs a larger heap aborts with an out-of-memory message.
//   Without a limit on linear memory it grows to the engine's maximum (4 GiB).
// export alloc_extism(): input ignored. alloc(1 MiB) of Extism memory again and again,
//   never freeing, writing one byte in each block, with no end of its own: the host must
//   stop it at its Extism memory limit (e.g. this project's host traps with
//   "out of memory: ..."). A host whose alloc returns 0 instead (e.g. the JS SDK, which
//   also logs "memory limit exceeded: ...") gets, after the last block is freed to make
//   room for the message, error "alloc_extism: alloc(1048576) returned 0 after <k> MiB",
//   return 1 (<k> = blocks allocated before the failure).

import { alloc, store_u8 } from "@extism/as-pdk/lib/env";
import { free, outputBytes, setError } from "./lib/mem";

const PAGE: usize = 65536;
const STEP = 16;
const MIB: u64 = 1 << 20;

function putAscii(p: usize, s: string): usize {
  for (let i = 0, n = s.length; i < n; i++) store<u8>(p++, <u8>s.charCodeAt(i));
  return p;
}

function putU32(p: usize, v: u32): usize {
  let n: usize = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  let q = p + n;
  do {
    store<u8>(--q, <u8>(48 + v % 10));
    v /= 10;
  } while (v != 0);
  return p + n;
}

export function grow(): i32 {
  for (;;) {
    const old = memory.grow(STEP);
    if (old < 0) break;
    for (let k = 0; k < STEP; k++) store<u8>(<usize>(old + k) * PAGE, 1);
  }
  for (;;) {
    const old = memory.grow(1);
    if (old < 0) break;
    store<u8>(<usize>old * PAGE, 1);
  }
  const buf = memory.data(48);
  let p = putAscii(buf, "stopped at ");
  p = putU32(p, <u32>memory.size());
  p = putAscii(p, " pages");
  outputBytes(buf, p - buf);
  return 0;
}

export function alloc_extism(): i32 {
  let k: u64 = 0;
  let last: u64 = 0;
  let block = alloc(MIB);
  while (block != 0) {
    store_u8(block, 1);
    k++;
    last = block;
    block = alloc(MIB);
  }
  free(last); // room for the error message
  setError("alloc_extism: alloc(" + MIB.toString() + ") returned 0 after " + k.toString() + " MiB");
  return 1;
}
