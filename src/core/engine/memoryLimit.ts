import { ModuleEnded, ModuleReader } from './moduleReader';

/**
 * Caps the linear memory a module defines at `maxPages`, by rewriting the limits of its memory
 * section, so `memory.grow` past the limit fails inside the plugin (as in Extism's runtime) instead
 * of growing the host. As in Extism, a module whose memory starts above the limit still loads: it
 * keeps its initial size and cannot grow (the limit bounds growth, never the initial size).
 *
 * Only a module `WebAssembly.validate` accepted comes here, and still every count and length read
 * is bounded by the bytes that remain, so no claim in the module sizes an allocation.
 */
export function limitMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  try {
    return rewriteMemorySection(bytes, maxPages);
  } catch (error) {
    // a module that ends where a count says more follows is left to the compiler to name
    if (error instanceof ModuleEnded) return bytes;
    throw error;
  }
}

function rewriteMemorySection(bytes: Uint8Array, maxPages: number): Uint8Array {
  const reader = new ModuleReader(bytes);
  if (!reader.hasHeader()) return bytes;
  while (!reader.atEnd()) {
    const sectionStart = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const contentStart = reader.pos;
    const contentEnd = contentStart + size;
    if (contentEnd > bytes.length) return bytes; // the compiler names the fault
    if (id !== 5) {
      reader.pos = contentEnd;
      continue;
    }
    const count = reader.u32();
    // each memory takes at least two bytes (flags and minimum)
    if (count * 2 > contentEnd - reader.pos) return bytes;
    const limits: { flags: number; min: number; max: number }[] = [];
    for (let i = 0; i < count; i++) {
      const flags = reader.byte();
      if (flags & 0x04) return bytes; // memory64: left as it is
      const min = reader.u32();
      const max = flags & 0x01 ? reader.u32() : undefined;
      const cap = Math.max(min, maxPages);
      limits.push({ flags: flags | 0x01, min, max: Math.min(max ?? cap, cap) });
    }
    const content: number[] = [...leb(count)];
    for (const l of limits) content.push(l.flags, ...leb(l.min), ...leb(l.max));
    const section = [5, ...leb(content.length), ...content];
    const out = new Uint8Array(bytes.length - (contentEnd - sectionStart) + section.length);
    out.set(bytes.subarray(0, sectionStart), 0);
    out.set(section, sectionStart);
    out.set(bytes.subarray(contentEnd), sectionStart + section.length);
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
