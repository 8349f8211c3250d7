import { ModuleEnded, ModuleReader } from './moduleReader';
import { skipValType, Unmergeable } from './wasmCode';

// The kernel module read into the parts a merge appends to a plugin module, and the section readers
// both sides are read with.

export const ENV = 'extism:host/env';

export interface Section {
  id: number;
  start: number;
  end: number;
}

export interface KernelParts {
  types: Uint8Array[];
  /** The type index of each function (imported ones first). */
  funcTypes: number[];
  importedFuncs: number;
  globals: Uint8Array;
  globalCount: number;
  exports: { name: string; func: number }[];
  bodies: { start: number; end: number }[];
  bytes: Uint8Array;
}

export function sections(bytes: Uint8Array): Section[] {
  const r = new ModuleReader(bytes);
  if (!r.hasHeader()) throw new Unmergeable('no wasm header');
  const list: Section[] = [];
  while (!r.atEnd()) {
    const id = r.byte();
    const size = r.u32();
    if (size > r.end - r.pos) throw new ModuleEnded();
    list.push({ id, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  return list;
}

export function at(bytes: Uint8Array, pos: number, end = bytes.length): ModuleReader {
  const r = new ModuleReader(bytes.subarray(0, end));
  r.pos = pos;
  return r;
}

export function readTypes(bytes: Uint8Array, s: Section | undefined): Uint8Array[] {
  if (!s) return [];
  const r = at(bytes, s.start, s.end);
  const n = r.u32();
  const types: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    if (r.byte() !== 0x60) throw new Unmergeable('a type that is not a function type (GC)');
    for (let k = 0; k < 2; k++) {
      const count = r.u32();
      if (count > r.end - r.pos) throw new ModuleEnded();
      for (let j = 0; j < count; j++) skipValType(r);
    }
    types.push(bytes.subarray(start, r.pos));
  }
  return types;
}

export function readKernel(bytes: Uint8Array): KernelParts {
  const list = sections(bytes);
  const find = (id: number) => list.find((s) => s.id === id);
  const types = readTypes(bytes, find(1));
  const funcTypes: number[] = [];
  let importedFuncs = 0;
  const imports = find(2);
  if (imports) {
    const r = at(bytes, imports.start, imports.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      r.name();
      const name = r.name();
      const kind = r.byte();
      if (kind === 0) {
        if (name !== 'out_of_memory' || importedFuncs) throw new Error('kernel: an unexpected function import');
        funcTypes.push(r.u32());
        importedFuncs++;
      } else if (kind === 2) r.skipLimits();
      else throw new Error('kernel: an unexpected import');
    }
  }
  const funcs = find(3);
  if (funcs) {
    const r = at(bytes, funcs.start, funcs.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) funcTypes.push(r.u32());
  }
  const g = find(6);
  let globals: Uint8Array = new Uint8Array(0);
  let globalCount = 0;
  if (g) {
    const r = at(bytes, g.start, g.end);
    globalCount = r.u32();
    globals = bytes.subarray(r.pos, g.end);
  }
  const exports: { name: string; func: number }[] = [];
  const e = find(7);
  if (e) {
    const r = at(bytes, e.start, e.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const name = r.name();
      if (r.byte() !== 0) throw new Error('kernel: an export that is not a function');
      exports.push({ name, func: r.u32() });
    }
  }
  const bodies: { start: number; end: number }[] = [];
  const code = find(10);
  if (code) {
    const r = at(bytes, code.start, code.end);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const size = r.u32();
      bodies.push({ start: r.pos, end: r.pos + size });
      r.pos += size;
    }
  }
  for (const s of list) if (![1, 2, 3, 6, 7, 10, 0].includes(s.id)) throw new Error(`kernel: an unexpected section ${s.id}`);
  return { types, funcTypes, importedFuncs, globals, globalCount, exports, bodies, bytes };
}
