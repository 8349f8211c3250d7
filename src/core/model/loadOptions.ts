import { allowedPathRefusal } from './allowedPaths';
import { PolicyError } from './errors';
import type { Manifest } from './manifest';
import { describeValue, MAX_TIMEOUT_MS, Range, wholeNumberIn } from './numbers';
import type { Policy } from './policy';
import type { PluginInfo } from './registry';

/** What a person or the API gives a plugin at load, on top of its manifest; limits only narrow. */
export interface LoadOptions {
  config?: Record<string, string>;
  wasi?: boolean;
  allowedHosts?: string[];
  /** Host directory -> guest path. */
  allowedPaths?: Record<string, string>;
  /** `http_headers` gives the plugin its last response's headers (as the SDKs' `allowHttpResponseHeaders`). */
  httpResponseHeaders?: boolean;
  memoryMaxPages?: number;
  maxVarBytes?: number;
  maxHttpResponseBytes?: number;
  timeoutMs?: number;
  /** Modules to link in, by the name the plugin imports them under: name -> `.wasm` path. */
  link?: Record<string, string>;
}

/** The limits one plugin runs under. */
export interface PluginLimits {
  memoryMaxPages: number;
  maxVarBytes: number;
  maxHttpResponseBytes: number;
  /** Its own time limit, 0 for none (the policy's applies as well). */
  timeoutMs: number;
}

/** The smallest of the limits given; 0 and undefined mean "none". */
export function minLimit(...limits: (number | undefined)[]): number {
  let min = 0;
  for (const l of limits) if (l !== undefined && l > 0 && (min === 0 || l < min)) min = l;
  return min;
}

// They only narrow the policy's, so any whole number a manifest could give is accepted, save a
// timeout Node's timers cannot take.
const LOAD_RANGES = {
  memoryMaxPages: { min: 0, max: 2 ** 32 - 1 },
  maxVarBytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  maxHttpResponseBytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  timeoutMs: { min: 0, max: MAX_TIMEOUT_MS },
} satisfies Record<string, Range>;

function loadLimit(options: LoadOptions, name: keyof typeof LOAD_RANGES): number | undefined {
  const value: unknown = options[name];
  if (value === undefined) return undefined;
  return wholeNumberIn(value, `load options: ${name}`, LOAD_RANGES[name], (message) => new PolicyError(message));
}

/** The policy's limits, narrowed by the manifest's and the loader's; never widened. */
export function pluginLimits(policy: Policy, manifest: Manifest | null, options: LoadOptions): PluginLimits {
  return {
    memoryMaxPages: minLimit(policy.memoryMaxPages, manifest?.memoryMaxPages, loadLimit(options, 'memoryMaxPages')),
    maxVarBytes: minLimit(policy.maxVarBytes, manifest?.maxVarBytes, loadLimit(options, 'maxVarBytes')),
    maxHttpResponseBytes: minLimit(policy.maxHttpResponseBytes, manifest?.maxHttpResponseBytes, loadLimit(options, 'maxHttpResponseBytes')),
    timeoutMs: minLimit(0, manifest?.timeoutMs, loadLimit(options, 'timeoutMs')),
  };
}

/**
 * What a plugin is granted: the policy's, the loader's, and its manifest's when the manifest may
 * grant (one a person chose, or any with `manifestGrants`).
 */
export function pluginGrants(policy: Policy, options: LoadOptions, manifest: Manifest | null, manifestMayGrant: boolean): PluginInfo['grants'] {
  const fromManifest = manifest !== null && manifestMayGrant ? manifest : null;
  for (const host of Object.keys(options.allowedPaths ?? {})) {
    const refusal = allowedPathRefusal(host);
    if (refusal) throw new PolicyError(`load options: allowedPaths: ${refusal}`);
  }
  const headers: unknown = options.httpResponseHeaders;
  if (headers !== undefined && typeof headers !== 'boolean') {
    throw new PolicyError(`load options: httpResponseHeaders must be true or false, got ${describeValue(headers)}`);
  }
  return {
    wasi: policy.wasi || options.wasi === true || fromManifest !== null,
    allowedHosts: [...policy.allowedHosts, ...(options.allowedHosts ?? []), ...(fromManifest?.allowedHosts ?? [])],
    allowedPaths: { ...policy.allowedPaths, ...(options.allowedPaths ?? {}), ...(fromManifest?.allowedPaths ?? {}) },
    // not a manifest field, in Extism either: the host decides
    httpResponseHeaders: policy.httpResponseHeaders || headers === true,
  };
}

/** Whether a manifest asks for grants that were not given to it. */
export function ignoredManifestGrants(manifest: Manifest | null, manifestMayGrant: boolean): boolean {
  return manifest !== null && !manifestMayGrant && (manifest.allowedHosts.length > 0 || Object.keys(manifest.allowedPaths).length > 0);
}

/**
 * The load options with the policy's rule for this plugin name under them: grants add up, config
 * keys given at load win, and limits take the smaller (they only narrow).
 */
export function withPluginRule(policy: Policy, name: string, options: LoadOptions): LoadOptions {
  if (!Object.hasOwn(policy.plugins, name)) return options;
  const rule = policy.plugins[name];
  const narrowest = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : minLimit(a, b));
  return {
    ...options,
    config: rule.config || options.config ? { ...(rule.config ?? {}), ...(options.config ?? {}) } : undefined,
    wasi: rule.wasi === true || options.wasi === true ? true : options.wasi,
    allowedHosts: [...(rule.allowedHosts ?? []), ...(options.allowedHosts ?? [])],
    allowedPaths: { ...(rule.allowedPaths ?? {}), ...(options.allowedPaths ?? {}) },
    memoryMaxPages: narrowest(rule.memoryMaxPages, options.memoryMaxPages),
    maxVarBytes: narrowest(rule.maxVarBytes, options.maxVarBytes),
    maxHttpResponseBytes: narrowest(rule.maxHttpResponseBytes, options.maxHttpResponseBytes),
    timeoutMs: narrowest(rule.timeoutMs, options.timeoutMs),
  };
}
