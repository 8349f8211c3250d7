import { at, ENV, KernelParts, Section } from './kernelParts';
import { ModuleEnded } from './moduleReader';
import { IndexMap, rewriteCode, skipValType, Unmergeable } from './wasmCode';
import { WasmWriter } from './wasmWriter';

// The sections of a plugin module that name functions by index, remapped for a merge: elements and names.

/** An element section with its function indices remapped. */
export function rewriteElements(bytes: Uint8Array, s: Section, map: IndexMap): WasmWriter {
  const r = at(bytes, s.start, s.end);
  const w = new WasmWriter();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    w.u32(flags);
    if (flags > 7) throw new Unmergeable(`an element segment of kind ${flags}`);
    const copyFrom = (start: number) => w.bytes(bytes.subarray(start, r.pos));
    if (flags === 2 || flags === 6) w.u32(r.u32()); // table
    if (!(flags & 1)) rewriteCode(bytes, r, -1, w, map); // active: offset
    if (flags & 4) {
      if (flags !== 4) {
        const start = r.pos;
        skipValType(r);
        copyFrom(start);
      }
      const count = r.u32();
      w.u32(count);
      for (let j = 0; j < count; j++) rewriteCode(bytes, r, -1, w, map);
    } else {
      if (flags !== 0) w.byte(r.byte()); // elemkind
      const count = r.u32();
      if (count > r.end - r.pos) throw new ModuleEnded();
      w.u32(count);
      for (let j = 0; j < count; j++) w.u32(map.func(r.u32()));
    }
  }
  return w;
}

/**
 * The name section with function indices remapped (function, local and label names), the kernel's
 * exported functions named `extism:host/env.<name>`; null (dropped) when it cannot be read.
 */
export function rewriteNames(bytes: Uint8Array, s: Section, map: IndexMap, dropped: (index: number) => boolean, k: KernelParts, kernelMap: IndexMap): Uint8Array | null {
  try {
    const r = at(bytes, s.start, s.end);
    const w = new WasmWriter();
    while (!r.atEnd()) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (end > s.end) return null;
      if (id < 1 || id > 3) {
        w.byte(id);
        w.u32(size);
        w.bytes(bytes.subarray(r.pos, end));
        r.pos = end;
        continue;
      }
      const n = r.u32();
      const entries: { index: number; bytes: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) {
        const old = r.u32();
        const start = r.pos;
        if (id === 1) r.name();
        else {
          const m = r.u32();
          for (let j = 0; j < m; j++) {
            r.u32();
            r.name();
          }
        }
        // a merged import's name goes; the map keeps the order of the rest
        if (!dropped(old)) entries.push({ index: map.func(old), bytes: bytes.subarray(start, r.pos) });
      }
      if (r.pos !== end) return null;
      if (id === 1) {
        for (const e of k.exports) {
          const text = new WasmWriter();
          text.name(`${ENV}.${e.name}`);
          entries.push({ index: kernelMap.func(e.func), bytes: text.done() });
        }
      }
      const seen = new Set<number>();
      const ordered = entries.filter((e) => !seen.has(e.index) && seen.add(e.index)).sort((a, b) => a.index - b.index);
      const sub = new WasmWriter();
      sub.u32(ordered.length);
      for (const e of ordered) {
        sub.u32(e.index);
        sub.bytes(e.bytes);
      }
      w.section(id, sub);
    }
    return w.done();
  } catch (error) {
    if (error instanceof Unmergeable || error instanceof ModuleEnded) return null;
    throw error;
  }
}
