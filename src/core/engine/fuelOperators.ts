import { ModuleEnded, ModuleReader } from './moduleReader';

/** A module the fuel meter will not rewrite, rather than count it wrongly; the message says why. */
export class FuelRefused extends Error {}

// what follows an opcode
const NONE = 0;
const BLOCK_TYPE = 1;
const U32 = 2; // a label, a function, local, table, type, data or element index
const TWO_U32 = 3;
const BR_TABLE = 4;
const SELECT_TYPES = 5;
const MEMARG = 6;
const I32 = 7; // a signed LEB128
const I64 = 8;
const F32 = 9;
const F64 = 10;
const HEAP_TYPE = 11;
const GLOBAL = 12;
const PREFIX_FC = 13;
const PREFIX_FD = 14;
const PREFIX_FE = 15;
const UNKNOWN = 255;

/** The operator costs one unit of fuel (wasmtime's default: all but the free ones). */
export const COSTS = 1;
/** Control can leave the straight line after this operator, or come to what follows from elsewhere. */
export const ENDS_RUN = 2;
/** `global.get` or `global.set`: its index is in `OperatorReader.globalIndex`, at `globalAt`. */
export const GLOBAL_ACCESS = 4;

const immediates = new Uint8Array(256).fill(UNKNOWN);
const flags = new Uint8Array(256);

function op(code: number, imm: number, f: number): void {
  immediates[code] = imm;
  flags[code] = f;
}

// control; free in wasmtime's default cost: nop, drop, block, loop, end, else, unreachable, return
op(0x00, NONE, ENDS_RUN); // unreachable
op(0x01, NONE, 0); // nop
op(0x02, BLOCK_TYPE, 0); // block: not a branch target where it starts
op(0x03, BLOCK_TYPE, ENDS_RUN); // loop: its start is a branch target
op(0x04, BLOCK_TYPE, COSTS | ENDS_RUN); // if
op(0x05, NONE, ENDS_RUN); // else
op(0x0b, NONE, ENDS_RUN); // end
op(0x0c, U32, COSTS | ENDS_RUN); // br
op(0x0d, U32, COSTS | ENDS_RUN); // br_if
op(0x0e, BR_TABLE, COSTS | ENDS_RUN);
op(0x0f, NONE, ENDS_RUN); // return
// calls end a run, so a callee (a nested plugin among them) runs with only what its caller executed charged
op(0x10, U32, COSTS | ENDS_RUN); // call
op(0x11, TWO_U32, COSTS | ENDS_RUN); // call_indirect
op(0x12, U32, COSTS | ENDS_RUN); // return_call
op(0x13, TWO_U32, COSTS | ENDS_RUN); // return_call_indirect
op(0x14, U32, COSTS | ENDS_RUN); // call_ref
op(0x15, U32, COSTS | ENDS_RUN); // return_call_ref
op(0x1a, NONE, 0); // drop
op(0x1b, NONE, COSTS); // select
op(0x1c, SELECT_TYPES, COSTS);
for (let c = 0x20; c <= 0x22; c++) op(c, U32, COSTS); // local.get/set/tee
op(0x23, GLOBAL, COSTS | GLOBAL_ACCESS);
op(0x24, GLOBAL, COSTS | GLOBAL_ACCESS);
op(0x25, U32, COSTS); // table.get
op(0x26, U32, COSTS); // table.set
for (let c = 0x28; c <= 0x3e; c++) op(c, MEMARG, COSTS); // loads and stores
op(0x3f, U32, COSTS); // memory.size
op(0x40, U32, COSTS); // memory.grow
op(0x41, I32, COSTS);
op(0x42, I64, COSTS);
op(0x43, F32, COSTS);
op(0x44, F64, COSTS);
for (let c = 0x45; c <= 0xc4; c++) op(c, NONE, COSTS); // numeric, sign extension
op(0xd0, HEAP_TYPE, COSTS); // ref.null
op(0xd1, NONE, COSTS); // ref.is_null
op(0xd2, U32, COSTS); // ref.func
op(0xd3, NONE, COSTS); // ref.eq
op(0xd4, NONE, COSTS); // ref.as_non_null
op(0xd5, U32, COSTS | ENDS_RUN); // br_on_null
op(0xd6, U32, COSTS | ENDS_RUN); // br_on_non_null
op(0xfc, PREFIX_FC, COSTS);
op(0xfd, PREFIX_FD, COSTS);
op(0xfe, PREFIX_FE, COSTS);

const NAMES: Record<number, string> = {
  0x06: 'try (legacy exception handling)',
  0x07: 'catch (legacy exception handling)',
  0x08: 'throw (exception handling)',
  0x09: 'rethrow (legacy exception handling)',
  0x0a: 'throw_ref (exception handling)',
  0x18: 'delegate (legacy exception handling)',
  0x19: 'catch_all (legacy exception handling)',
  0x1f: 'try_table (exception handling)',
  0xfb: 'a GC operator',
};

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Reads one operator at a time: its immediates skipped, what it costs and whether it ends a run. */
export class OperatorReader {
  globalIndex = 0;
  /** Where the global index starts, and where it ends. */
  globalAt = 0;
  globalEnd = 0;

  constructor(readonly r: ModuleReader) {}

  /** Reads the operator at the reader's position; returns its flags. */
  next(): number {
    const r = this.r;
    const code = r.byte();
    switch (immediates[code]) {
      case NONE:
        break;
      case BLOCK_TYPE:
        this.blockType();
        break;
      case U32:
        r.u32();
        break;
      case TWO_U32:
        r.u32();
        r.u32();
        break;
      case BR_TABLE: {
        const n = r.u32();
        if (n > r.end - r.pos) throw new ModuleEnded();
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case SELECT_TYPES: {
        const n = r.u32();
        if (n > r.end - r.pos) throw new ModuleEnded();
        for (let i = 0; i < n; i++) this.valueType();
        break;
      }
      case MEMARG:
        this.memarg();
        break;
      case I32:
      case I64:
      case HEAP_TYPE:
        r.leb();
        break;
      case F32:
        this.skip(4);
        break;
      case F64:
        this.skip(8);
        break;
      case GLOBAL:
        this.globalAt = r.pos;
        this.globalIndex = r.u32();
        this.globalEnd = r.pos;
        break;
      case PREFIX_FC:
        this.prefixFc();
        break;
      case PREFIX_FD:
        this.prefixFd();
        break;
      case PREFIX_FE:
        this.prefixFe();
        break;
      default:
        throw new FuelRefused(`it uses the operator ${NAMES[code] ?? hex(code)}, which the fuel meter does not count`);
    }
    return flags[code];
  }

  private skip(n: number): void {
    if (n > this.r.end - this.r.pos) throw new ModuleEnded();
    this.r.pos += n;
  }

  private blockType(): void {
    const r = this.r;
    const b = r.byte();
    // (ref null ht) and (ref ht) take a heap type; anything else is one signed LEB128
    if (b === 0x63 || b === 0x64) r.leb();
    else if (b & 0x80) r.leb();
  }

  private valueType(): void {
    const b = this.r.byte();
    if (b === 0x63 || b === 0x64) this.r.leb();
  }

  private memarg(): void {
    const r = this.r;
    const align = r.u32();
    if (align & 0x40) r.u32(); // a memory index (multi-memory)
    r.leb(); // offset, up to 64 bits
  }

  private prefixFc(): void {
    const r = this.r;
    const sub = r.u32();
    if (sub <= 7) return; // saturating truncations
    switch (sub) {
      case 8: // memory.init data memory
      case 10: // memory.copy
      case 12: // table.init
      case 14: // table.copy
        r.u32();
        r.u32();
        return;
      case 9: // data.drop
      case 11: // memory.fill
      case 13: // elem.drop
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        r.u32();
        return;
      default:
        throw new FuelRefused(`it uses the operator 0xfc ${sub}, which the fuel meter does not count`);
    }
  }

  private prefixFd(): void {
    const r = this.r;
    const sub = r.u32();
    if (sub <= 11 || sub === 92 || sub === 93) this.memarg(); // v128 loads and stores
    else if (sub === 12 || sub === 13) this.skip(16); // v128.const, i8x16.shuffle
    else if (sub >= 21 && sub <= 34) this.skip(1); // extract and replace lane
    else if (sub >= 84 && sub <= 91) {
      this.memarg(); // load and store lane
      this.skip(1);
    } else if (sub > 0x113) throw new FuelRefused(`it uses the SIMD operator 0xfd ${sub}, which the fuel meter does not count`);
  }

  private prefixFe(): void {
    const r = this.r;
    const sub = r.u32();
    if (sub === 3) this.skip(1); // atomic.fence
    else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) this.memarg();
    else throw new FuelRefused(`it uses the atomic operator 0xfe ${sub}, which the fuel meter does not count`);
  }

  /** Reads a value type of a local or a global. */
  readValueType(): void {
    this.valueType();
  }
}
