/** Function indices `[first, first + count)` of a rewritten module, the file's from `fileFirst` on. */
export interface FunctionRange {
  first: number;
  count: number;
  fileFirst: number;
}

/**
 * Where a rewritten module's code came from, so that its frames and profiles name the file's places:
 * the file's byte offsets and function indices. Offsets here are from the start of a code section's
 * contents (as DWARF counts them).
 */
export class CodeOrigin {
  /**
   * `at`: offsets in the rewritten code where the shift from the file's code changes, ascending;
   * `from`: the file's offset at each, or -1 from there on for code that is not the file's (the
   * merged kernel). `functions`: the indices that are the file's; without it, every index is.
   */
  constructor(
    private readonly at: Uint32Array,
    private readonly from: Int32Array,
    private readonly functions: FunctionRange | null,
  ) {}

  /** The file's code offset of a rewritten code offset; null in code that is not the file's. */
  codeOffset(offset: number): number | null {
    let lo = 0;
    let hi = this.at.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid] <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || this.from[found] < 0) return null;
    return this.from[found] + (offset - this.at[found]);
  }

  /** The file's index of a rewritten module's function; null for one that is not the file's. */
  functionIndex(index: number): number | null {
    if (!this.functions) return index;
    const { first, count, fileFirst } = this.functions;
    return index >= first && index < first + count ? fileFirst + index - first : null;
  }
}

/** Collects a `CodeOrigin`'s anchors as a rewrite writes its code section. */
export class CodeOriginBuilder {
  private readonly at: number[] = [];
  private readonly from: number[] = [];

  /** From `rewritten` on, the code is the file's from `file` on (-1: not the file's). */
  anchor(rewritten: number, file: number): void {
    const last = this.at.length - 1;
    if (last >= 0) {
      const was = this.from[last];
      if (was < 0 ? file < 0 : file >= 0 && was - this.at[last] === file - rewritten) return;
    }
    if (last >= 0 && this.at[last] === rewritten) {
      this.from[last] = file;
      return;
    }
    this.at.push(rewritten);
    this.from.push(file);
  }

  done(functions: FunctionRange | null = null): CodeOrigin {
    return new CodeOrigin(Uint32Array.from(this.at), Int32Array.from(this.from), functions);
  }
}
