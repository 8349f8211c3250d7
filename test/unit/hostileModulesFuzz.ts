import { prng } from './hostileInput';

export type Mutation = 'flip' | 'insert' | 'delete' | 'huge-leb' | 'truncate';
export const MUTATIONS: readonly Mutation[] = ['flip', 'insert', 'delete', 'huge-leb', 'truncate'];

/** Byte offsets of the sections of a module (id byte, then its size), as far as they parse. */
function sectionStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    starts.push(pos);
    pos++;
    let size = 0;
    for (let shift = 0; pos < bytes.length; shift += 7) {
      const b = bytes[pos++];
      size += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) break;
    }
    pos += size;
  }
  return starts;
}

const HUGE_LEB = [0xff, 0xff, 0xff, 0xff, 0x0f];

/** One seeded mutation of a module: the same seed gives the same bytes. */
export function mutate(original: Uint8Array, kind: Mutation, seed: number): Uint8Array {
  const rand = prng(seed);
  const at = (n: number) => Math.floor(rand() * n);
  const bytes = [...original];
  switch (kind) {
    case 'flip':
      for (let i = 1 + at(4); i > 0; i--) bytes[at(bytes.length)] ^= 1 << at(8);
      break;
    case 'insert':
      bytes.splice(at(bytes.length), 0, ...Array.from({ length: 1 + at(8) }, () => at(256)));
      break;
    case 'delete':
      bytes.splice(8 + at(bytes.length - 8), 1 + at(8));
      break;
    case 'huge-leb': {
      // a section's size, or the first count in it, claims 2^32-1
      const starts = sectionStarts(original);
      const s = starts[at(starts.length)] ?? 8;
      const sizeLen = lebLength(original, s + 1);
      if (rand() < 0.5) bytes.splice(s + 1, sizeLen, ...HUGE_LEB);
      else bytes.splice(s + 1 + sizeLen, lebLength(original, s + 1 + sizeLen), ...HUGE_LEB);
      break;
    }
    case 'truncate':
      bytes.length = at(bytes.length);
      break;
  }
  return Uint8Array.from(bytes);
}

function lebLength(bytes: Uint8Array, pos: number): number {
  let n = 1;
  while (pos < bytes.length && bytes[pos] & 0x80 && n < 10) {
    pos++;
    n++;
  }
  return n;
}
