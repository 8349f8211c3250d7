import { CodeOrigin } from './codeOrigin';
import { DwarfLines, SourcePosition } from './dwarfLines';
import { ModuleEnded, ModuleReader } from './moduleReader';

/**
 * The plugin's file, which a compiled module's places are told in: where its code section starts,
 * and for a module whose code was rewritten from it, where that code came from, a rewrite at a time
 * (the kernel merged in, then the fuel meter's charges). Code that is not the file's (the merged
 * kernel) has no place. The compiled module keeps the file's custom sections that its places need
 * (DWARF, producers): a rewrite that moves code keeps none that counts offsets into it.
 */
export interface CodeFile {
  codeStart: number;
  origins: readonly CodeOrigin[];
  /** The file's sections that places are read from, where the compiled module left them out (metered). */
  sections?: ReadonlyMap<string, Uint8Array>;
}

/** The custom sections a module's places are read from: its DWARF lines and the toolchain. */
export const PLACE_SECTIONS = ['.debug_line', '.debug_info', '.debug_abbrev', '.debug_str', '.debug_line_str', 'producers'];

/**
 * What turns a module's byte offsets into places in its file and source positions, kept with the
 * compiled module: where its code section is (recorded when it is compiled, from the bytes
 * compiled), the file its places are told in, and its DWARF line table, read on the first failure
 * that needs it.
 */
export class ModuleSymbols {
  /** The `wasm://wasm/<hash>` V8 names the module by in stack frames, once a frame showed it. */
  url: string | null = null;
  private lines: DwarfLines | null | undefined;
  private language: string | undefined;

  /**
   * `functionStarts`: the module offset of each function body's first byte after its size (where
   * V8's profiles place a function), ascending.
   */
  constructor(
    readonly module: WebAssembly.Module,
    readonly codeStart: number,
    readonly codeEnd: number,
    readonly functionStarts: Uint32Array = new Uint32Array(0),
    private readonly file: CodeFile | null = null,
  ) {}

  /** Whether a function body starts at this module offset. */
  hasFunctionAt(offset: number): boolean {
    const starts = this.functionStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] === offset) return true;
      if (starts[mid] < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** The source position of a function that starts at a module offset: its first line row. */
  functionPosition(offset: number): SourcePosition | null {
    const lines = this.dwarf();
    const at = this.fileCodeOffset(offset);
    return lines && at !== null ? lines.lookupFrom(at) : null;
  }

  /** The file's module offset of a module offset; null in code that is not the file's (the merged kernel). */
  fileOffset(offset: number): number | null {
    const at = this.fileCodeOffset(offset);
    return at === null ? null : at + (this.file ? this.file.codeStart : this.codeStart);
  }

  /** The file's index of a function; null for one that is not the file's. */
  fileFunction(index: number): number | null {
    let at: number | null = index;
    for (const origin of this.file?.origins ?? []) if (at !== null) at = origin.functionIndex(at);
    return at;
  }

  /** The offset in the file's code section contents (where DWARF counts from). */
  private fileCodeOffset(offset: number): number | null {
    let at: number | null = offset - this.codeStart;
    for (const origin of this.file?.origins ?? []) if (at !== null) at = origin.codeOffset(at);
    return at;
  }

  /** Whether a module byte offset is in this module's code section. */
  hasCode(offset: number): boolean {
    return offset >= this.codeStart && offset < this.codeEnd;
  }

  /** The source position of a module byte offset, from DWARF; null without DWARF or a row for it. */
  position(offset: number): SourcePosition | null {
    const lines = this.dwarf();
    const at = this.fileCodeOffset(offset);
    return lines && at !== null ? lines.lookup(at) : null;
  }

  hasDwarf(): boolean {
    return this.dwarf() !== null;
  }

  private dwarf(): DwarfLines | null {
    if (this.lines !== undefined) return this.lines;
    const section = (name: string) => this.customSection(name);
    const line = section('.debug_line');
    let lines: DwarfLines | null = null;
    if (line) {
      const read = new DwarfLines({ line, info: section('.debug_info'), abbrev: section('.debug_abbrev'), str: section('.debug_str'), lineStr: section('.debug_line_str') });
      if (!read.empty) lines = read;
    }
    this.lines = lines;
    return lines;
  }

  /** The toolchain that built the module, from its `producers` section or its function names. */
  producer(names: readonly (string | null)[]): string {
    if (this.language === undefined) {
      const producers = this.customSection('producers');
      this.language = producers ? Buffer.from(producers).toString('latin1') : '';
    }
    const p = this.language;
    if (/rustc|\bRust\b/.test(p) || names.some((n) => n !== null && /^(_ZN|_R[0-9A-Za-z_])/.test(n))) return 'rust';
    if (/TinyGo/i.test(p) || names.some((n) => n !== null && /^(runtime\.|main\.)/.test(n))) return 'go';
    if (/\bZig\b/i.test(p)) return 'zig';
    if (/clang|\bC\b|C\+\+/.test(p)) return 'c';
    if (names.some((n) => n !== null && n.startsWith('~lib/'))) return 'assemblyscript';
    return '';
  }

  private customSection(name: string): Uint8Array | undefined {
    const kept = this.file?.sections;
    if (kept) return kept.get(name);
    const found = WebAssembly.Module.customSections(this.module, name);
    return found.length ? new Uint8Array(found[0]) : undefined;
  }
}

/** The contents of a module's first custom section of that name: its section headers, read bounded. */
export function customSection(bytes: Uint8Array, wanted: string): Uint8Array | undefined {
  const r = new ModuleReader(bytes);
  try {
    if (!r.hasHeader()) return undefined;
    while (!r.atEnd()) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (end > bytes.length) return undefined;
      if (id === 0) {
        const { text, cut } = r.nameCut(wanted.length + 1);
        if (!cut && text === wanted) return bytes.subarray(r.pos, end);
      }
      r.pos = end;
    }
  } catch (error) {
    if (!(error instanceof ModuleEnded)) throw error;
  }
  return undefined;
}

const HINTS = new Map([
  ['rust', 'Rust keeps them with `debug = true` (or `debug = "line-tables-only"`) and no `strip` in the Cargo profile it is built with.'],
  ['go', 'TinyGo keeps them unless built with `-no-debug`; Go unless linked with `-ldflags="-s -w"`.'],
  ['zig', 'Zig keeps them unless built with `-fstrip` (ReleaseSmall strips).'],
  ['c', 'clang keeps them with `-g`, unless the module is stripped afterwards (`wasm-opt --strip-debug`, `llvm-strip`).'],
  ['assemblyscript', 'AssemblyScript does not write DWARF: `--debug` keeps function names, `--sourceMap` writes a source map.'],
  ['', 'The Rust, Go/TinyGo, C and Zig PDKs keep them unless stripped (Rust: `debug = true`; TinyGo: no `-no-debug`; C: `-g`); Haskell and JS PDK builds carry none.'],
]);

/** The note a stack carries once for a plugin without DWARF: how its PDK keeps line tables. */
export function debugInfoNote(label: string, producer: string): string {
  return `${label} has no DWARF line table (.debug_line), so its frames show function names and byte offsets. ${HINTS.get(producer) ?? HINTS.get('')}`;
}

const symbols = new WeakMap<WebAssembly.Module, ModuleSymbols>();

/**
 * Records where the code section of a module compiled from `bytes` is, and the file its places are
 * told in when those are other bytes.
 */
export function recordModule(module: WebAssembly.Module, bytes: Uint8Array, file: CodeFile | null = null): void {
  const code = codeSection(bytes);
  if (!code) return;
  symbols.set(module, new ModuleSymbols(module, code.start, code.end, functionStarts(bytes, code.start, code.end), file));
}

/** Where a module's code section contents are: a walk over its section headers. */
export function codeSection(bytes: Uint8Array): { start: number; end: number } | null {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80 || at >= bytes.length) break;
    }
    if (id === 10) return { start: at, end: at + size };
    at += size;
  }
  return null;
}

export function symbolsOf(module: WebAssembly.Module): ModuleSymbols | undefined {
  return symbols.get(module);
}

function functionStarts(bytes: Uint8Array, start: number, end: number): Uint32Array {
  let at = start;
  const leb = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= end) throw new RangeError('code section ends early');
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return value;
    }
  };
  try {
    const count = leb();
    const starts = new Uint32Array(Math.min(count, end - start));
    for (let i = 0; i < starts.length; i++) {
      const size = leb();
      starts[i] = at;
      at += size;
    }
    return starts;
  } catch {
    return new Uint32Array(0);
  }
}
