import type { HostFunctionTable } from '../model/engine';
import { internalError, IpcError, PluginError } from '../model/errors';

/** The most of a plugin's error text (or an AssemblyScript abort's) a message carries. */
export const MAX_ERROR_BYTES = 64 * 1024;

/**
 * A host function that turns any error it did not mean to throw into an internal failure naming
 * it and `calling()` (the plugin and its export), or undefined when the table has none by that name.
 * One wrapper per arity (a rest-args one costs a spread and an array per call): a function gets
 * the arguments it declares (`fn.length`), or all of them when it declares none.
 */
export function guarded(functions: HostFunctionTable['env'], name: string, calling: () => string): WebAssembly.ImportValue | undefined {
  if (!Object.hasOwn(functions, name)) return undefined;
  const fn = functions[name] as (...args: unknown[]) => unknown;
  const fail = (error: unknown): Error => {
    if (error instanceof IpcError || (error instanceof RangeError && /call stack/i.test(error.message))) return error;
    return internalError(`${calling()}: ${name}`, error);
  };
  switch (fn.length) {
    case 1:
      return (a: unknown) => {
        try {
          return fn(a);
        } catch (error) {
          throw fail(error);
        }
      };
    case 2:
      return (a: unknown, b: unknown) => {
        try {
          return fn(a, b);
        } catch (error) {
          throw fail(error);
        }
      };
    case 3:
      return (a: unknown, b: unknown, c: unknown) => {
        try {
          return fn(a, b, c);
        } catch (error) {
          throw fail(error);
        }
      };
    default:
      return (...args: unknown[]) => {
        try {
          return fn(...args);
        } catch (error) {
          throw fail(error);
        }
      };
  }
}

/**
 * AssemblyScript's `env.abort(message, file, line, column)`: it throws naming the plugin, its
 * strings (UTF-16, their byte length just before them) read from the plugin's own memory.
 */
export function assemblyScriptAbort(memoryOf: () => unknown, label: () => string): (message: number, file: number, line: number, column: number) => never {
  return (message, file, line, column) => {
    const memory = memoryOf();
    const text = (ptr: number) => {
      if (!(memory instanceof WebAssembly.Memory) || ptr < 4 || ptr >= memory.buffer.byteLength) return '?';
      const bytes = new Uint32Array(memory.buffer.slice(ptr - 4, ptr))[0];
      const shown = Math.min(bytes, memory.buffer.byteLength - ptr, MAX_ERROR_BYTES);
      const cut = bytes > shown ? `… (${bytes - shown} more bytes cut)` : '';
      return Buffer.from(memory.buffer, ptr, shown & ~1).toString('utf16le') + cut;
    };
    throw new PluginError(`${label()} aborted: ${text(message)} at ${text(file)}:${line}:${column}`);
  };
}
