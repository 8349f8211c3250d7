import { demangle } from './demangler';
import { StackFrame, takeCrossing } from '../model/stackFrames';
import { debugInfoNote, ModuleSymbols, symbolsOf } from './moduleSymbols';

/**
 * The stack of a failure inside plugins, read only when a call fails. A trap's error (or an error a
 * host function threw while a plugin ran) holds every wasm frame below it, nested plugins included,
 * in segments between the host's JavaScript frames: the innermost plugin's first. Each plugin
 * instance the failure passes through on its way out claims the next segment as its frames; a
 * crossing between plugins is noted as the failure leaves the callee and placed above the caller's
 * frames. Nothing here runs on a call that succeeds.
 */

/** Frames V8 keeps for an error made while a plugin runs (10 by default): enough for nested plugins. */
export const STACK_TRACE_LIMIT = 256;

interface RawFrame {
  url: string;
  name: string | null;
  index: number;
  position: number;
}

interface StackState {
  /** The wasm frames in segments, innermost first; null until read from the error. */
  segments: RawFrame[][] | null;
  next: number;
  /** Plugins already given a note on debug info. */
  noted: Set<string>;
}

/** What the failure path fills in on the error it throws. */
export interface FramedError extends Error {
  frames?: StackFrame[];
  notes?: string[];
}

const states = new WeakMap<object, StackState>();

/** The plugin instance claiming frames: its label, main module and linked modules. */
export interface StackOwner {
  label: string;
  module: WebAssembly.Module;
  linked: Iterable<WebAssembly.Module>;
}

/**
 * Adds the frames of `owner` to `result` (the error its call throws), read from `cause` (what it
 * caught) or from `result` itself. Never throws: a stack is a help, not the failure.
 */
export function claimFrames(result: FramedError, cause: unknown, owner: StackOwner): void {
  try {
    let state = states.get(result) ?? (cause !== result && isObject(cause) ? states.get(cause) : undefined);
    if (!state) state = { segments: null, next: 0, noted: new Set() };
    if (state.segments === null) state.segments = readSegments(cause) ?? (cause !== result ? readSegments(result) : null) ?? [];
    states.set(result, state);
    const main = symbolsOf(owner.module);
    const segment = nextSegment(state, main);
    if (!segment) return;
    const linked = [...owner.linked].map(symbolsOf).filter((s): s is ModuleSymbols => s !== undefined);
    const frames: StackFrame[] = [];
    let noDwarf: ModuleSymbols | undefined;
    for (const raw of segment) {
      const symbols = raw.url === main?.url ? main : linkedFor(raw, linked);
      if (!symbols) continue; // the kernel's, or a module this host compiled for itself
      const offset = symbols.fileOffset(raw.position);
      if (offset === null) continue; // the kernel's, merged into the plugin's module
      const name = raw.name !== null ? demangle(raw.name) : `wasm-function[${symbols.fileFunction(raw.index) ?? raw.index}]`;
      const frame: StackFrame = { plugin: owner.label, function: name, offset };
      const at = symbols.position(raw.position);
      if (at) {
        frame.file = at.file;
        frame.line = at.line;
        if (at.column) frame.column = at.column;
      } else if (!symbols.hasDwarf()) noDwarf ??= symbols;
      frames.push(frame);
    }
    const all = result.frames ?? [];
    const crossing = takeCrossing(result);
    if (crossing !== null) all.push({ plugin: owner.label, function: crossing, offset: frames[0]?.offset ?? 0, crossing });
    all.push(...frames);
    result.frames = all;
    if (noDwarf && !state.noted.has(owner.label)) {
      state.noted.add(owner.label);
      (result.notes ??= []).push(debugInfoNote(owner.label, noDwarf.producer(segment.map((f) => f.name))));
    }
  } catch {
    // a stack that cannot be read leaves the error as it is
  }
}

/** The next segment, which must be this module's: its outermost frame is the export the host called. */
function nextSegment(state: StackState, main: ModuleSymbols | undefined): RawFrame[] | undefined {
  const segments = state.segments ?? [];
  while (state.next < segments.length) {
    const segment = segments[state.next++];
    const bottom = segment[segment.length - 1];
    if (!main) return segment;
    if (main.url === null && main.hasCode(bottom.position)) main.url = bottom.url;
    if (main.url === bottom.url) return segment;
  }
  return undefined;
}

function linkedFor(raw: RawFrame, linked: ModuleSymbols[]): ModuleSymbols | undefined {
  for (const symbols of linked) {
    if (symbols.url === raw.url) return symbols;
  }
  // a linked module not seen in a frame yet: the first whose code holds the offset
  const found = linked.find((s) => s.url === null && s.hasCode(raw.position));
  if (found) found.url = raw.url;
  return found;
}

/** The wasm frames of an error in segments (split by the JavaScript frames between them), or null. */
function readSegments(error: unknown): RawFrame[][] | null {
  if (!isObject(error)) return null;
  const frames = callSites(error as Error);
  if (frames === null) return null;
  const segments: RawFrame[][] = [];
  let current: RawFrame[] = [];
  for (const frame of frames) {
    if (frame) current.push(frame);
    else if (current.length) {
      segments.push(current);
      current = [];
    }
  }
  if (current.length) segments.push(current);
  return segments;
}

/** Each frame of the error's stack: a wasm frame, or null for a JavaScript one. */
function callSites(error: Error): (RawFrame | null)[] | null {
  let sites: NodeJS.CallSite[] | null = null;
  const saved = Error.prepareStackTrace;
  let text: unknown;
  try {
    Error.prepareStackTrace = (e, s) => {
      sites = s;
      return saved ? saved(e, s) : `${String(e)}${s.map((site) => `\n    at ${String(site)}`).join('')}`;
    };
    text = error.stack;
  } finally {
    Error.prepareStackTrace = saved;
  }
  if (sites !== null) return (sites as NodeJS.CallSite[]).map(wasmFrameOfSite);
  // the stack was made into text before: read the frames from it
  if (typeof text !== 'string') return null;
  return text.split('\n').slice(1).map(wasmFrameOfLine);
}

const WASM_LOCATION = /(wasm:\/\/wasm\/[^:\s()]+):wasm-function\[(\d+)\]:0x([0-9a-f]+)/;

function wasmFrameOfSite(site: NodeJS.CallSite): RawFrame | null {
  const url = site.getFileName();
  if (typeof url !== 'string' || !url.startsWith('wasm://')) return null;
  const match = WASM_LOCATION.exec(String(site));
  const position = (site as unknown as { getPosition?: () => number }).getPosition?.() ?? (match ? parseInt(match[3], 16) : 0);
  return { url, name: site.getFunctionName(), index: match ? Number(match[2]) : -1, position };
}

function wasmFrameOfLine(line: string): RawFrame | null {
  const match = WASM_LOCATION.exec(line);
  if (!match) return null;
  const named = /^\s*at (.*) \(wasm:\/\//.exec(line);
  return { url: match[1], name: named ? named[1] : null, index: Number(match[2]), position: parseInt(match[3], 16) };
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}
