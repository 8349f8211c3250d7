import { allowedPathRefusal } from './allowedPaths';
import { Binding, BindingOptions, normalizeBindings } from './bindings';
import { PolicyError } from './errors';
import { describeValue, MAX_TIMEOUT_MS, Range, wholeNumberIn } from './numbers';
import { normalizePluginRules, PluginRule } from './pluginRules';

/** What a plugin may do, by plugin name. Patterns are names with `*` as a wildcard. */
export interface PermissionRule {
  /** Plugin names this plugin may spawn with register_plugin. */
  spawn?: string[];
  /** `plugin.function` patterns this plugin may call with call_plugin. */
  call?: string[];
}

/** Policy as given at the edge (settings, CLI flags, API): every field optional. */
export interface PolicyOptions {
  /** Directories searched, in order, for a plugin name. */
  pluginDirs?: string[];
  maxPlugins?: number;
  maxCallDepth?: number;
  /** Time limit of a top-level call in ms, nested calls included; 0 turns it off. */
  callTimeoutMs?: number;
  /** Pages (64 KiB) of Extism memory per plugin. */
  memoryMaxPages?: number;
  /** Largest input or output of one call, in bytes. */
  maxMessageBytes?: number;
  /** Live plugins one plugin may have spawned at a time. */
  maxSpawnPerPlugin?: number;
  /** Per plugin name; the entry `*` applies to plugins without one of their own. */
  permissions?: Record<string, PermissionRule>;
  /** WASI for every plugin that imports it. */
  wasi?: boolean;
  /** Hosts (globs such as `*.example.com`) every plugin may reach with http_request. */
  allowedHosts?: string[];
  /** Host directory -> guest path, preopened for every WASI plugin; a `ro:` host directory is read-only. */
  allowedPaths?: Record<string, string>;
  /** Whether `http_headers` gives plugins the headers of their last HTTP response (off in Extism too). */
  httpResponseHeaders?: boolean;
  /**
   * Whether a manifest found by name (register_plugin, or a name given to the API) may grant its
   * plugin WASI, `allowed_hosts` and `allowed_paths`. A manifest a person picked is always honoured.
   */
  manifestGrants?: boolean;
  /** Bytes of vars per plugin (Extism's `memory.max_var_bytes`). */
  maxVarBytes?: number;
  /** Bytes of one HTTP response body (Extism's `memory.max_http_response_bytes`). */
  maxHttpResponseBytes?: number;
  /** Bytes of one module file, manifest or inline module (`data`) at most. */
  maxModuleBytes?: number;
  /**
   * Per plugin name, its imports bound to other plugins' exports:
   * `{ "run_bound": { "extism:host/user.count_vowels": "count_vowels.count_vowels" } }`.
   */
  bindings?: BindingOptions;
  /** Per plugin name, its own grants, config and (narrowing) limits, on top of the ones above. */
  plugins?: Record<string, PluginRule>;
  /**
   * Units of fuel a top-level call and every call under it may spend in all (wasmtime's count: one
   * an operator executed, a few control operators free); 0 or absent: no limit.
   */
  fuel?: number;
  /** Count the fuel of every call without a limit (a limit counts too). */
  countFuel?: boolean;
}

export interface Policy {
  readonly pluginDirs: readonly string[];
  readonly maxPlugins: number;
  readonly maxCallDepth: number;
  readonly callTimeoutMs: number;
  readonly memoryMaxPages: number;
  readonly maxMessageBytes: number;
  readonly maxSpawnPerPlugin: number;
  readonly permissions: Readonly<Record<string, Required<PermissionRule>>>;
  readonly wasi: boolean;
  readonly allowedHosts: readonly string[];
  readonly allowedPaths: Readonly<Record<string, string>>;
  readonly httpResponseHeaders: boolean;
  readonly manifestGrants: boolean;
  readonly maxVarBytes: number;
  readonly maxHttpResponseBytes: number;
  readonly maxModuleBytes: number;
  /** By plugin name (a null-prototype object). */
  readonly bindings: Readonly<Record<string, readonly Binding[]>>;
  /** By plugin name (a null-prototype object). */
  readonly plugins: Readonly<Record<string, Readonly<PluginRule>>>;
  /** 0: no limit. */
  readonly fuel: number;
  readonly countFuel: boolean;
}

export const defaultPolicy: Policy = {
  pluginDirs: [],
  maxPlugins: 64,
  maxCallDepth: 16,
  callTimeoutMs: 10_000,
  memoryMaxPages: 1024,
  maxMessageBytes: 32 * 1024 * 1024,
  maxSpawnPerPlugin: 16,
  permissions: { '*': { spawn: ['*'], call: ['*'] } },
  wasi: false,
  allowedHosts: [],
  allowedPaths: {},
  httpResponseHeaders: false,
  manifestGrants: false,
  maxVarBytes: 1024 * 1024,
  maxHttpResponseBytes: 50 * 1024 * 1024,
  maxModuleBytes: 256 * 1024 * 1024,
  bindings: Object.create(null) as Record<string, readonly Binding[]>,
  plugins: Object.create(null) as Record<string, PluginRule>,
  fuel: 0,
  countFuel: false,
};

const MAX_PAGES = 65536;
const GiB = 2 ** 30;

/** The range of each numeric option; `memoryMaxPages` above 65536 (4 GiB) is clamped to it. */
export const POLICY_RANGES = {
  maxPlugins: { min: 1, max: 100_000 },
  maxCallDepth: { min: 1, max: 1000 },
  callTimeoutMs: { min: 0, max: MAX_TIMEOUT_MS },
  memoryMaxPages: { min: 1, max: Number.MAX_SAFE_INTEGER },
  maxMessageBytes: { min: 0, max: 4 * GiB },
  maxSpawnPerPlugin: { min: 0, max: 100_000 },
  maxVarBytes: { min: 0, max: 4 * GiB },
  maxHttpResponseBytes: { min: 0, max: 4 * GiB },
  // V8 compiles no module over 1 GiB
  maxModuleBytes: { min: 1, max: GiB },
  fuel: { min: 0, max: Number.MAX_SAFE_INTEGER },
} satisfies Record<string, Range>;

type NumericOption = keyof typeof POLICY_RANGES;

/** Completes and validates options once; a bad value is refused with a message that says how to fix it. */
export function normalizePolicy(options: PolicyOptions = {}): Policy {
  const d = defaultPolicy;
  if (typeof options !== 'object' || options === null) throw new PolicyError('policy: the options must be an object');
  const num = (name: NumericOption): number => count(options[name], d[name], name);
  const permissions: Record<string, Required<PermissionRule>> = Object.assign(Object.create(null), d.permissions);
  const given = options.permissions ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new PolicyError('policy: permissions must map plugin names to rules such as {"spawn": ["*"], "call": ["*"]}');
  }
  for (const [name, rule] of Object.entries(given)) {
    if (typeof rule !== 'object' || rule === null) throw new PolicyError(`policy: permissions["${name}"] must be an object with "spawn" and "call" lists`);
    permissions[name] = {
      spawn: patterns(rule.spawn, `permissions["${name}"].spawn`),
      call: patterns(rule.call, `permissions["${name}"].call`),
    };
  }
  return {
    pluginDirs: directories(options.pluginDirs ?? d.pluginDirs),
    maxPlugins: num('maxPlugins'),
    maxCallDepth: num('maxCallDepth'),
    callTimeoutMs: num('callTimeoutMs'),
    memoryMaxPages: Math.min(num('memoryMaxPages'), MAX_PAGES),
    maxMessageBytes: num('maxMessageBytes'),
    maxSpawnPerPlugin: num('maxSpawnPerPlugin'),
    permissions,
    wasi: flag(options.wasi, d.wasi, 'wasi'),
    allowedHosts: patterns(options.allowedHosts ?? [...d.allowedHosts], 'allowedHosts'),
    allowedPaths: pathMap(options.allowedPaths ?? d.allowedPaths),
    httpResponseHeaders: flag(options.httpResponseHeaders, d.httpResponseHeaders, 'httpResponseHeaders'),
    manifestGrants: flag(options.manifestGrants, d.manifestGrants, 'manifestGrants'),
    maxVarBytes: num('maxVarBytes'),
    maxHttpResponseBytes: num('maxHttpResponseBytes'),
    maxModuleBytes: num('maxModuleBytes'),
    bindings: normalizeBindings(options.bindings),
    plugins: normalizePluginRules(options.plugins),
    fuel: num('fuel'),
    countFuel: flag(options.countFuel, d.countFuel, 'countFuel'),
  };
}

/** Whether plugins are metered: a limit is set, or counting was asked for. Plugins loaded then pay for it. */
export function countsFuel(policy: Policy): boolean {
  return policy.fuel > 0 || policy.countFuel;
}

function flag(value: boolean | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new PolicyError(`policy: ${name} must be true or false, got ${describeValue(value)}`);
  return value;
}

function directories(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new PolicyError('policy: pluginDirs must be a list of directories, such as ["/home/me/plugins"]');
  }
  return [...value];
}

function pathMap(value: Record<string, string>): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new PolicyError('policy: allowedPaths must map host directories to guest paths, such as {"/home/me/data": "/data"}');
  }
  for (const host of Object.keys(value)) {
    const refusal = allowedPathRefusal(host);
    if (refusal) throw new PolicyError(`policy: allowedPaths: ${refusal}`);
  }
  return Object.assign(Object.create(null), value);
}

/** Whether a host name matches one of the globs (`*` matches any run of characters). */
export function hostAllowed(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => matches(p.toLowerCase(), host.toLowerCase()));
}

function count(value: unknown, fallback: number, name: NumericOption): number {
  if (value === undefined) return fallback;
  return wholeNumberIn(value, `policy: ${name}`, POLICY_RANGES[name], (message) => new PolicyError(message));
}

function patterns(value: string[] | undefined, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    throw new PolicyError(`policy: ${name} must be a list of strings such as ["count_vowels", "chain_*"]`);
  }
  return [...value];
}

/**
 * Whether a glob (`*` any run of characters, nothing else special) matches the whole value: a
 * scan that goes back only to the last `*`, never a regular expression, so a pattern with many
 * stars (from settings or a manifest) costs at most pattern x value steps, never backtracking.
 */
export function globMatches(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function matches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  return globMatches(pattern, value);
}

function ruleFor(policy: Policy, pluginName: string): Required<PermissionRule> {
  const rules = policy.permissions;
  if (Object.hasOwn(rules, pluginName)) return rules[pluginName];
  return Object.hasOwn(rules, '*') ? rules['*'] : { spawn: [], call: [] };
}

export function maySpawn(policy: Policy, parentName: string, childName: string): boolean {
  return ruleFor(policy, parentName).spawn.some((p) => matches(p, childName));
}

export function mayCall(policy: Policy, callerName: string, calleeName: string, func: string): boolean {
  const target = `${calleeName}.${func}`;
  return ruleFor(policy, callerName).call.some(
    (p) => matches(p, target) || (!p.includes('.') && matches(p, calleeName)),
  );
}
