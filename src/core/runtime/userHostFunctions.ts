import type { FunctionImport, PluginMemory } from '../model/engine';
import { IpcError, PluginError } from '../model/errors';
import type { LogThreshold } from '../model/logging';
import { describePlugin } from '../model/registry';
import { importName, ServedImport, thrownText, UserHostEntry, UserHostFunction } from '../model/userHostFunctions';
import type { Span } from '../../shared/traceRecords';
import { CallContext } from './callContext';
import type { PluginVars } from './pluginVars';

/** A user host function by import; plugins hold the slot, so a reload of its module reaches them. */
export interface HostFunctionSlot {
  readonly module: string;
  readonly name: string;
  /** null once no module supplies it any more. */
  fn: UserHostFunction | null;
  file: string;
}

/** The user host functions of a runtime, later modules overriding earlier ones name by name. */
export class UserHostFunctions {
  private readonly slots = new Map<string, HostFunctionSlot>();
  /** The files that failed to load the last time, and why: the hint for a plugin left without its imports. */
  failures: readonly { file: string; reason: string }[] = [];

  replace(entries: readonly UserHostEntry[], failures: readonly { file: string; reason: string }[]): void {
    const next = new Map<string, UserHostEntry>();
    for (const e of entries) next.set(importName(e.module, e.name), e);
    for (const [key, slot] of this.slots) if (!next.has(key)) slot.fn = null;
    for (const [key, e] of next) {
      const slot = this.slots.get(key);
      if (slot) Object.assign(slot, { fn: e.fn, file: e.file });
      else this.slots.set(key, { module: e.module, name: e.name, fn: e.fn, file: e.file });
    }
    this.failures = failures;
  }

  slot(module: string, name: string): HostFunctionSlot | undefined {
    const slot = this.slots.get(importName(module, name));
    return slot?.fn ? slot : undefined;
  }

  /** What the modules supply now: each import and its file. */
  served(): ServedImport[] {
    return [...this.slots.values()].filter((s) => s.fn).map((s) => ({ import: importName(s.module, s.name), file: s.file }));
  }
}

/** What the user host functions of one plugin need of the runtime. */
export interface UserHostServices {
  functions: UserHostFunctions;
  /** The export the plugin is running, or `(initialization)`. */
  runningFunc(pluginId: number): string;
  hostContext(): unknown;
  logLevel(): LogThreshold;
  /** A span for one host function call (null when tracing is off) and its end. */
  startHostCall(plugin: { id: number; name: string }, module: string, name: string): Span | null;
  endHostCall(span: Span, error: string | null): void;
}

export interface UserHostPlugin extends PluginVars {
  logLevel: LogThreshold | null;
}

/** Whether a user's code threw one of ours (a memory access refused, say): it passes unchanged. */
function isIpcError(error: unknown): error is IpcError {
  try {
    return error instanceof IpcError;
  } catch {
    // a Proxy whose getPrototypeOf trap throws, or a revoked one
    return false;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * What a host function returned, as the import's result, or why it cannot be: a Promise, a number
 * for an i64, a bigint for a number. A number result is converted here (as V8 would convert it),
 * so a value whose conversion throws fails the call as this function's failure. Never throws.
 */
function settle(result: unknown, type: string | null): { value: unknown } | { problem: string } {
  try {
    if (isThenable(result)) {
      // nothing awaits it: its failure must not become an unhandled rejection of the runtime
      Promise.resolve(result).then(undefined, () => undefined);
      return { problem: 'returned a Promise: host functions here are synchronous (an async function cannot be awaited inside a plugin\'s call)' };
    }
    const returns = type === null ? null : type.slice(type.indexOf('-> ') + 3);
    if (returns === 'i64' && typeof result !== 'bigint') {
      const shown = typeof result === 'number' ? `the number ${result}` : thrownText(result);
      return { problem: `returned ${shown} for an i64 result: return a bigint (as with @extism/extism), such as ${typeof result === 'number' && Number.isSafeInteger(result) ? `${result}n` : '0n'}` };
    }
    if (returns === 'i32' || returns === 'f32' || returns === 'f64') {
      if (typeof result === 'bigint') return { problem: `returned the bigint ${result}n for an ${returns} result: return a number` };
      return { value: typeof result === 'number' ? result : Number(result) };
    }
    return { value: result };
  } catch {
    return { problem: 'returned a value that cannot be read' };
  }
}

/**
 * The user host functions one plugin imports, as functions for its instance: each calls the user's
 * function with a call context and the import's parameters, checks what it returns, and records a span.
 */
export function userHostImports(
  services: UserHostServices,
  plugin: UserHostPlugin,
  memory: PluginMemory,
  imports: readonly FunctionImport[],
): { module: string; name: string; fn: (...args: unknown[]) => unknown }[] {
  let span: Span | null = null;
  let key = '';
  const where = () => `${describePlugin(plugin)}.${services.runningFunc(plugin.id)}: host function ${key}`;
  const context = new CallContext({
    plugin,
    memory,
    hostContext: () => services.hostContext(),
    logLevel: () => services.logLevel(),
    read: (bytes) => {
      if (!span) return;
      if (span.inputBytes === 0) span.inputHead = bytes;
      span.inputBytes += bytes.byteLength;
    },
    stored: (bytes) => {
      if (!span) return;
      if (span.outputBytes === 0) span.outputHead = bytes;
      span.outputBytes += bytes.byteLength;
    },
    where,
  });
  /** Ends the span of the host function call under way, if tracing made one. */
  const end = (error: string | null): void => {
    if (span) services.endHostCall(span, error);
    span = null;
  };
  const fail = (error: IpcError): never => {
    end(error.message);
    throw error;
  };
  const out: { module: string; name: string; fn: (...args: unknown[]) => unknown }[] = [];
  for (const imp of imports) {
    const slot = services.functions.slot(imp.module, imp.name);
    if (!slot) continue;
    const thisKey = importName(imp.module, imp.name);
    const fn = (...args: unknown[]): unknown => {
      key = thisKey;
      const user = slot.fn;
      if (!user) return fail(new PluginError(`${where()} is no longer supplied by any host-function module (it was in ${slot.file})`));
      span = services.startHostCall(plugin, imp.module, imp.name);
      let result: unknown;
      try {
        result = user(context, ...args);
      } catch (error) {
        return fail(isIpcError(error) ? error : new PluginError(`${where()} failed: ${thrownText(error)}`));
      }
      const settled = settle(result, imp.type);
      if ('problem' in settled) return fail(new PluginError(`${where()} ${settled.problem}`));
      end(null);
      return settled.value;
    };
    out.push({ module: imp.module, name: imp.name, fn });
  }
  return out;
}
