import { PluginError } from '../model/errors';
import type { Kernel } from './kernel';

const hex = (offs: bigint) => `0x${BigInt.asUintN(64, offs).toString(16)}`;
const outputCall = (offs: bigint, length: bigint) => `output_set(${hex(offs)}, ${length})`;

/**
 * The one way the host reads and writes a plugin's Extism memory. A plugin can store anything over
 * the kernel's block headers and hand the host any offset and length, so every range is checked
 * against the memory itself before a view is taken or a byte is copied; a bad one fails the call
 * with a message that names the plugin, the function running and the kernel or host call.
 */
export class ExtismMemory {
  private view: Uint8Array;

  constructor(
    private readonly kernel: Kernel,
    /** `plugin #3 (x).run`: the plugin and the function it is running. */
    private readonly where: () => string,
  ) {
    this.view = new Uint8Array(kernel.memory.buffer);
  }

  /**
   * A view of the whole memory; renewed when the memory has grown, which detaches the old buffer
   * (its views then read as empty), so the hot path reads no `memory.buffer`.
   */
  private bytes(): Uint8Array {
    if (this.view.byteLength === 0) this.view = new Uint8Array(this.kernel.memory.buffer);
    return this.view;
  }

  fault(message: string): PluginError {
    return new PluginError(`${this.where()}: ${message}`);
  }

  /** `[offs, offs + length)` as a view valid until the plugin runs again, or a fault naming `call`. */
  range(offs: bigint, length: bigint, call: string, suffix = ''): Uint8Array {
    const start = this.checked(offs, length, call, suffix);
    return this.view.subarray(start, start + Number(length));
  }

  /** The start of `[offs, offs + length)` as a Number, once the range is checked against the memory. */
  private checked(offs: bigint, length: bigint, call: string, suffix: string): number {
    const size = this.bytes().byteLength;
    // as Numbers: a value past 2^53 rounds, but stays far past any memory size
    const start = Number(offs);
    const n = Number(length);
    if (start < 0 || n < 0 || start > size || n > size - start) {
      throw this.fault(`${call}${suffix}(${hex(offs)}, ${length}) is outside its Extism memory (${size} bytes)`);
    }
    return start;
  }

  /** The bytes of a block; 0 is the empty block. */
  block(offs: bigint, call: string): Uint8Array {
    if (offs === 0n) return this.bytes().subarray(0, 0);
    const length = this.kernel.exports.length(offs);
    if (length === 0n) throw this.fault(`${call}: ${hex(offs)} is not an Extism memory block`);
    return this.range(offs, length, call);
  }

  string(offs: bigint, call: string): string {
    const bytes = this.block(offs, call);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  /**
   * The output a plugin set: a block, or the first bytes of one. The native kernel only keeps the
   * range inside its heap, which lets a plugin hand over bytes it never wrote; the JS SDK, as here,
   * holds it to one block.
   */
  output(offs: bigint, length: bigint): Uint8Array {
    if (offs === 0n && length === 0n) return this.bytes().subarray(0, 0);
    const have = this.kernel.exports.length(offs);
    if (have === 0n) {
      this.range(offs, length, 'output_set');
      throw this.fault(`${outputCall(offs, length)}: ${hex(offs)} is not an Extism memory block`);
    }
    if (length > have) throw this.fault(`${outputCall(offs, length)} is longer than its block (${have} bytes)`);
    return this.range(offs, length, 'output_set');
  }

  /** A new block of `length` bytes; returns its offset (0 for none). */
  alloc(length: bigint, call: string): bigint {
    if (length <= 0n) return 0n;
    const offs = this.kernel.exports.alloc(length);
    if (offs === 0n) throw this.fault(`${call}: the kernel could not allocate ${length} bytes`);
    this.checked(offs, length, call, ': alloc');
    return offs;
  }

  /** Copies bytes into a new block; returns its offset (0 for no bytes). */
  write(data: Uint8Array, call: string): bigint {
    if (data.byteLength === 0) return 0n;
    const offs = this.kernel.exports.alloc(BigInt(data.byteLength));
    if (offs === 0n) throw this.fault(`${call}: the kernel could not allocate ${data.byteLength} bytes`);
    const length = BigInt(data.byteLength);
    // checked first: it renews the view when the allocation grew the memory
    const start = this.checked(offs, length, call, ': alloc');
    this.view.set(data, start);
    return offs;
  }
}
