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

/** What a user's code threw that is not an Error, as text: `String()` itself throws for some values. */
export function thrownText(value: unknown): string {
  try {
    return String(value);
  } catch {
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
