import { PluginError } from '../model/errors';

/**
 * Caps the linear memory a module defines at `maxPages`, by rewriting the limits of its memory
 * section, so `memory.grow` past the limit fails inside the plugin (as in Extism's runtime) instead
 * of growing the host. A module whose initial memory is already larger is refused.
 */
export function limitMemory(bytes: Uint8Array, maxPages: number, label: string): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return bytes;
  let pos = 8;
  const readLeb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const sectionStart = pos;
    const id = bytes[pos++];
    const size = readLeb();
    const contentStart = pos;
    if (id !== 5) {
      pos = contentStart + size;
      continue;
    }
    const count = readLeb();
    const limits: number[] = [];
    for (let i = 0; i < count; i++) {
      const flags = bytes[pos++];
      if (flags & 0x04) return bytes; // memory64: left as it is
      const min = readLeb();
      const max = flags & 0x01 ? readLeb() : undefined;
      if (min > maxPages) {
        throw new PluginError(`${label}: its memory starts at ${min} pages, over the limit of ${maxPages} pages (memory.max_pages)`);
      }
      limits.push(flags | 0x01, min, Math.min(max ?? maxPages, maxPages));
    }
    const content: number[] = [...leb(count)];
    for (let i = 0; i < limits.length; i += 3) content.push(limits[i], ...leb(limits[i + 1]), ...leb(limits[i + 2]));
    const section = [5, ...leb(content.length), ...content];
    const out = new Uint8Array(bytes.length - (contentStart + size - sectionStart) + section.length);
    out.set(bytes.subarray(0, sectionStart), 0);
    out.set(section, sectionStart);
    out.set(bytes.subarray(contentStart + size), sectionStart + section.length);
    return out;
  }
  return bytes;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
