import { PluginError } from '../model/errors';
import type { Kernel } from './kernel';

const hex = (offs: bigint) => `0x${BigInt.asUintN(64, offs).toString(16)}`;

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

  /** A view of the whole memory; renewed when the memory has grown. */
  private bytes(): Uint8Array {
    if (this.view.buffer !== this.kernel.memory.buffer) this.view = new Uint8Array(this.kernel.memory.buffer);
    return this.view;
  }

  fault(message: string): PluginError {
    return new PluginError(`${this.where()}: ${message}`);
  }

  /** `[offs, offs + length)` as a view valid until the plugin runs again, or a fault naming `call`. */
  range(offs: bigint, length: bigint, call: string): Uint8Array {
    const memory = this.bytes();
    const size = BigInt(memory.byteLength);
    if (offs < 0n || length < 0n || offs > size || length > size - offs) {
      throw this.fault(`${call}(${hex(offs)}, ${length}) is outside its Extism memory (${memory.byteLength} bytes)`);
    }
    const start = Number(offs);
    return memory.subarray(start, start + Number(length));
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
    const call = `output_set(${hex(offs)}, ${length})`;
    const have = this.kernel.exports.length(offs);
    if (have === 0n) {
      this.range(offs, length, 'output_set');
      throw this.fault(`${call}: ${hex(offs)} is not an Extism memory block`);
    }
    if (length > have) throw this.fault(`${call} is longer than its block (${have} bytes)`);
    return this.range(offs, length, 'output_set');
  }

  /** Copies bytes into a new block; returns its offset (0 for no bytes). */
  write(data: Uint8Array, call: string): bigint {
    if (data.byteLength === 0) return 0n;
    const offs = this.kernel.exports.alloc(BigInt(data.byteLength));
    if (offs === 0n) throw this.fault(`${call}: the kernel could not allocate ${data.byteLength} bytes`);
    this.range(offs, BigInt(data.byteLength), `${call}: alloc`).set(data);
    return offs;
  }
}
