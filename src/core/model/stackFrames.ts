/**
 * The stack of a failure inside plugins: one frame per wasm function, innermost first, and a
 * crossing line where one plugin called another (call_plugin or a binding). The kernel's and the
 * host's own JavaScript frames are never among them.
 */
export interface StackFrame {
  /** The plugin the frame runs in, as messages name it: `plugin #2 (callee)`. */
  plugin: string;
  /** The function, demangled; `wasm-function[N]` when the module has no name for it. */
  function: string;
  /** Byte offset in the module (of the call instruction, for frames below the top). */
  offset: number;
  /** From DWARF `.debug_line`, when the module has it: the source file, its 1-based line and column. */
  file?: string;
  line?: number;
  column?: number;
  /** Set on a crossing line: how `plugin` called the frames above it (`call_plugin`, `bound <import>`). */
  crossing?: string;
}

/** A frame as one line of text: `check_invariant (callee.c:8:5)`, `run (wasm offset 0x1a2)`, a crossing. */
export function frameText(frame: StackFrame): string {
  if (frame.crossing !== undefined) return `${frame.crossing} from ${frame.plugin}`;
  return `${frame.function} (${frameWhere(frame)})`;
}

/** Where a frame is: `file:line:col` with DWARF, else its byte offset in the module. */
export function frameWhere(frame: StackFrame): string {
  if (frame.file !== undefined && frame.line !== undefined) {
    return `${frame.file}:${frame.line}${frame.column ? `:${frame.column}` : ''}`;
  }
  return `wasm offset 0x${frame.offset.toString(16)}`;
}

/** The innermost frame that is a function (not a crossing): where the failure happened. */
export function topFrame(frames: readonly StackFrame[] | undefined): StackFrame | undefined {
  return frames?.find((f) => f.crossing === undefined);
}

/** A frames array from untrusted input (the transport): only well-formed frames are kept. */
export function checkedFrames(value: unknown): StackFrame[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const frames: StackFrame[] = [];
  for (const v of value.slice(0, 1000) as unknown[]) {
    if (typeof v !== 'object' || v === null) continue;
    const f = v as Record<string, unknown>;
    if (typeof f.plugin !== 'string' || typeof f.function !== 'string' || typeof f.offset !== 'number') continue;
    const frame: StackFrame = { plugin: f.plugin, function: f.function, offset: f.offset };
    if (typeof f.file === 'string') frame.file = f.file;
    if (typeof f.line === 'number') frame.line = f.line;
    if (typeof f.column === 'number') frame.column = f.column;
    if (typeof f.crossing === 'string') frame.crossing = f.crossing;
    frames.push(frame);
  }
  return frames;
}

/** How a failure on its way out of a callee was called, until its caller's frames are added. */
const crossings = new WeakMap<object, string>();

/** Notes, as a failure leaves a callee for the plugin that called it, how it was called (`call_plugin`, `bound <import>`). */
export function noteCrossing(error: unknown, via: string): void {
  if ((typeof error === 'object' || typeof error === 'function') && error !== null) crossings.set(error, via);
}

/** The crossing noted on the failure, once. */
export function takeCrossing(error: object): string | null {
  const via = crossings.get(error);
  if (via === undefined) return null;
  crossings.delete(error);
  return via;
}

/** A failure as text: its message with the top frame, then the stack one frame a line, then its notes. */
export function failureText(message: string, frames: readonly StackFrame[] | undefined, notes?: readonly string[], indent = '    '): string {
  const top = topFrame(frames);
  let text = top ? `${message} at ${frameText(top)}` : message;
  if (frames && frames.length > 1) text += frames.map((f) => `\n${indent}${frameText(f)}`).join('');
  if (notes) text += notes.map((n) => `\n${indent}note: ${n}`).join('');
  return text;
}
