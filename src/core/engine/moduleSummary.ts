// A module's overview read from its bytes: imports (typed), exports, memory, custom sections, the
// producers section and a guess at its PDK. Pure (bytes in, plain data out), bounded (a hostile
// module's counts and names cost no more than the limits below), and it never throws.
import {
  CustomSection,
  ExternKind,
  guessPdk,
  ModuleExport,
  ModuleImport,
  ModuleMemory,
  ModuleSummary,
  ModuleSummaryResult,
  Producers,
} from '../model/moduleSummary';
import { functionImportTypes, importKey } from './importTypes';
import { ModuleEnded, ModuleReader } from './moduleReader';

/** Imports and exports listed at most (the rest are counted). */
export const MAX_LISTED = 2000;
/** Characters of a name kept (import, export, custom section, producer). */
export const MAX_NAME_CHARS = 200;
/** Custom sections listed at most. */
const MAX_CUSTOM = 200;
/** Function names of the `name` section looked at for toolchain hints. */
const MAX_FUNCTION_NAMES = 5000;
/** Producer entries kept per field, fields kept. */
const MAX_PRODUCERS = 32;

const KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

/**
 * Reads a module's overview. A file that is not valid WebAssembly gives `{ ok: false, error }`
 * naming why (what `WebAssembly.Module` reports), never an exception.
 */
export function summarizeModule(bytes: Uint8Array): ModuleSummaryResult {
  const size = bytes.byteLength;
  const problem = invalidReason(bytes);
  if (problem) return { ok: false, size, error: problem };
  try {
    return { ok: true, ...read(bytes) };
  } catch (error) {
    const reason = error instanceof ModuleEnded ? 'a section this reader could not follow' : error instanceof Error ? error.message : String(error);
    return { ok: false, size, error: `the module validates but could not be read: ${reason}` };
  }
}

function invalidReason(bytes: Uint8Array): string | null {
  if (bytes.byteLength < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    return bytes.byteLength === 0 ? 'the file is empty, not a WebAssembly module' : 'not a WebAssembly module: it does not start with the bytes \\0asm';
  }
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  if (version !== 1) {
    const layer = bytes[6] | (bytes[7] << 8);
    return layer === 1 ? 'a WebAssembly component (component model), not a core module: Extism runs core modules' : `an unknown WebAssembly binary version (${version >>> 0})`;
  }
  if (WebAssembly.validate(bytes)) return null;
  try {
    new WebAssembly.Module(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^WebAssembly\.Module\(\): /, '') : String(error);
    return `not a valid WebAssembly module: ${reason}`;
  }
  return 'not a valid WebAssembly module (refused by WebAssembly.validate)';
}

function read(bytes: Uint8Array): ModuleSummary {
  const r = new ModuleReader(bytes);
  const types = functionImportTypes(bytes);
  const imports: ModuleImport[] = [];
  const exports: ModuleExport[] = [];
  const memories: ModuleMemory[] = [];
  const customSections: CustomSection[] = [];
  const dwarf: string[] = [];
  const functionNames: string[] = [];
  let moreImports = 0;
  let moreExports = 0;
  let functions = 0;
  let hasNameSection = false;
  let externalDebugInfo: string | null = null;
  let producers: Producers | null = null;
  let customCount = 0;
  const name = () => r.nameCut(MAX_NAME_CHARS).text;

  while (r.pos < r.end) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > r.end) throw new ModuleEnded();
    if (id === 0) {
      const section = name();
      const payload = end - r.pos;
      if (customCount++ < MAX_CUSTOM) customSections.push({ name: section, size: payload });
      if (section === 'name') {
        hasNameSection = true;
        readFunctionNames(r, end, functionNames);
      } else if (section.startsWith('.debug_')) {
        if (dwarf.length < MAX_CUSTOM) dwarf.push(section);
      } else if (section === 'producers') {
        producers = readProducers(r, end);
      } else if (section === 'external_debug_info' || section === 'sourceMappingURL') {
        externalDebugInfo = readSafely(r, end, () => name());
      }
    } else if (id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        if (i >= MAX_LISTED) {
          moreImports = n - i;
          break;
        }
        const module = name();
        const field = name();
        const kind = r.byte();
        imports.push({ module, name: field, kind: KINDS[kind] ?? 'function', type: kind === 0 ? (types.get(importKey(module, field)) ?? null) : null });
        if (kind === 0) r.u32();
        else if (kind === 2) memories.push({ ...limits(r), imported: `${module}.${field}`, exportedAs: [] });
        else r.skipImportDescription(kind);
      }
    } else if (id === 3) {
      functions = r.u32();
    } else if (id === 5) {
      const n = r.u32();
      for (let i = 0; i < n && i < MAX_LISTED; i++) memories.push({ ...limits(r), imported: null, exportedAs: [] });
    } else if (id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        if (i >= MAX_LISTED) {
          moreExports = n - i;
          break;
        }
        const field = name();
        const kind = r.byte();
        const index = r.u32();
        exports.push({ name: field, kind: KINDS[kind] ?? 'function' });
        if (kind === 2 && memories[index]) memories[index].exportedAs.push(field);
      }
    }
    r.pos = end;
  }
  const pdk = guessPdk({
    imports,
    exports: exports.filter((e) => e.kind === 'function').map((e) => e.name),
    producers,
    customSections: customSections.map((c) => c.name),
    functionNames,
  });
  const usesExtism = imports.some((i) => i.module === 'extism:host/env');
  return { size: bytes.byteLength, imports, exports, moreImports, moreExports, functions, memories, customSections, hasNameSection, dwarf, externalDebugInfo, producers, pdk, usesExtism };
}

/** Memory limits: flags, initial, maximum (bit 0), shared (bit 1), 64-bit (bit 2). */
function limits(r: ModuleReader): Pick<ModuleMemory, 'initial' | 'maximum' | 'shared' | 'memory64'> {
  const flags = r.byte();
  const initial = bigLeb(r);
  const maximum = flags & 1 ? bigLeb(r) : null;
  return { initial, maximum, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
}

/** An unsigned LEB128 of up to 64 bits, as a number (exact up to 2^53, enough for page counts). */
function bigLeb(r: ModuleReader): number {
  let result = 0;
  for (let i = 0; i < 10; i++) {
    const b = r.byte();
    result += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return result;
  }
  throw new ModuleEnded();
}

/** A custom section's contents are the producer's word, not validated: a bad one is skipped. */
function readSafely<T>(r: ModuleReader, end: number, body: () => T): T | null {
  try {
    const value = body();
    return r.pos <= end ? value : null;
  } catch (error) {
    if (error instanceof ModuleEnded) return null;
    throw error;
  }
}

/** The `name` section's function names (subsection 1), the first few thousand, cut. */
function readFunctionNames(r: ModuleReader, end: number, out: string[]): void {
  readSafely(r, end, () => {
    while (r.pos < end) {
      const sub = r.byte();
      const size = r.u32();
      const subEnd = r.pos + size;
      if (subEnd > end) return;
      if (sub === 1) {
        const n = r.u32();
        for (let i = 0; i < n && i < MAX_FUNCTION_NAMES && r.pos < subEnd; i++) {
          r.u32();
          out.push(r.nameCut(MAX_NAME_CHARS).text);
        }
        return;
      }
      r.pos = subEnd;
    }
  });
}

/** The `producers` section: fields of (name, version) pairs. */
function readProducers(r: ModuleReader, end: number): Producers | null {
  return readSafely(r, end, () => {
    const out: Producers = Object.create(null) as Producers;
    const fields = r.u32();
    for (let i = 0; i < fields && i < MAX_PRODUCERS && r.pos < end; i++) {
      const field = r.nameCut(MAX_NAME_CHARS).text;
      const values: string[] = [];
      const n = r.u32();
      for (let j = 0; j < n && r.pos < end; j++) {
        const value = r.nameCut(MAX_NAME_CHARS).text;
        const version = r.nameCut(MAX_NAME_CHARS).text;
        if (j < MAX_PRODUCERS) values.push(version ? `${value} ${version}` : value);
      }
      out[field] = values;
    }
    return r.pos <= end ? out : null;
  });
}
