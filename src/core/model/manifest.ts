import * as path from 'node:path';
import { allowedPathRefusal, mapAllowedPathHost } from './allowedPaths';
import { PluginError } from './errors';
import { jsonDeeperThan, MAX_JSON_DEPTH, tooDeep } from './jsonDepth';
import { formatBytes, MAX_TIMEOUT_MS, Range, wholeNumberIn } from './numbers';

/** Where one module of a manifest comes from, checked but not read yet. */
export interface ManifestModule {
  /** As the SDKs name it: its `name`, else `main` for the last, else its hash or index. */
  name: string;
  /** `wasm[i]`, for messages. */
  at: string;
  /** A file (resolved against the manifest's folder), or the module's bytes given inline. */
  source: { file: string; relative: string } | { data: Uint8Array };
  /** The sha256 the bytes must have, lower case. */
  hash?: string;
}

/** An Extism manifest, parsed and checked: the fields we support, as the SDKs and `extism` read them. */
export interface Manifest {
  file: string;
  modules: ManifestModule[];
  config: Record<string, string>;
  memoryMaxPages?: number;
  maxVarBytes?: number;
  maxHttpResponseBytes?: number;
  allowedHosts: string[];
  /** Host directory (resolved against the manifest's folder) -> guest path. */
  allowedPaths: Record<string, string>;
  timeoutMs?: number;
}

const KNOWN = new Set(['wasm', 'config', 'memory', 'allowed_hosts', 'allowed_paths', 'timeout_ms']);

function fail(file: string, message: string): never {
  throw new PluginError(`manifest ${file}: ${message}`);
}

function isRecordOfStrings(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

// As Extism reads them: pages a u32, byte counts u64 (here: safe integers); they only narrow the
// policy's. A timeout must fit Node's timers.
const RANGES = {
  'memory.max_pages': { min: 0, max: 2 ** 32 - 1 },
  'memory.max_var_bytes': { min: 0, max: Number.MAX_SAFE_INTEGER },
  'memory.max_http_response_bytes': { min: 0, max: Number.MAX_SAFE_INTEGER },
  timeout_ms: { min: 0, max: MAX_TIMEOUT_MS },
} satisfies Record<string, Range>;

function whole(file: string, v: unknown, field: keyof typeof RANGES): number | undefined {
  if (v === undefined || v === null) return undefined;
  return wholeNumberIn(v, field, RANGES[field], (message) => new PluginError(`manifest ${file}: ${message}`));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy with no prototype, so a key such as `__proto__` or `toString` is only data. */
export function dataRecord(from: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(from)) out[k] = v;
  return out;
}

/** Parses and checks the text of the manifest `file`; refuses unknown fields, as Extism does. */
export function parseManifest(file: string, text: string, maxModuleBytes = Infinity): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) fail(file, `${tooDeep()} (a manifest's JSON may nest ${MAX_JSON_DEPTH} deep)`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, 'must be a JSON object with a "wasm" list');
  const m = raw as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !KNOWN.has(k));
  if (unknown.length) fail(file, `unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${[...KNOWN].join(', ')})`);
  const wasm = m.wasm;
  if (!Array.isArray(wasm) || wasm.length === 0) fail(file, '"wasm" must be a list of modules');
  const modules = wasm.map((entry: unknown, i) => parseModule(file, entry, i, i === wasm.length - 1, maxModuleBytes));
  const names = new Set<string>();
  for (const mod of modules) {
    if (names.has(mod.name)) fail(file, `two modules are named "${mod.name}"`);
    names.add(mod.name);
  }
  if (!names.has('main')) fail(file, 'with several modules, one must be named "main"');

  if (m.config !== undefined && !isRecordOfStrings(m.config)) fail(file, '"config" must map names to strings');
  const memory = m.memory ?? {};
  if (!isObject(memory)) fail(file, '"memory" must be an object');
  if (m.allowed_hosts !== undefined && (!Array.isArray(m.allowed_hosts) || m.allowed_hosts.some((h) => typeof h !== 'string'))) {
    fail(file, '"allowed_hosts" must be a list of host names (globs such as "*.example.com")');
  }
  if (m.allowed_paths !== undefined && !isRecordOfStrings(m.allowed_paths)) fail(file, '"allowed_paths" must map host paths to guest paths');
  const allowedPaths: Record<string, string> = Object.create(null);
  for (const [host, guest] of Object.entries((m.allowed_paths as Record<string, string>) ?? {})) {
    const refusal = allowedPathRefusal(host);
    if (refusal) fail(file, `"allowed_paths": ${refusal}`);
    allowedPaths[mapAllowedPathHost(host, (dir) => path.resolve(path.dirname(file), dir))] = guest;
  }
  return {
    file,
    modules,
    config: dataRecord((m.config as Record<string, string>) ?? {}),
    memoryMaxPages: whole(file, memory.max_pages, 'memory.max_pages'),
    maxVarBytes: whole(file, memory.max_var_bytes, 'memory.max_var_bytes'),
    maxHttpResponseBytes: whole(file, memory.max_http_response_bytes, 'memory.max_http_response_bytes'),
    allowedHosts: [...((m.allowed_hosts as string[]) ?? [])],
    allowedPaths,
    timeoutMs: whole(file, m.timeout_ms, 'timeout_ms'),
  };
}

function parseModule(file: string, value: unknown, i: number, last: boolean, maxModuleBytes: number): ManifestModule {
  const at = `wasm[${i}]`;
  if (!isObject(value)) fail(file, `${at} must be an object with "path" or "data"`);
  const entry = value;
  let source: ManifestModule['source'];
  if (typeof entry.path === 'string') {
    if (entry.path === '' || entry.path.includes('\0')) fail(file, `${at}.path must name a file`);
    source = { file: path.resolve(path.dirname(file), entry.path), relative: entry.path };
  } else if (typeof entry.data === 'string') {
    // base64: 4 characters for 3 bytes
    const bytes = Math.floor((entry.data.length * 3) / 4);
    if (bytes > maxModuleBytes) fail(file, `${at}.data is ${formatBytes(bytes)}, over the limit of ${formatBytes(maxModuleBytes)} (maxModuleBytes)`);
    // Buffer.from skips what is not base64: a typo would otherwise read as an invalid module
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(entry.data) || entry.data.length % 4 === 1) {
      fail(file, `${at}.data is not base64 (the module's bytes, in standard base64)`);
    }
    source = { data: Buffer.from(entry.data, 'base64') };
  } else if (typeof entry.url === 'string') {
    fail(file, `${at}.url is not supported: this host fetches nothing from the network; download ${entry.url} and give its "path"`);
  } else {
    fail(file, `${at} needs "path" or "data"`);
  }
  if (entry.hash !== undefined && (typeof entry.hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(entry.hash))) {
    fail(file, `${at}.hash must be a sha256 in hex`);
  }
  const hash = typeof entry.hash === 'string' ? entry.hash.toLowerCase() : undefined;
  if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name === '')) fail(file, `${at}.name must be a non-empty string`);
  const name = typeof entry.name === 'string' ? entry.name : last ? 'main' : hash ?? String(i);
  return { name, at, source, hash };
}
