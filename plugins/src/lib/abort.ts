// Abort handler for every Extism plugin built by scripts/build-plugins.mjs
// (`--use abort=lib/abort/ipcAbort`, with this file added as an extra entry).
//
// Without it, AssemblyScript imports `env.abort`, which no Extism host provides.
// It reports "<message> (at <file>:<line>:<column>)" through Extism's `error_set`
// and then traps, so the host sees both the trap and the reason.
//
// It does not allocate on the AssemblyScript heap (abort may be raised by the
// allocator itself, e.g. on out-of-memory): the message is UTF-8 encoded straight
// into Extism memory, so it cannot recurse. (No "already aborting" flag either: a
// trap does not unwind, so such a flag would stay set for the instance's next calls.)
// Nothing here is exported: entry-file exports would become module exports.

import { alloc, error_set, store_u8 } from "@extism/as-pdk/lib/env";

// UTF-8 length of a string's UTF-16 code units (lone surrogates count as U+FFFD).
function utf8Length(s: string): u64 {
  let n: u64 = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = <u32>s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) { n += 4; i++; } else n += 3;
    } else n += 3;
  }
  return n;
}

// Writes a string as UTF-8 at `at`; returns the offset after it.
function putString(at: u64, s: string): u64 {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x80) {
      store_u8(at++, <u8>c);
    } else if (c < 0x800) {
      store_u8(at++, <u8>(0xc0 | (c >> 6)));
      store_u8(at++, <u8>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      store_u8(at++, <u8>(0xe0 | (c >> 12)));
      store_u8(at++, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store_u8(at++, <u8>(0x80 | (c & 0x3f)));
    } else {
      store_u8(at++, <u8>(0xf0 | (c >> 18)));
      store_u8(at++, <u8>(0x80 | ((c >> 12) & 0x3f)));
      store_u8(at++, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store_u8(at++, <u8>(0x80 | (c & 0x3f)));
    }
  }
  return at;
}

function digits(v: u32): u64 {
  let n: u64 = 1;
  while (v >= 10) { v /= 10; n++; }
  return n;
}

function putDecimal(at: u64, v: u32): u64 {
  const n = digits(v);
  let p = at + n;
  do {
    store_u8(--p, <u8>(48 + v % 10));
    v /= 10;
  } while (v != 0);
  return at + n;
}

// Same signature and defaults as the built-in `abort`, so `abort("msg")` works too.
function ipcAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  const msg = message !== null ? message : "abort";
  let total = utf8Length(msg);
  if (fileName !== null) {
    // " (at " + file + ":" + line + ":" + column + ")"
    total += 5 + utf8Length(fileName) + 1 + digits(line) + 1 + digits(column) + 1;
  }
  const offset = alloc(total);
  if (offset != 0) {
    let p = putString(offset, msg);
    if (fileName !== null) {
      p = putString(p, " (at ");
      p = putString(p, fileName);
      p = putString(p, ":");
      p = putDecimal(p, line);
      p = putString(p, ":");
      p = putDecimal(p, column);
      putString(p, ")");
    }
    error_set(offset);
  }
  unreachable();
}
