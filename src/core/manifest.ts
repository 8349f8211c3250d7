import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PluginError } from './errors';

/** The Extism manifest, as the official SDKs and the `extism` CLI read it (the fields we support). */
export interface Manifest {
  wasm: ManifestWasm[];
  config?: Record<string, string>;
  memory?: { max_pages?: number; max_var_bytes?: number; max_http_response_bytes?: number };
  allowed_hosts?: string[];
  allowed_paths?: Record<string, string>;
  timeout_ms?: number;
}

export interface ManifestWasm {
  /** A file, relative to the manifest. */
  path?: string;
  /** The module's bytes, base64. */
  data?: string;
  url?: string;
  hash?: string;
  name?: string;
}

/** One module of a manifest, named as the SDKs name it: its `name`, else `main` for the last. */
export interface ResolvedModule {
  name: string;
  bytes: Uint8Array;
  /** The file it was read from, or null for inline `data`. */
  file: string | null;
}

/** A manifest read, checked and resolved: its modules' bytes and what the manifest asks for. */
export interface ResolvedManifest {
  file: string;
  /** The module whose exports are the plugin's. */
  main: ResolvedModule;
  /** The others, by name: the main module's imports from these names are linked to their exports. */
  linked: ResolvedModule[];
  config: Record<string, string>;
  memoryMaxPages?: number;
  maxVarBytes?: number;
  maxHttpResponseBytes?: number;
  allowedHosts: string[];
  /** Host directory -> guest path. */
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

function whole(file: string, v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(file, `${field} must be a whole number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses and checks a manifest; a module's hash, when given, must match (sha256). */
export function readManifest(file: string): ResolvedManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    fail(file, 'cannot be read');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, 'must be a JSON object with a "wasm" list');
  const m = raw as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !KNOWN.has(k));
  if (unknown.length) fail(file, `unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${[...KNOWN].join(', ')})`);
  if (!Array.isArray(m.wasm) || m.wasm.length === 0) fail(file, '"wasm" must be a list of modules');
  const modules = m.wasm.map((entry, i) => readModule(file, entry as ManifestWasm, i, i === (m.wasm as unknown[]).length - 1));
  const names = new Set<string>();
  for (const mod of modules) {
    if (names.has(mod.name)) fail(file, `two modules are named "${mod.name}"`);
    names.add(mod.name);
  }
  const main = modules.find((mod) => mod.name === 'main');
  if (!main) fail(file, 'with several modules, one must be named "main"');

  if (m.config !== undefined && !isRecordOfStrings(m.config)) fail(file, '"config" must map names to strings');
  const memory = (m.memory ?? {}) as Record<string, unknown>;
  if (typeof memory !== 'object' || Array.isArray(memory)) fail(file, '"memory" must be an object');
  if (m.allowed_hosts !== undefined && (!Array.isArray(m.allowed_hosts) || m.allowed_hosts.some((h) => typeof h !== 'string'))) {
    fail(file, '"allowed_hosts" must be a list of host names (globs such as "*.example.com")');
  }
  if (m.allowed_paths !== undefined && !isRecordOfStrings(m.allowed_paths)) fail(file, '"allowed_paths" must map host paths to guest paths');
  const allowedPaths: Record<string, string> = {};
  for (const [host, guest] of Object.entries((m.allowed_paths as Record<string, string>) ?? {})) {
    allowedPaths[path.resolve(path.dirname(file), host)] = guest;
  }
  return {
    file,
    main,
    linked: modules.filter((mod) => mod !== main),
    config: { ...((m.config as Record<string, string>) ?? {}) },
    memoryMaxPages: whole(file, memory.max_pages, 'memory.max_pages'),
    maxVarBytes: whole(file, memory.max_var_bytes, 'memory.max_var_bytes'),
    maxHttpResponseBytes: whole(file, memory.max_http_response_bytes, 'memory.max_http_response_bytes'),
    allowedHosts: [...((m.allowed_hosts as string[]) ?? [])],
    allowedPaths,
    timeoutMs: whole(file, m.timeout_ms, 'timeout_ms'),
  };
}

function readModule(file: string, entry: ManifestWasm, i: number, last: boolean): ResolvedModule {
  const at = `wasm[${i}]`;
  if (typeof entry !== 'object' || entry === null) fail(file, `${at} must be an object with "path" or "data"`);
  let bytes: Uint8Array;
  let wasmFile: string | null = null;
  if (typeof entry.path === 'string') {
    wasmFile = path.resolve(path.dirname(file), entry.path);
    try {
      bytes = fs.readFileSync(wasmFile);
    } catch {
      fail(file, `${at}.path "${entry.path}" not found (looked for ${wasmFile})`);
    }
  } else if (typeof entry.data === 'string') {
    bytes = Buffer.from(entry.data, 'base64');
  } else if (typeof entry.url === 'string') {
    fail(file, `${at}.url is not supported: this host fetches nothing from the network; download ${entry.url} and give its "path"`);
  } else {
    fail(file, `${at} needs "path" or "data"`);
  }
  let hash: string | undefined;
  if (entry.hash !== undefined) {
    if (typeof entry.hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(entry.hash)) fail(file, `${at}.hash must be a sha256 in hex`);
    hash = createHash('sha256').update(bytes).digest('hex');
    if (hash !== entry.hash.toLowerCase()) fail(file, `hash mismatch for ${at}: expected ${entry.hash.toLowerCase()}, got ${hash}`);
  }
  if (entry.name !== undefined && (typeof entry.name !== 'string' || entry.name === '')) fail(file, `${at}.name must be a non-empty string`);
  return { name: entry.name ?? (last ? 'main' : hash ?? String(i)), bytes, file: wasmFile };
}
