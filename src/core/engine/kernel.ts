import kernelWasm from './kernel.wasm';

/** The exports of our kernel module (kernel.wat): the `extism:host/env` memory and I/O functions. */
export interface KernelExports {
  alloc(n: bigint): bigint;
  free(offs: bigint): void;
  length(offs: bigint): bigint;
  length_unsafe(offs: bigint): bigint;
  load_u8(offs: bigint): number;
  load_u64(offs: bigint): bigint;
  store_u8(offs: bigint, v: number): void;
  store_u64(offs: bigint, v: bigint): void;
  input_set(offs: bigint, n: bigint): void;
  input_length(): bigint;
  input_offset(): bigint;
  input_load_u8(i: bigint): number;
  input_load_u64(i: bigint): bigint;
  output_set(offs: bigint, n: bigint): void;
  output_length(): bigint;
  output_offset(): bigint;
  error_set(offs: bigint): void;
  error_get(): bigint;
  memory_bytes(): bigint;
  reset(): void;
  // the host's side, in unsigned i32 (read with `>>> 0`): not importable by a plugin
  host_alloc(n: number): number;
  host_length(offs: bigint): number;
  host_begin(n: number): number;
  host_output(): number;
  host_output_length(): number;
}

/** Names a plugin may import from `extism:host/env` that the kernel module itself implements. */
export const KERNEL_FUNCTIONS = new Set([
  'alloc', 'free', 'length', 'length_unsafe', 'load_u8', 'load_u64', 'store_u8', 'store_u64',
  'input_set', 'input_length', 'input_offset', 'input_load_u8', 'input_load_u64',
  'output_set', 'output_length', 'output_offset', 'error_set', 'error_get', 'memory_bytes', 'reset',
]);

let compiled: WebAssembly.Module | undefined;

export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(kernelWasm);
  return compiled;
}

export interface Kernel {
  exports: KernelExports;
  memory: WebAssembly.Memory;
}

/** A fresh kernel (its own Extism memory) for one plugin instance. */
export function createKernel(maxPages: number, outOfMemory: (requested: bigint) => never): Kernel {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages });
  const instance = new WebAssembly.Instance(kernelModule(), {
    host: { memory, out_of_memory: outOfMemory },
  });
  return { exports: instance.exports as unknown as KernelExports, memory };
}

/** The kernel's bytes, for merging into plugin modules. */
export function kernelBytes(): Uint8Array {
  return kernelWasm;
}

/**
 * The exports of a merged instance parted: the kernel's (named with `prefix`) and Extism memory,
 * the plugin's start function, and the plugin's own exports (a null-prototype object).
 */
export function splitMergedExports(
  exports: WebAssembly.Exports,
  prefix: string,
): { kernel: Kernel; start: (() => void) | null; own: Record<string, unknown> } {
  const own: Record<string, unknown> = Object.create(null);
  const kernel: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(exports)) {
    if (name.startsWith(prefix)) kernel[name.slice(prefix.length)] = exports[name];
    else own[name] = exports[name];
  }
  const memory = kernel.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('a merged module without Extism memory');
  const start = typeof kernel.start === 'function' ? (kernel.start as () => void) : null;
  return { kernel: { exports: kernel as unknown as KernelExports, memory }, start, own };
}
