import { ModuleReader } from './moduleReader';
import { WasmWriter } from './wasmWriter';

/** A form the code rewriter does not know (GC, a new prefix): the module is left as it is. */
export class Unmergeable extends Error {}

/** What a rewrite changes in code: function indices always; globals, memories and types when given. */
export interface IndexMap {
  func: (index: number) => number;
  /** Added to every global index (the kernel's globals come after the plugin's). */
  globalBase: number;
  /** Every memory immediate becomes this memory (the kernel's code), or -1 to keep them. */
  memory: number;
  /** Type indices (block types, call_indirect), or null to keep them. */
  type: ((index: number) => number) | null;
  /**
   * Every index rewritten keeps the width its LEB128 had (so the code does not move), or the
   * rewrite fails (`Unmergeable`) where it does not fit.
   */
  keepWidth?: boolean;
}

/** A value type: one byte, or a reference type with its heap type (`ref null? ht`). */
export function skipValType(r: ModuleReader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.leb();
  else if (b < 0x69 || b > 0x7f) throw new Unmergeable(`value type 0x${b.toString(16)}`);
}

/**
 * Where rewritten code came from: told after each immediate the rewrite replaced, with the length
 * of `out` and the reader's position there (from there on, until the next, the code is copied).
 */
export type CodeMoved = (outAt: number, inAt: number) => void;

/**
 * Copies code from `r.pos` to `end` (a function body's instructions) or, with `end` < 0, one
 * constant expression through its `end`, into `out`, rewriting the indices `map` changes.
 */
export function rewriteCode(bytes: Uint8Array, r: ModuleReader, end: number, out: WasmWriter, map: IndexMap, moved?: CodeMoved): void {
  let from = r.pos;
  const flush = (upTo: number) => {
    if (upTo > from) out.bytes(bytes.subarray(from, upTo));
  };
  /** Copying goes on from the reader's position, after an immediate written anew. */
  const resume = () => {
    from = r.pos;
    moved?.(out.length, r.pos);
  };
  const replaceU32 = (value: (old: number) => number) => {
    const at = r.pos;
    const v = value(r.u32());
    flush(at);
    if (!map.keepWidth) out.u32(v);
    else if (!out.u32Width(v, r.pos - at)) throw new Unmergeable(`its code would move: index ${v} needs more bytes than the file gave the one it replaces`);
    resume();
  };
  const memarg = () => {
    if (map.memory < 0) {
      const align = r.u32();
      if (align & 0x40) r.u32();
      r.leb();
      return;
    }
    const at = r.pos;
    const align = r.u32();
    if (align & 0x40) r.u32();
    flush(at);
    out.u32(align | 0x40);
    out.u32(map.memory);
    resume();
    r.leb();
  };
  const memIndex = () => (map.memory < 0 ? void r.u32() : replaceU32(() => map.memory));
  const blockType = () => {
    const b = bytes[r.pos];
    if (b === 0x40 || (b >= 0x69 && b <= 0x7f)) r.pos++;
    else if (b === 0x63 || b === 0x64) skipValType(r);
    else if (map.type) {
      const at = r.pos;
      const t = readS33(r);
      flush(at);
      out.u32(map.type(t));
      resume();
    } else r.leb();
  };
  const typeIndex = () => (map.type ? replaceU32(map.type) : void r.u32());
  const constExpr = end < 0;
  while (constExpr || r.pos < end) {
    const op = r.byte();
    switch (op) {
      case 0x0b:
        if (constExpr) {
          flush(r.pos);
          return;
        }
        break;
      case 0x00: case 0x01: case 0x05: case 0x0a: case 0x0f: case 0x19: case 0x1a: case 0x1b:
      case 0xd1: case 0xd3: case 0xd5:
        break;
      case 0x02: case 0x03: case 0x04: case 0x06:
        blockType();
        break;
      case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0x18: case 0x20: case 0x21: case 0x22:
      case 0x25: case 0x26: case 0xd4: case 0xd6:
        r.u32();
        break;
      case 0x23: case 0x24:
        if (map.globalBase) replaceU32((g) => g + map.globalBase);
        else r.u32();
        break;
      case 0x0e: {
        const n = r.u32();
        if (n > r.end - r.pos) throw new Unmergeable('br_table past the end');
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case 0x10: case 0x12: case 0xd2:
        replaceU32(map.func);
        break;
      case 0x11: case 0x13:
        typeIndex();
        r.u32();
        break;
      case 0x14: case 0x15:
        typeIndex();
        break;
      case 0x1c: {
        const n = r.u32();
        if (n > r.end - r.pos) throw new Unmergeable('select past the end');
        for (let i = 0; i < n; i++) skipValType(r);
        break;
      }
      case 0x1f: {
        blockType();
        const n = r.u32();
        if (n > r.end - r.pos) throw new Unmergeable('try_table past the end');
        for (let i = 0; i < n; i++) {
          const kind = r.byte();
          if (kind < 2) r.u32();
          r.u32();
        }
        break;
      }
      case 0x3f: case 0x40:
        memIndex();
        break;
      case 0x41: case 0x42:
        r.leb();
        break;
      case 0x43:
        skip(r, 4);
        break;
      case 0x44:
        skip(r, 8);
        break;
      case 0xd0:
        if (bytes[r.pos] >= 0x69 && bytes[r.pos] <= 0x74) r.pos++;
        else r.leb();
        break;
      case 0xfc:
        prefixFC(r, memIndex);
        break;
      case 0xfd:
        prefixFD(r, memarg);
        break;
      case 0xfe:
        prefixFE(r, memarg);
        break;
      default:
        if (op >= 0x28 && op <= 0x3e) memarg();
        else if (op >= 0x45 && op <= 0xc4) break;
        else throw new Unmergeable(`opcode 0x${op.toString(16)}`);
    }
  }
  if (r.pos !== end) throw new Unmergeable('an instruction runs past its function');
  flush(end);
}

function skip(r: ModuleReader, n: number): void {
  if (n > r.end - r.pos) throw new Unmergeable('an immediate runs past the end');
  r.pos += n;
}

function readS33(r: ModuleReader): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const b = r.byte();
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return b & 0x40 ? result - 2 ** shift : result;
  }
  throw new Unmergeable('a block type too long');
}

function prefixFC(r: ModuleReader, memIndex: () => void): void {
  const sub = r.u32();
  if (sub <= 7) return;
  switch (sub) {
    case 8: r.u32(); memIndex(); return; // memory.init data mem
    case 9: r.u32(); return; // data.drop
    case 10: memIndex(); memIndex(); return; // memory.copy
    case 11: memIndex(); return; // memory.fill
    case 12: r.u32(); r.u32(); return; // table.init
    case 13: r.u32(); return; // elem.drop
    case 14: r.u32(); r.u32(); return; // table.copy
    case 15: case 16: case 17: r.u32(); return; // table.grow, size, fill
    default: throw new Unmergeable(`opcode 0xfc ${sub}`);
  }
}

function prefixFD(r: ModuleReader, memarg: () => void): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) memarg();
  else if (sub === 12 || sub === 13) skip(r, 16);
  else if (sub >= 21 && sub <= 34) skip(r, 1);
  else if (sub >= 84 && sub <= 91) {
    memarg();
    skip(r, 1);
  } else if (sub > 0x113) throw new Unmergeable(`opcode 0xfd ${sub}`);
}

function prefixFE(r: ModuleReader, memarg: () => void): void {
  const sub = r.u32();
  if (sub === 3) skip(r, 1);
  else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) memarg();
  else throw new Unmergeable(`opcode 0xfe ${sub}`);
}
