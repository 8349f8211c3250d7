// How plugins reach the kernel in this process. A leaf with no engine state: the faces print it.

/** A module with two memories: valid where V8 has multi-memory (V8 12+: Node 22+, VS Code's Electron). */
const TWO_MEMORIES = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 1, 0, 1]);

export type KernelPath = 'merged' | 'separate';

let decided: { path: KernelPath; why: string } | undefined;

/**
 * Decided once: the kernel merged into each plugin module where V8 has multi-memory (unless the
 * environment says `EXTISM_IPC_KERNEL=separate`), otherwise a kernel instance per plugin.
 */
export function kernelPath(): { path: KernelPath; why: string } {
  if (decided) return decided;
  if (process.env.EXTISM_IPC_KERNEL === 'separate') decided = { path: 'separate', why: 'EXTISM_IPC_KERNEL=separate' };
  else if (!WebAssembly.validate(TWO_MEMORIES)) decided = { path: 'separate', why: 'this V8 has no multi-memory' };
  else decided = { path: 'merged', why: 'multi-memory' };
  return decided;
}

/** One line for `--version` and the log: Node, its V8, and the kernel's path. */
export function kernelPathLine(): string {
  const { path, why } = kernelPath();
  const how = path === 'merged' ? 'merged into each plugin module' : 'an instance of its own per plugin';
  return `Node ${process.version} (V8 ${process.versions.v8}); kernel: ${how} (${why})`;
}
