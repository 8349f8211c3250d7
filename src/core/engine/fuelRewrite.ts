import { COSTS, ENDS_RUN, FuelRefused, GLOBAL_ACCESS, OperatorReader } from './fuelOperators';
import { CodeOrigin, CodeOriginBuilder } from './codeOrigin';
import { ModuleEnded, ModuleReader } from './moduleReader';
import { WasmWriter } from './wasmWriter';

/** The import that gives a metered module the fuel left: one mutable i64 global the whole runtime shares. */
export const FUEL_MODULE = 'extism-ipc:fuel';
export const FUEL_NAME = 'left';

// where a new import section goes among the sections (custom sections aside)
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/**
 * Rewrites a valid module so that it counts the fuel it spends, as wasmtime counts it by default:
 * every operator executed costs one unit, but nop, drop, block, loop, end, else, unreachable and
 * return, which cost none. Each straight-line run of operators (one that control enters only at its
 * start and leaves only at its end: after a branch, a call, an `if`, an `else`, an `end`, at a loop's
 * head) first subtracts its cost from the imported global and traps (`unreachable`) when the global
 * goes below zero, so an arm of an `if` that is not taken is not charged and a budget of exactly
 * what a call spends passes.
 *
 * The global is imported (`extism-ipc:fuel`.`left`) after the module's own imports: every module
 * defined global moves up one index, in code, constant expressions, exports and the name section.
 * No function is added, so function indices stay. A module with an operator this meter does not
 * know is refused (`FuelRefused`) rather than counted wrongly. Custom sections that count offsets
 * into the code (DWARF, a source map) are left out: the code moved.
 */
export function meterFuel(bytes: Uint8Array): { metered: Uint8Array; origin: CodeOrigin } {
  try {
    const rewriter = new FuelRewriter(bytes);
    const metered = rewriter.rewrite();
    return { metered, origin: rewriter.origin.done() };
  } catch (error) {
    if (error instanceof ModuleEnded) throw new FuelRefused('its sections end where their counts say more follows');
    throw error;
  }
}

interface Section {
  id: number;
  start: number;
  contentStart: number;
  end: number;
}

class FuelRewriter {
  /** The fuel global's index: the module's own globals come after it. */
  private fuel = 0;
  private readonly out: WasmWriter;
  /** Where the metered code came from; a charge's `unreachable` is placed at the run it charges for. */
  readonly origin = new CodeOriginBuilder();
  /** The current body's anchors: its offset, then the file's code offset. */
  private readonly anchors: number[] = [];

  constructor(private readonly bytes: Uint8Array) {
    this.out = new WasmWriter(bytes.length + (bytes.length >> 1) + 64);
  }

  private reader(from: number, to: number): ModuleReader {
    const r = new ModuleReader(this.bytes.subarray(0, to));
    r.pos = from;
    return r;
  }

  private shift(index: number): number {
    return index >= this.fuel ? index + 1 : index;
  }

  rewrite(): Uint8Array {
    const bytes = this.bytes;
    const r = new ModuleReader(bytes);
    if (!r.hasHeader()) throw new FuelRefused('it is not a WebAssembly module');
    const sections: Section[] = [];
    while (!r.atEnd()) {
      const start = r.pos;
      const id = r.byte();
      const size = r.u32();
      if (size > r.end - r.pos) throw new ModuleEnded();
      sections.push({ id, start, contentStart: r.pos, end: r.pos + size });
      r.pos += size;
    }
    const imports = sections.find((s) => s.id === 2);
    this.fuel = imports ? this.importedGlobals(imports) : 0;
    const out = this.out;
    out.bytes(bytes.subarray(0, 8));
    let importsWritten = false;
    for (const s of sections) {
      if (!imports && !importsWritten && s.id !== 0 && SECTION_ORDER[s.id] > SECTION_ORDER[2]) {
        this.writeSection(2, (o) => this.importSection(o, null));
        importsWritten = true;
      }
      switch (s.id) {
        case 2:
          this.writeSection(2, (o) => this.importSection(o, s));
          importsWritten = true;
          break;
        case 6:
          this.writeSection(6, (o) => this.globalSection(o, s));
          break;
        case 7:
          this.writeSection(7, (o) => this.exportSection(o, s));
          break;
        case 9:
          this.writeSection(9, (o) => this.elementSection(o, s));
          break;
        case 10:
          this.writeSection(10, (o) => this.codeSection(o, s));
          break;
        case 11:
          this.writeSection(11, (o) => this.dataSection(o, s));
          break;
        case 0: {
          const name = this.customName(s);
          if (name === 'name') this.writeSection(0, (o) => this.nameSection(o, s));
          // DWARF and a source map count offsets into the code, which metering moves: a debugger
          // would read them wrong, so they are left out (frames read the file's through the origin)
          else if (name === null || !(name.startsWith('.debug_') || name === 'sourceMappingURL')) out.bytes(bytes.subarray(s.start, s.end));
          break;
        }
        default:
          out.bytes(bytes.subarray(s.start, s.end));
      }
    }
    if (!importsWritten) this.writeSection(2, (o) => this.importSection(o, null));
    return out.done().slice();
  }

  private writeSection(id: number, write: (o: WasmWriter) => void): void {
    const content = new WasmWriter(1024);
    write(content);
    this.out.byte(id);
    this.out.u32(content.length);
    this.out.bytes(content.done());
  }

  private copy(o: WasmWriter, from: number, to: number): void {
    o.bytes(this.bytes.subarray(from, to));
  }

  /** Counts the imported globals; refuses a module that already imports the fuel meter's name. */
  private importedGlobals(s: Section): number {
    const r = this.reader(s.contentStart, s.end);
    const ops = new OperatorReader(r);
    const n = r.u32();
    let globals = 0;
    for (let i = 0; i < n; i++) {
      const module = r.name();
      r.name();
      const kind = r.byte();
      if (module === FUEL_MODULE) throw new FuelRefused(`it imports from "${FUEL_MODULE}", the fuel meter's own name`);
      switch (kind) {
        case 0: // function
          r.u32();
          break;
        case 1: // table: reference type, limits
          ops.readValueType();
          r.skipLimits();
          break;
        case 2: // memory
          r.skipLimits();
          break;
        case 3: // global
          ops.readValueType();
          r.byte();
          globals++;
          break;
        case 4: // tag
          r.byte();
          r.u32();
          break;
        default:
          throw new FuelRefused(`it imports something of kind ${kind}, which the fuel meter does not know`);
      }
    }
    return globals;
  }

  private importSection(o: WasmWriter, s: Section | null): void {
    let n = 0;
    let body = 0;
    if (s) {
      const r = this.reader(s.contentStart, s.end);
      n = r.u32();
      body = r.pos;
    }
    o.u32(n + 1);
    if (s) this.copy(o, body, s.end);
    const name = (text: string) => {
      const b = Buffer.from(text, 'utf8');
      o.u32(b.length);
      o.bytes(b);
    };
    name(FUEL_MODULE);
    name(FUEL_NAME);
    o.byte(3); // a global
    o.byte(0x7e); // i64
    o.byte(1); // mutable
  }

  /** Copies a constant expression up to its `end`, moving the globals it reads. */
  private constExpr(o: WasmWriter, r: ModuleReader): void {
    const ops = new OperatorReader(r);
    for (;;) {
      const start = r.pos;
      const code = this.bytes[start];
      const f = ops.next();
      if (f & GLOBAL_ACCESS) {
        this.copy(o, start, ops.globalAt);
        o.u32(this.shift(ops.globalIndex));
      } else {
        this.copy(o, start, r.pos);
      }
      if (code === 0x0b) return;
    }
  }

  private globalSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    const ops = new OperatorReader(r);
    const n = r.u32();
    o.u32(n);
    for (let i = 0; i < n; i++) {
      const start = r.pos;
      ops.readValueType();
      r.byte(); // mutability
      this.copy(o, start, r.pos);
      this.constExpr(o, r);
    }
  }

  private exportSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    const n = r.u32();
    o.u32(n);
    for (let i = 0; i < n; i++) {
      const start = r.pos;
      r.name();
      const kind = r.byte();
      this.copy(o, start, r.pos);
      const index = r.u32();
      o.u32(kind === 3 ? this.shift(index) : index);
    }
  }

  private elementSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    const ops = new OperatorReader(r);
    const n = r.u32();
    o.u32(n);
    for (let i = 0; i < n; i++) {
      const flags = r.u32();
      o.u32(flags);
      const active = !(flags & 1);
      const explicitTable = flags & 2;
      const exprs = flags & 4;
      let start = r.pos;
      if (active && explicitTable) r.u32();
      this.copy(o, start, r.pos);
      if (active) this.constExpr(o, r);
      start = r.pos;
      // an element kind (functions) or a reference type, but for flags 0 and 4
      if (flags & 3) {
        if (exprs) ops.readValueType();
        else r.byte();
      }
      const count = r.u32();
      this.copy(o, start, r.pos);
      for (let j = 0; j < count; j++) {
        if (exprs) this.constExpr(o, r);
        else o.u32(r.u32());
      }
    }
  }

  private dataSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    const n = r.u32();
    o.u32(n);
    for (let i = 0; i < n; i++) {
      const flags = r.u32();
      o.u32(flags);
      if (flags === 2) o.u32(r.u32());
      if (flags !== 1) this.constExpr(o, r);
      const start = r.pos;
      const size = r.u32();
      if (size > r.end - r.pos) throw new ModuleEnded();
      r.pos += size;
      this.copy(o, start, r.pos);
    }
  }

  /** A custom section's name; null when it cannot be read. */
  private customName(s: Section): string | null {
    try {
      return this.reader(s.contentStart, s.end).name();
    } catch (error) {
      if (error instanceof ModuleEnded) return null;
      throw error;
    }
  }

  /** The `name` section with the global names (subsection 7) moved up one index. */
  private nameSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    r.name();
    this.copy(o, s.contentStart, r.pos);
    try {
      while (!r.atEnd()) {
        const start = r.pos;
        const id = r.byte();
        const size = r.u32();
        if (size > r.end - r.pos) throw new ModuleEnded();
        const end = r.pos + size;
        if (id !== 7) {
          this.copy(o, start, end);
          r.pos = end;
          continue;
        }
        const sub = new WasmWriter(size + 16);
        const n = r.u32();
        sub.u32(n);
        for (let i = 0; i < n; i++) {
          sub.u32(this.shift(r.u32()));
          const nameStart = r.pos;
          r.name();
          sub.bytes(this.bytes.subarray(nameStart, r.pos));
        }
        r.pos = end;
        o.byte(7);
        o.u32(sub.length);
        o.bytes(sub.done());
      }
    } catch (error) {
      // a malformed name section is the producer's word: what was read stays, the rest goes
      if (!(error instanceof ModuleEnded)) throw error;
    }
  }

  private codeSection(o: WasmWriter, s: Section): void {
    const r = this.reader(s.contentStart, s.end);
    const n = r.u32();
    o.u32(n);
    const body = new WasmWriter(4096);
    for (let i = 0; i < n; i++) {
      const size = r.u32();
      if (size > r.end - r.pos) throw new ModuleEnded();
      const end = r.pos + size;
      body.length = 0;
      this.anchors.length = 0;
      const fileStart = r.pos - s.contentStart;
      try {
        this.functionBody(body, this.reader(r.pos, end), s.contentStart);
      } catch (error) {
        if (error instanceof FuelRefused) throw new FuelRefused(`function ${i} of its code section: ${error.message}`);
        throw error;
      }
      r.pos = end;
      o.u32(body.length);
      this.origin.anchor(o.length, fileStart);
      for (let a = 0; a < this.anchors.length; a += 2) this.origin.anchor(o.length + this.anchors[a], this.anchors[a + 1]);
      o.bytes(body.done());
    }
  }

  /**
   * One function's body: its locals as they are, then each run of operators after what it costs.
   * `codeStart`: where the code section's contents start, which the anchors count from.
   */
  private functionBody(o: WasmWriter, r: ModuleReader, codeStart: number): void {
    const anchor = (at: number, file: number) => this.anchors.push(at, file - codeStart);
    const ops = new OperatorReader(r);
    const localsStart = r.pos;
    const groups = r.u32();
    for (let i = 0; i < groups; i++) {
      r.u32();
      ops.readValueType();
    }
    this.copy(o, localsStart, r.pos);
    // a run: the operators from runStart, with the global indices found in it to move
    let runStart = r.pos;
    let cost = 0;
    const patches: number[] = [];
    const flush = (runEnd: number) => {
      if (cost > 0) {
        this.charge(o, cost);
        // its unreachable (then end): where a run out of fuel stops, named as the run's first operator
        anchor(o.length - 2, runStart);
        anchor(o.length, runStart);
      }
      let from = runStart;
      for (let p = 0; p < patches.length; p += 3) {
        this.copy(o, from, patches[p]);
        o.u32(this.shift(patches[p + 2]));
        from = patches[p + 1];
        anchor(o.length, from);
      }
      this.copy(o, from, runEnd);
      patches.length = 0;
      cost = 0;
      runStart = runEnd;
    };
    while (r.pos < r.end) {
      const f = ops.next();
      if (f & COSTS) cost++;
      if (f & GLOBAL_ACCESS && ops.globalIndex >= this.fuel) patches.push(ops.globalAt, ops.globalEnd, ops.globalIndex);
      if (f & ENDS_RUN) flush(r.pos);
    }
    flush(r.pos);
  }

  /** `fuel -= cost; if (fuel < 0) unreachable`: stack-neutral, so valid anywhere, dead code included. */
  private charge(o: WasmWriter, cost: number): void {
    const g = this.fuel;
    o.byte(0x23);
    o.u32(g);
    o.byte(0x42);
    o.positive(cost);
    o.byte(0x7d); // i64.sub
    o.byte(0x24);
    o.u32(g);
    o.byte(0x23);
    o.u32(g);
    o.byte(0x42);
    o.byte(0x00);
    o.byte(0x53); // i64.lt_s
    o.byte(0x04);
    o.byte(0x40);
    o.byte(0x00); // unreachable
    o.byte(0x0b);
  }
}
