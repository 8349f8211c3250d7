import { allowedPathRefusal } from './allowedPaths';
import { PolicyError } from './errors';
import { MAX_TIMEOUT_MS, wholeNumberIn } from './numbers';

/**
 * What one plugin, by name, is given beyond the policy's defaults: its grants and config, and
 * limits that narrow the policy's. The per-plugin counterpart of the global grants, so granting
 * WASI to one plugin does not grant it to all.
 */
export interface PluginRule {
  wasi?: boolean;
  allowedHosts?: string[];
  /** Host directory -> guest path. */
  allowedPaths?: Record<string, string>;
  config?: Record<string, string>;
  memoryMaxPages?: number;
  maxVarBytes?: number;
  maxHttpResponseBytes?: number;
  timeoutMs?: number;
}

const LIMITS = {
  memoryMaxPages: { min: 0, max: 2 ** 32 - 1 },
  maxVarBytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  maxHttpResponseBytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  timeoutMs: { min: 0, max: MAX_TIMEOUT_MS },
} as const;

const FIELDS = new Set(['wasi', 'allowedHosts', 'allowedPaths', 'config', ...Object.keys(LIMITS)]);

/** Checks the rules once, by plugin name, into a null-prototype object of fresh copies. */
export function normalizePluginRules(value: unknown): Readonly<Record<string, Readonly<PluginRule>>> {
  const out: Record<string, PluginRule> = Object.create(null);
  if (value === undefined) return out;
  if (!isObject(value)) throw new PolicyError('policy: plugins must map plugin names to what each is given, such as {"go_fetch": {"wasi": true}}');
  for (const [name, given] of Object.entries(value)) {
    const at = `policy: plugins[${JSON.stringify(name)}]`;
    if (!isObject(given)) throw new PolicyError(`${at} must be an object such as {"wasi": true, "allowedHosts": ["api.example.com"]}`);
    const rule: PluginRule = {};
    for (const [field, v] of Object.entries(given)) {
      if (!FIELDS.has(field)) throw new PolicyError(`${at}: unknown field ${JSON.stringify(field)}; the fields are ${[...FIELDS].join(', ')}`);
      if (field === 'wasi') {
        if (typeof v !== 'boolean') throw new PolicyError(`${at}.wasi must be true or false`);
        rule.wasi = v;
      } else if (field === 'allowedHosts') {
        if (!Array.isArray(v) || v.some((h) => typeof h !== 'string')) throw new PolicyError(`${at}.allowedHosts must be a list of hosts such as ["*.example.com"]`);
        rule.allowedHosts = [...(v as string[])];
      } else if (field === 'allowedPaths' || field === 'config') {
        if (!isObject(v) || Object.values(v).some((s) => typeof s !== 'string')) {
          throw new PolicyError(field === 'config' ? `${at}.config must map keys to strings` : `${at}.allowedPaths must map host directories to guest paths`);
        }
        const map: Record<string, string> = Object.assign(Object.create(null), v);
        if (field === 'allowedPaths') {
          for (const host of Object.keys(map)) {
            const refusal = allowedPathRefusal(host);
            if (refusal) throw new PolicyError(`${at}.allowedPaths: ${refusal}`);
          }
          rule.allowedPaths = map;
        } else rule.config = map;
      } else {
        const limit = field as keyof typeof LIMITS;
        rule[limit] = wholeNumberIn(v, `${at}.${field}`, LIMITS[limit], (message) => new PolicyError(message));
      }
    }
    out[name] = rule;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
