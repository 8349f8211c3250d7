/** A read past the end of a module, or a form the reader does not know. */
export class ModuleEnded extends Error {}

/**
 * Reads a module's bytes: never past the end, a LEB128 u32 of at most five bytes, a name only as
 * long as the bytes left. A module's claims (counts, sizes) never size an allocation here.
 */
export class ModuleReader {
  pos = 8;
  readonly end: number;

  constructor(private readonly bytes: Uint8Array) {
    this.end = bytes.length;
  }

  hasHeader(): boolean {
    const b = this.bytes;
    return b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new ModuleEnded();
    return this.bytes[this.pos++];
  }

  u32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return result;
    }
    throw new ModuleEnded();
  }

  /** Reads past a LEB128 of up to 64 bits. */
  leb(): void {
    for (let i = 0; i < 10; i++) if (!(this.byte() & 0x80)) return;
    throw new ModuleEnded();
  }

  /**
   * A name cut to at most `maxChars` characters (decoding no more than four bytes a character), and
   * whether it was cut: a giant name costs no more than a short one.
   */
  nameCut(maxChars: number): { text: string; cut: boolean } {
    const n = this.u32();
    if (n > this.end - this.pos) throw new ModuleEnded();
    const take = Math.min(n, maxChars * 4);
    let text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, take).toString('utf8');
    this.pos += n;
    const chars = Array.from(text);
    const cut = take < n || chars.length > maxChars;
    if (chars.length > maxChars) text = chars.slice(0, maxChars).join('');
    return { text: cut ? `${text}…` : text, cut };
  }

  /** Reads past limits: flags, a minimum, and a maximum when bit 0 of the flags says so. */
  skipLimits(): void {
    const flags = this.byte();
    this.leb();
    if (flags & 1) this.leb();
  }

  /** Reads past a value type: one byte, or a reference type with its heap type (`ref null? ht`). */
  skipValueType(): void {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) this.leb();
  }

  /** Reads past the description of an imported table, memory, global or tag (kinds 1 to 4). */
  skipImportDescription(kind: number): void {
    if (kind === 1) {
      this.skipValueType();
      this.skipLimits();
    } else if (kind === 2) this.skipLimits();
    else if (kind === 3) {
      this.skipValueType();
      this.byte();
    } else if (kind === 4) {
      this.byte();
      this.u32();
    } else throw new ModuleEnded();
  }

  name(): string {
    const n = this.u32();
    if (n > this.end - this.pos) throw new ModuleEnded();
    const s = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, n).toString('utf8');
    this.pos += n;
    return s;
  }
}
