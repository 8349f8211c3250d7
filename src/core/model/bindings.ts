import { PolicyError } from './errors';
import { describeValue } from './numbers';

/**
 * One import of a plugin bound by the host to another plugin's export: calling the import calls
 * the export with the input block's bytes and hands back its output as a block.
 */
export interface Binding {
  /** `module.import` as it is shown: `extism:host/user.count_vowels`. */
  readonly key: string;
  readonly module: string;
  readonly name: string;
  /** The plugin loaded as the binder's child, and the export called. */
  readonly plugin: string;
  readonly func: string;
}

/** Bindings as given at the edge: `{ "<plugin>": { "<module>.<import>": "<plugin>.<function>" } }`. */
export type BindingOptions = Record<string, Record<string, string>>;

/** The module a bare import name (no `.`) is in: the one Extism PDKs import host functions from. */
export const USER_MODULE = 'extism:host/user';
/** The signature a bound import must have: an input block in, an output block out. */
export const BOUND_SIGNATURE = '(i64) -> i64';

// the host's own functions: a binding may not shadow them
const RESERVED_MODULES = new Set(['extism:host/env', 'wasi_snapshot_preview1']);
const RESERVED_USER = new Set(['register_plugin', 'call_plugin', 'unregister_plugin', 'abort']);

const EXAMPLE = '{"run_bound": {"extism:host/user.count_vowels": "count_vowels.count_vowels"}}';

/** Splits `module.import` at its last dot; a bare name is in `extism:host/user`. */
export function parseImport(spec: string): { module: string; name: string } | null {
  const dot = spec.lastIndexOf('.');
  if (dot < 0) return spec ? { module: USER_MODULE, name: spec } : null;
  const module = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  return module && name ? { module, name } : null;
}

/** Splits `plugin.function` at its first dot. */
export function parseTarget(spec: string): { plugin: string; func: string } | null {
  const dot = spec.indexOf('.');
  if (dot <= 0 || dot === spec.length - 1) return null;
  return { plugin: spec.slice(0, dot), func: spec.slice(dot + 1) };
}

/** Checks the bindings once, where the policy is normalised; by plugin name, in a null-prototype object. */
export function normalizeBindings(value: unknown): Record<string, readonly Binding[]> {
  const out = Object.create(null) as Record<string, Binding[]>;
  if (value === undefined) return out;
  if (!isRecord(value)) throw new PolicyError(`policy: bindings must map plugin names to their bound imports, such as ${EXAMPLE}`);
  for (const [plugin, imports] of Object.entries(value)) {
    const where = `policy: bindings["${plugin}"]`;
    if (!isRecord(imports)) throw new PolicyError(`${where} must map imports to "<plugin>.<function>", such as {"extism:host/user.count_vowels": "count_vowels.count_vowels"}`);
    const list: Binding[] = [];
    const seen = new Set<string>();
    for (const [spec, targetSpec] of Object.entries(imports)) {
      const imp = parseImport(spec);
      if (!imp) throw new PolicyError(`${where}["${spec}"]: the import must be "<module>.<import>" or a bare import name of ${USER_MODULE}`);
      const key = `${imp.module}.${imp.name}`;
      if (RESERVED_MODULES.has(imp.module) || ((imp.module === USER_MODULE || imp.module === 'env') && RESERVED_USER.has(imp.name))) {
        throw new PolicyError(`${where}["${spec}"]: ${key} is a function of the host itself and cannot be bound`);
      }
      if (seen.has(key)) throw new PolicyError(`${where}: ${key} is bound twice`);
      seen.add(key);
      const target = typeof targetSpec === 'string' ? parseTarget(targetSpec) : null;
      if (!target) throw new PolicyError(`${where}["${spec}"] must be "<plugin>.<function>", such as "count_vowels.count_vowels", got ${describeValue(targetSpec)}`);
      list.push({ key, module: imp.module, name: imp.name, plugin: target.plugin, func: target.func });
    }
    out[plugin] = list;
  }
  return out;
}

/** The bindings of a plugin, by its name; none when it has no entry. */
export function bindingsOf(bindings: Readonly<Record<string, readonly Binding[]>>, pluginName: string): readonly Binding[] {
  return Object.hasOwn(bindings, pluginName) ? bindings[pluginName] : [];
}

/** How a binding is named in messages: `extism:host/user.count_vowels -> count_vowels.count_vowels`. */
export function describeBinding(b: Binding): string {
  return `${b.key} -> ${b.plugin}.${b.func}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
