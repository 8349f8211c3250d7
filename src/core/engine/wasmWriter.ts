/** Bytes of a module being written: a buffer that grows, LEB128s, copies of ranges. */
export class WasmWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  u32(n: number): void {
    this.room(5);
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      this.buf[this.length++] = b;
    } while (n);
  }

  /**
   * A u32 LEB128 in exactly `width` bytes (padded with continuation bytes, as linkers leave
   * relocated indices), or false, writing nothing, when it needs more.
   */
  u32Width(n: number, width: number): boolean {
    if (width < 1 || width > 5 || (width < 5 && n >= 2 ** (7 * width))) return false;
    this.room(width);
    for (let i = 0; i < width; i++) {
      const b = n & 0x7f;
      n = Math.floor(n / 128);
      this.buf[this.length++] = i < width - 1 ? b | 0x80 : b;
    }
    return true;
  }

  /** A positive number as a signed LEB128. */
  positive(n: number): void {
    for (;;) {
      const b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n === 0 && !(b & 0x40)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  name(text: string): void {
    const data = Buffer.from(text, 'utf8');
    this.u32(data.length);
    this.bytes(data);
  }

  /** A section: its id, its size, its content. */
  section(id: number, content: WasmWriter): void {
    this.byte(id);
    this.u32(content.length);
    this.bytes(content.done());
  }

  done(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
