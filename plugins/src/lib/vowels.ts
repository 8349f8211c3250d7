// Vowel counting shared by count_vowels (Extism plugin) and vowels_raw (plain wasm,
// the benchmark's floor). Pure code: no imports, no heap allocation.
//
// The vowel set is a set of BYTES: each byte of the configured string counts as a
// vowel (ASCII vowels work as expected; a multi-byte UTF-8 character would add each
// of its bytes to the set, so non-ASCII vowel sets are not supported).

export const DEFAULT_VOWELS = "aeiouAEIOU";

/** Fills the 256-byte table at `table`: 1 for each byte in set[0..len), else 0. */
export function fillTable(table: usize, set: usize, len: usize): void {
  memory.fill(table, 0, 256);
  for (let i: usize = 0; i < len; i++) store<u8>(table + <usize>load<u8>(set + i), 1);
}

/** Fills the table from an ASCII string literal (e.g. DEFAULT_VOWELS). */
export function fillTableAscii(table: usize, set: string): void {
  memory.fill(table, 0, 256);
  for (let i = 0, n = set.length; i < n; i++) store<u8>(table + <usize>(set.charCodeAt(i) & 0xff), 1);
}

/** Vowels among the 8 bytes of `w`. */
// @ts-ignore: decorator
@inline
export function countWord(table: usize, w: u64): u32 {
  return <u32>load<u8>(table + <usize>(w & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 8) & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 16) & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 24) & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 32) & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 40) & 0xff))
    + <u32>load<u8>(table + <usize>((w >> 48) & 0xff))
    + <u32>load<u8>(table + <usize>(w >> 56));
}

/** Vowels among the bytes ptr[0..len). */
export function countBytes(table: usize, ptr: usize, len: usize): u64 {
  let n: u64 = 0;
  let i: usize = 0;
  const n8 = len & ~(<usize>7);
  for (; i < n8; i += 8) n += <u64>countWord(table, load<u64>(ptr + i));
  for (; i < len; i++) n += <u64>load<u8>(table + <usize>load<u8>(ptr + i));
  return n;
}

/** Upper bound of the JSON's size for a vowel set of `setLen` bytes. */
export function jsonMaxLength(setLen: usize): usize {
  return 64 + 6 * setLen;
}

function putAscii(p: usize, s: string): usize {
  for (let i = 0, n = s.length; i < n; i++) store<u8>(p++, <u8>s.charCodeAt(i));
  return p;
}

function putU64(p: usize, v: u64): usize {
  let n: usize = 1;
  let t = v;
  while (t >= 10) { t /= 10; n++; }
  let q = p + n;
  do {
    store<u8>(--q, <u8>(48 + <u32>(v % 10)));
    v /= 10;
  } while (v != 0);
  return p + n;
}

const HEX = "0123456789abcdef";

/** Writes set[0..len) as a JSON string body (quotes, backslashes and control bytes
 *  escaped; other bytes copied as they are). */
function putJsonBody(p: usize, set: usize, len: usize): usize {
  for (let i: usize = 0; i < len; i++) {
    const c = <u32>load<u8>(set + i);
    if (c == 34 || c == 92) {
      store<u8>(p++, 92);
      store<u8>(p++, <u8>c);
    } else if (c < 0x20) {
      p = putAscii(p, "\\u00");
      store<u8>(p++, <u8>HEX.charCodeAt(c >> 4));
      store<u8>(p++, <u8>HEX.charCodeAt(c & 15));
    } else {
      store<u8>(p++, <u8>c);
    }
  }
  return p;
}

/** Writes {"count":N,"total":T,"vowels":"..."} at `dst` (at most
 *  jsonMaxLength(setLen) bytes); returns the end address. */
export function writeJson(dst: usize, count: u64, total: u64, set: usize, setLen: usize): usize {
  let p = putAscii(dst, "{\"count\":");
  p = putU64(p, count);
  p = putAscii(p, ",\"total\":");
  p = putU64(p, total);
  p = putAscii(p, ",\"vowels\":\"");
  p = putJsonBody(p, set, setLen);
  return putAscii(p, "\"}");
}

/** Same, with an ASCII string literal as the set. */
export function writeJsonAscii(dst: usize, count: u64, total: u64, set: string): usize {
  let p = putAscii(dst, "{\"count\":");
  p = putU64(p, count);
  p = putAscii(p, ",\"total\":");
  p = putU64(p, total);
  p = putAscii(p, ",\"vowels\":\"");
  for (let i = 0, n = set.length; i < n; i++) {
    const c = set.charCodeAt(i);
    if (c == 34 || c == 92) store<u8>(p++, 92);
    store<u8>(p++, <u8>c);
  }
  return putAscii(p, "\"}");
}
