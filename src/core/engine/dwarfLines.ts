/**
 * A reader of DWARF `.debug_line` (versions 2 to 5) as wasm toolchains emit it: addresses are
 * offsets in the code section's payload. Each line program's comp dir comes from its compilation
 * unit (`.debug_info`, DW_AT_comp_dir) in DWARF 4, from directory 0 in DWARF 5. Malformed input ends
 * the reading where it goes wrong: what was read before stays usable.
 */
export interface DwarfSections {
  line: Uint8Array;
  info?: Uint8Array;
  abbrev?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
}

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

interface Row {
  address: number;
  file: string;
  line: number;
  column: number;
  /** The first address after a sequence: no position. */
  end: boolean;
}

export class DwarfLines {
  private readonly rows: Row[] = [];

  constructor(sections: DwarfSections) {
    const compDirs = compilationDirs(sections);
    const r = new Reader(sections.line);
    while (r.pos < sections.line.length) {
      const start = r.pos;
      try {
        if (!this.readProgram(r, sections, compDirs.get(start))) break;
      } catch {
        break;
      }
    }
    // stable: rows of one address keep their order, an end row sorts before a start at the same address
    this.rows.sort((a, b) => a.address - b.address || Number(b.end) - Number(a.end));
  }

  get empty(): boolean {
    return this.rows.length === 0;
  }

  /** The position of the row that covers `address` (a code-section payload offset), or null. */
  lookup(address: number): SourcePosition | null {
    const rows = this.rows;
    let lo = 0;
    let hi = rows.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].address <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    // the last row at that address wins, unless it ends a sequence
    const row = rows[found];
    if (row.end || row.line === 0) return null;
    return { file: row.file, line: row.line, column: row.column };
  }

  /** The position at `address`, or else of the first row after it (a function's start precedes its first row). */
  lookupFrom(address: number): SourcePosition | null {
    const at = this.lookup(address);
    if (at) return at;
    const row = this.rows.find((r) => r.address >= address && !r.end && r.line !== 0);
    return row ? { file: row.file, line: row.line, column: row.column } : null;
  }

  private readProgram(r: Reader, s: DwarfSections, compDir: string | undefined): boolean {
    const { unitLength, offsetSize } = r.unitLength();
    const end = r.pos + unitLength;
    if (unitLength === 0 || end > r.bytes.length) return false;
    const version = r.u16();
    if (version < 2 || version > 5) {
      r.pos = end;
      return true;
    }
    let addressSize = 4;
    if (version >= 5) {
      addressSize = r.u8();
      r.u8(); // segment selector size
    }
    const headerLength = offsetSize === 8 ? r.u64() : r.u32();
    const programStart = r.pos + headerLength;
    const minInst = r.u8();
    if (version >= 4) r.u8(); // max ops per instruction (VLIW only)
    const defaultIsStmt = r.u8() !== 0;
    void defaultIsStmt;
    const lineBase = (r.u8() << 24) >> 24;
    const lineRange = r.u8();
    const opcodeBase = r.u8();
    const opLengths: number[] = [0];
    for (let i = 1; i < opcodeBase; i++) opLengths.push(r.u8());
    if (lineRange === 0) {
      r.pos = end;
      return true;
    }

    let dirs: string[];
    let files: string[];
    if (version >= 5) {
      // directory 0 is the comp dir; the others may be relative to it
      dirs = entries(r, s, offsetSize).map((e) => e.path);
      dirs = dirs.map((d, i) => (i > 0 ? joinPath(dirs[0], d) : d));
      files = entries(r, s, offsetSize).map((e) => joinPath(dirs[e.dir] ?? '', e.path));
    } else {
      // directory 0 is the comp dir; the others are relative to it
      dirs = [compDir ?? ''];
      while (r.bytes[r.pos] !== 0) dirs.push(joinPath(compDir ?? '', r.cstring()));
      r.pos++;
      files = [''];
      while (r.bytes[r.pos] !== 0) {
        const name = r.cstring();
        const dir = r.uleb();
        r.uleb();
        r.uleb();
        files.push(joinPath(dirs[dir] ?? '', name));
      }
      r.pos++;
    }
    const fileOf = (i: number): string => files[i] ?? `(file ${i})`;

    r.pos = programStart;
    let address = 0;
    let file = 1;
    let line = 1;
    let column = 0;
    const emit = (isEnd: boolean) => this.rows.push({ address, file: fileOf(file), line, column, end: isEnd });
    const reset = () => {
      address = 0;
      file = 1;
      line = 1;
      column = 0;
    };
    while (r.pos < end) {
      const op = r.u8();
      if (op >= opcodeBase) {
        const adjusted = op - opcodeBase;
        address += Math.floor(adjusted / lineRange) * minInst;
        line += lineBase + (adjusted % lineRange);
        emit(false);
      } else if (op === 0) {
        const length = r.uleb();
        const next = r.pos + length;
        const sub = length ? r.u8() : 0;
        if (sub === 1) {
          emit(true);
          reset();
        } else if (sub === 2) {
          address = addressSize === 8 ? r.u64() : r.u32();
        } else if (sub === 3 && version < 5) {
          const name = r.cstring();
          const dir = r.uleb();
          files.push(joinPath(dirs[dir] ?? '', name));
        }
        r.pos = next;
      } else if (op === 1) emit(false);
      else if (op === 2) address += r.uleb() * minInst;
      else if (op === 3) line += r.sleb();
      else if (op === 4) file = r.uleb();
      else if (op === 5) column = r.uleb();
      else if (op === 8) address += Math.floor((255 - opcodeBase) / lineRange) * minInst;
      else if (op === 9) address += r.u16();
      else for (let i = 0; i < opLengths[op]; i++) r.uleb();
    }
    r.pos = end;
    return true;
  }
}

/** DWARF 5 directory or file entries: the path and the directory index. */
function entries(r: Reader, s: DwarfSections, offsetSize: number): { path: string; dir: number }[] {
  const formatCount = r.u8();
  const format: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) format.push([r.uleb(), r.uleb()]);
  const count = r.uleb();
  const out: { path: string; dir: number }[] = [];
  for (let i = 0; i < count; i++) {
    let path = '';
    let dir = 0;
    for (const [content, form] of format) {
      const value = readForm(r, form, offsetSize, s);
      if (content === 1 && typeof value === 'string') path = value; // DW_LNCT_path
      if (content === 2 && typeof value === 'number') dir = value; // DW_LNCT_directory_index
    }
    out.push({ path, dir });
  }
  return out;
}

/** A value of an attribute form: a string, a number, or null for forms skipped. Throws on a form not known. */
function readForm(r: Reader, form: number, offsetSize: number, s: DwarfSections, addressSize = 4): string | number | null {
  const offset = () => (offsetSize === 8 ? r.u64() : r.u32());
  switch (form) {
    case 0x08: return r.cstring(); // string
    case 0x0e: return cstringAt(s.str, offset()); // strp
    case 0x1f: return cstringAt(s.lineStr, offset()); // line_strp
    case 0x0b: return r.u8(); // data1
    case 0x05: return r.u16(); // data2
    case 0x06: return r.u32(); // data4
    case 0x07: return r.u64(); // data8
    case 0x1e: r.pos += 16; return null; // data16
    case 0x0f: return r.uleb(); // udata
    case 0x0d: return r.sleb(); // sdata
    case 0x0c: return r.u8(); // flag
    case 0x19: return null; // flag_present
    case 0x17: return offset(); // sec_offset
    case 0x01: return addressSize === 8 ? r.u64() : r.u32(); // addr
    case 0x11: return r.u8(); // ref1
    case 0x12: return r.u16(); // ref2
    case 0x13: return r.u32(); // ref4
    case 0x14: return r.u64(); // ref8
    case 0x15: return r.uleb(); // ref_udata
    case 0x10: return offset(); // ref_addr
    case 0x0a: r.pos += r.u8(); return null; // block1
    case 0x03: r.pos += r.u16(); return null; // block2
    case 0x04: r.pos += r.u32(); return null; // block4
    case 0x09: case 0x18: r.pos += r.uleb(); return null; // block, exprloc
    case 0x1a: case 0x1b: case 0x22: case 0x23: return r.uleb(); // strx, addrx, loclistx, rnglistx
    case 0x25: return r.u8(); // strx1
    case 0x26: return r.u16(); // strx2
    case 0x27: return r.u8() | (r.u16() << 8); // strx3
    case 0x28: return r.u32(); // strx4
    case 0x29: return r.u8(); // addrx1
    case 0x2a: return r.u16(); // addrx2
    case 0x2c: return r.u32(); // addrx4
    case 0x20: r.pos += 8; return null; // ref_sig8
    default: throw new Error(`DWARF form 0x${form.toString(16)}`);
  }
}

/**
 * DW_AT_comp_dir of each compilation unit, by its DW_AT_stmt_list (the offset of its line program):
 * only the first DIE of each unit is read.
 */
function compilationDirs(s: DwarfSections): Map<number, string> {
  const dirs = new Map<number, string>();
  if (!s.info || !s.abbrev) return dirs;
  const r = new Reader(s.info);
  while (r.pos < s.info.length) {
    try {
      const { unitLength, offsetSize } = r.unitLength();
      const end = r.pos + unitLength;
      if (unitLength === 0) break;
      const version = r.u16();
      let abbrevOffset: number;
      let addressSize: number;
      if (version >= 5) {
        const unitType = r.u8();
        addressSize = r.u8();
        abbrevOffset = offsetSize === 8 ? r.u64() : r.u32();
        if (unitType === 4 || unitType === 5) r.pos += 8; // skeleton / split: dwo id
      } else {
        abbrevOffset = offsetSize === 8 ? r.u64() : r.u32();
        addressSize = r.u8();
      }
      const code = r.uleb();
      const attrs = abbrevAttributes(s.abbrev, abbrevOffset, code);
      let compDir: string | undefined;
      let stmtList: number | undefined;
      for (const [name, form, implicit] of attrs) {
        const value = form === 0x21 ? implicit : readForm(r, form, offsetSize, s, addressSize);
        if (name === 0x1b && typeof value === 'string') compDir = value;
        if (name === 0x10 && typeof value === 'number') stmtList = value;
      }
      if (compDir !== undefined && stmtList !== undefined) dirs.set(stmtList, compDir);
      r.pos = end;
    } catch {
      break;
    }
  }
  return dirs;
}

/** The attributes (name, form, implicit const) of abbreviation `code` in the table at `offset`. */
function abbrevAttributes(abbrev: Uint8Array, offset: number, code: number): [number, number, number][] {
  const r = new Reader(abbrev);
  r.pos = offset;
  for (;;) {
    const c = r.uleb();
    if (c === 0) return [];
    r.uleb(); // tag
    r.u8(); // has children
    const attrs: [number, number, number][] = [];
    for (;;) {
      const name = r.uleb();
      const form = r.uleb();
      const implicit = form === 0x21 ? r.sleb() : 0;
      if (name === 0 && form === 0) break;
      attrs.push([name, form, implicit]);
    }
    if (c === code) return attrs;
  }
}

function cstringAt(section: Uint8Array | undefined, offset: number): string | null {
  if (!section || offset >= section.length) return null;
  const r = new Reader(section);
  r.pos = offset;
  return r.cstring();
}

function joinPath(dir: string, name: string): string {
  if (!dir || name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) return name;
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`;
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** A unit's length: 32-bit DWARF, or 64-bit DWARF after the 0xffffffff escape, with its offsets' size. */
  unitLength(): { unitLength: number; offsetSize: 4 | 8 } {
    const length = this.u32();
    return length === 0xffffffff ? { unitLength: this.u64(), offsetSize: 8 } : { unitLength: length, offsetSize: 4 };
  }

  u8(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('DWARF: past the end');
    return this.bytes[this.pos++];
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    return hi * 2 ** 32 + lo;
  }
  uleb(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift < 53) value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return value;
    }
  }
  sleb(): number {
    let value = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.u8();
      if (shift < 53) value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    if (b & 0x40 && shift < 53) value -= 2 ** shift;
    return value;
  }
  cstring(): string {
    const start = this.pos;
    while (this.u8() !== 0);
    return Buffer.from(this.bytes.subarray(start, this.pos - 1)).toString('utf8');
  }
}
