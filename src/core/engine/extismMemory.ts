import { PluginError } from '../model/errors';
import type { Kernel, KernelExports } from './kernel';

const hex = (offs: bigint) => `0x${BigInt.asUintN(64, offs).toString(16)}`;
const outputCall = (offs: bigint, length: bigint) => `output_set(${hex(offs)}, ${length})`;
/** The largest block the kernel hands out (as its `alloc` checks). */
const MAX_BLOCK = 0xfff00000;
const EMPTY = new Uint8Array(0);

/**
 * Whether copying `data` to `offs` would run 15 to 20 times slower than it should: a copy of a few
 * KiB to a few hundred whose destination lies 1 to 31 bytes past its source, modulo 4 KiB, makes
 * each load wait on the store before it (4K aliasing; measured on x86-64). A wasm memory starts
 * on a page, so a view's offset says where its bytes lie.
 */
function aliased(offs: number, data: Uint8Array): boolean {
  const n = data.length;
  if (n < 2048 || n > 512 * 1024) return false;
  const d = (offs - data.byteOffset) & 4095;
  return d !== 0 && d < 32;
}

/**
 * The one way the host reads and writes a plugin's Extism memory. A plugin can store anything over
 * the kernel's block headers and hand the host any offset and length, so every range is checked
 * against the memory itself before a view is taken or a byte is copied; a bad one fails the call
 * with a message that names the plugin, the function running and the kernel or host call.
 *
 * Offsets and lengths cross from the kernel as unsigned i32 (`host_*` exports), so a call makes no
 * BigInt beyond the ones the plugin hands over or gets back.
 */
export class ExtismMemory {
  private buffer: ArrayBuffer;
  private view: Uint8Array;
  private readonly k: KernelExports;

  constructor(
    private readonly kernel: Kernel,
    /** `plugin #3 (x).run`: the plugin and the function it is running. */
    private readonly where: () => string,
  ) {
    this.k = kernel.exports;
    this.buffer = kernel.memory.buffer;
    this.view = new Uint8Array(this.buffer);
  }

  /**
   * The memory's size, its buffer and view renewed when the memory has grown, which detaches the old
   * buffer (its views then read as empty), so the hot path reads no `memory.buffer`.
   */
  private size(): number {
    // `length`, not `byteLength`, on the hot path: the same for bytes, and V8 reads it faster
    const size = this.view.length;
    if (size !== 0) return size;
    this.buffer = this.kernel.memory.buffer;
    this.view = new Uint8Array(this.buffer);
    return this.view.length;
  }

  fault(message: string): PluginError {
    return new PluginError(`${this.where()}: ${message}`);
  }

  private outside(call: string, offs: bigint, length: bigint | number): PluginError {
    return this.fault(`${call}(${hex(offs)}, ${length}) is outside its Extism memory (${this.size()} bytes)`);
  }

  /** Whether `[start, start + n)` lies in the memory (Numbers from unsigned i32 or a BigInt). */
  private inside(start: number, n: number): boolean {
    const size = this.size();
    return start >= 0 && n >= 0 && start <= size && n <= size - start;
  }

  /** `[offs, offs + length)` as a view valid until the plugin runs again, or a fault naming `call`. */
  range(offs: bigint, length: bigint, call: string): Uint8Array {
    // as Numbers: a value past 2^53 rounds, but stays far past any memory size
    const start = Number(offs);
    const n = Number(length);
    if (!this.inside(start, n)) throw this.outside(call, offs, length);
    return new Uint8Array(this.buffer, start, n);
  }

  /** The bytes of a block; 0 is the empty block. */
  block(offs: bigint, call: string): Uint8Array {
    // the kernel checks that offs is a live block (so below 4 GiB) and gives its length
    const n = this.k.host_length(offs) >>> 0;
    if (n === 0) {
      if (offs === 0n) return EMPTY;
      throw this.fault(`${call}: ${hex(offs)} is not an Extism memory block`);
    }
    const start = Number(offs);
    if (!this.inside(start, n)) throw this.outside(call, offs, n);
    return new Uint8Array(this.buffer, start, n);
  }

  string(offs: bigint, call: string): string {
    const bytes = this.block(offs, call);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  /**
   * The output a plugin set, once its call returned: a block, or the first bytes of one, or null
   * when the plugin set an error or the output is not that (`output()` then says which).
   */
  callOutput(): Uint8Array | null {
    const offs = this.k.host_output() >>> 0;
    if (offs === 1) return null;
    if (offs === 0) return EMPTY;
    const n = this.k.host_output_length() >>> 0;
    if (!this.inside(offs, n)) throw this.outside('output_set', BigInt(offs), n);
    return new Uint8Array(this.buffer, offs, n);
  }

  /**
   * The output a plugin set: a block, or the first bytes of one. The native kernel only keeps the
   * range inside its heap, which lets a plugin hand over bytes it never wrote; the JS SDK, as here,
   * holds it to one block.
   */
  output(offs: bigint, length: bigint): Uint8Array {
    if (offs === 0n && length === 0n) return EMPTY;
    const have = BigInt(this.k.host_length(offs) >>> 0);
    if (have === 0n) {
      this.range(offs, length, 'output_set');
      throw this.fault(`${outputCall(offs, length)}: ${hex(offs)} is not an Extism memory block`);
    }
    if (length > have) throw this.fault(`${outputCall(offs, length)} is longer than its block (${have} bytes)`);
    return this.range(offs, length, 'output_set');
  }

  /** A new block of `length` zeroed bytes, as a plugin's `alloc` gives it; returns its offset (0 for none). */
  alloc(length: bigint, call: string): bigint {
    if (length <= 0n) return 0n;
    const offs = this.k.alloc(length);
    if (offs === 0n) throw this.fault(`${call}: the kernel could not allocate ${length} bytes`);
    if (!this.inside(Number(offs), Number(length))) throw this.outside(`${call}: alloc`, offs, length);
    return offs;
  }

  /** Copies bytes into a new block; returns its offset (0 for no bytes). */
  write(data: Uint8Array, call: string): bigint {
    const n = data.length;
    if (n === 0) return 0n;
    let offs = this.k.host_alloc(this.blockSize(n, call)) >>> 0;
    if (offs !== 0 && aliased(offs, data)) offs = this.moved(offs, n);
    return BigInt(this.fill(offs, data, call));
  }

  /** A call begins: the kernel is reset and the input copied into a block of its own, set as the input. */
  begin(input: Uint8Array): void {
    const n = input.length;
    let offs = this.k.host_begin(this.blockSize(n, 'input')) >>> 0;
    if (n === 0) return;
    if (offs !== 0 && aliased(offs, input)) {
      offs = this.moved(offs, n);
      this.k.input_set(BigInt(offs), BigInt(n));
    }
    this.fill(offs, input, 'input');
  }

  /**
   * The block made again further on, past a spacer block, when a copy into it would be aliased:
   * the first one is zeroed (it was made for the host to fill) and freed, and so is the spacer.
   */
  private moved(offs: number, n: number): number {
    if (this.inside(offs, n)) this.view.fill(0, offs, offs + n);
    this.k.free(BigInt(offs));
    const spacer = this.k.alloc(24n);
    const moved = this.k.host_alloc(n) >>> 0;
    this.k.free(spacer);
    return moved;
  }

  /** A length the kernel can take as an i32; past its largest block, its `alloc` refuses it as it does a plugin's. */
  private blockSize(n: number, call: string): number {
    if (n <= MAX_BLOCK) return n;
    this.k.alloc(BigInt(n));
    throw this.fault(`${call}: the kernel could not allocate ${n} bytes`);
  }

  /** Copies data into the block the kernel just made for it (only its padding was zeroed). */
  private fill(offs: number, data: Uint8Array, call: string): number {
    const n = data.length;
    if (offs === 0) throw this.fault(`${call}: the kernel could not allocate ${n} bytes`);
    // checked first: it renews the view when the allocation grew the memory
    const size = this.size();
    if (n > size - offs) {
      throw this.fault(`${call}: alloc(0x${offs.toString(16)}, ${n}) is outside its Extism memory (${size} bytes)`);
    }
    this.view.set(data, offs);
    return offs;
  }
}
