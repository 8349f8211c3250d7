import { ModuleEnded, ModuleReader } from './moduleReader';

/**
 * The types of a module's function imports, read from its type and import sections, as
 * `(i64) -> i64`: what a binding is checked against (V8 reflects no import types without a flag).
 * Only a module `WebAssembly.validate` accepted comes here; every read stays inside the bytes, and a
 * form this reader does not know ends the reading, leaving those imports untyped.
 */
export function functionImportTypes(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  try {
    read(new ModuleReader(bytes), out);
  } catch (error) {
    if (!(error instanceof ModuleEnded)) throw error;
  }
  return out;
}

/** The key of an import in the map `functionImportTypes` gives. */
export function importKey(module: string, name: string): string {
  return `${module}\u0000${name}`;
}

const VALUE_TYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

function read(r: ModuleReader, out: Map<string, string>): void {
  if (!r.hasHeader()) return;
  const types: string[] = [];
  while (r.pos < r.end) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > r.end) return;
    if (id === 1) {
      for (let n = r.u32(), i = 0; i < n; i++) types.push(funcType(r));
    } else if (id === 2) {
      for (let n = r.u32(), i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const index = r.u32();
          if (index < types.length) out.set(importKey(module, name), types[index]);
        } else r.skipImportDescription(kind);
      }
      return;
    }
    r.pos = end;
  }
}

function funcType(r: ModuleReader): string {
  if (r.byte() !== 0x60) throw new ModuleEnded();
  const vec = () => {
    const list: string[] = [];
    for (let n = r.u32(), i = 0; i < n; i++) {
      const t = VALUE_TYPES[r.byte()];
      if (t === undefined) throw new ModuleEnded();
      list.push(t);
    }
    return list;
  };
  const params = vec();
  const results = vec();
  return `(${params.join(', ')}) -> ${results.length === 1 ? results[0] : `(${results.join(', ')})`}`;
}
