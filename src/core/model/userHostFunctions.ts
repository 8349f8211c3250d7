// The host functions a user supplies, as plain data and rules: the shape `@extism/extism`'s
// `createPlugin` takes as `functions`, `{ [module]: { [name]: (callContext, ...params) => result } }`.

/** A host function as a user writes it: the call context first, then the import's parameters. */
export type UserHostFunction = (callContext: unknown, ...params: unknown[]) => unknown;

/** One function of a host-function module, with the file it came from. */
export interface UserHostEntry {
  module: string;
  name: string;
  fn: UserHostFunction;
  file: string;
}

/** An import a user host function serves, and the file that serves it: for the tree's tooltip. */
export interface ServedImport {
  /** `module.name`, such as `extism:host/user.kv_read`. */
  import: string;
  file: string;
}

export const EXTISM_ENV = 'extism:host/env';
/** This host's own functions, under both modules a plugin may import them from. */
export const OWN_FUNCTIONS: ReadonlySet<string> = new Set(['register_plugin', 'call_plugin', 'unregister_plugin']);
export const OWN_MODULES: ReadonlySet<string> = new Set(['extism:host/user', 'env']);

export function importName(module: string, name: string): string {
  return `${module}.${name}`;
}

/** Why a module may not define this function, or null when it may. */
export function refusedOverride(module: string, name: string): string | null {
  if (module === EXTISM_ENV) return `${EXTISM_ENV} is Extism's own (memory, config, vars, logs, HTTP) and cannot be overridden`;
  if (OWN_MODULES.has(module) && OWN_FUNCTIONS.has(name)) {
    return `${name} is this host's own (plugins spawn and call plugins through it) and cannot be overridden`;
  }
  return null;
}

/** A version (mtime:size) of a host-function module whose top level did not finish in time. */
export interface HeldModule {
  file: string;
  stamp: string;
}

/** What loading the host-function modules gave: what they serve, each file that failed and why, the held versions. */
export interface HostFunctionsLoad {
  served: ServedImport[];
  failures: { file: string; reason: string }[];
  held: HeldModule[];
}

/** The longest text of a thrown value kept in a message. */
export const MAX_THROWN_TEXT = 64 * 1024;
const UNREADABLE = '(a value that cannot be read)';

/**
 * What a user's code threw, as text: an Error's message, any other value as `String()` gives it,
 * cut at `MAX_THROWN_TEXT`. It never throws: a Proxy whose traps throw, a revoked one, getters
 * or `toString` that throw, all read as "(a value that cannot be read)".
 */
export function thrownText(value: unknown): string {
  try {
    const text = textOf(value);
    return text.length > MAX_THROWN_TEXT ? `${text.slice(0, MAX_THROWN_TEXT)}… (${text.length - MAX_THROWN_TEXT} more characters)` : text;
  } catch {
    return UNREADABLE;
  }
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  if (value instanceof Error) {
    const message: unknown = value.message;
    if (typeof message === 'string') return message;
  }
  try {
    return String(value);
  } catch {
    // no toString of its own (Object.create(null)), or one that throws: its tag, if that reads
    return `a value with no text of its own (${Object.prototype.toString.call(value)})`;
  }
}

/** A problem with a host-function module: its file, and what is wrong. */
export class HostModuleProblem extends Error {}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The functions of a module's export, checked: every key a module name, every value of a module an
 * object of functions; refused overrides and anything else wrong throw a HostModuleProblem.
 */
export function userHostEntries(file: string, exported: unknown): UserHostEntry[] {
  const shape = '{ "<module>": { "<name>": (callContext, ...params) => result } }';
  if (!isPlainObject(exported)) {
    throw new HostModuleProblem(`its export is ${describe(exported)}, not an object of the form ${shape} (the SDK's createPlugin functions)`);
  }
  const entries: UserHostEntry[] = [];
  for (const module of Object.keys(exported)) {
    const functions = exported[module];
    if (!isPlainObject(functions)) {
      throw new HostModuleProblem(`"${module}" is ${describe(functions)}, not an object of functions (${shape})`);
    }
    for (const name of Object.keys(functions)) {
      const fn = functions[name];
      if (typeof fn !== 'function') throw new HostModuleProblem(`"${module}"."${name}" is ${describe(fn)}, not a function`);
      const refused = refusedOverride(module, name);
      if (refused) throw new HostModuleProblem(`"${module}"."${name}": ${refused}`);
      entries.push({ module, name, fn: fn as UserHostFunction, file });
    }
  }
  return entries;
}
