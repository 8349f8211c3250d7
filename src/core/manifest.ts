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

/** A manifest read, checked and resolved: the module's bytes and what the manifest asks for. */
export interface ResolvedManifest {
  file: string;
  wasmFile: string | null;
  bytes: Uint8Array;
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
  if (!Array.isArray(m.wasm) || m.wasm.length === 0) fail(file, '"wasm" must be a list with one module');
  if (m.wasm.length > 1) fail(file, `"wasm" lists ${m.wasm.length} modules; linking several modules is not supported yet, give one`);
  const entry = m.wasm[0] as ManifestWasm;
  if (typeof entry !== 'object' || entry === null) fail(file, 'wasm[0] must be an object with "path" or "data"');

  let bytes: Uint8Array;
  let wasmFile: string | null = null;
  if (typeof entry.path === 'string') {
    wasmFile = path.resolve(path.dirname(file), entry.path);
    try {
      bytes = fs.readFileSync(wasmFile);
    } catch {
      fail(file, `wasm[0].path "${entry.path}" not found (looked for ${wasmFile})`);
    }
  } else if (typeof entry.data === 'string') {
    bytes = Buffer.from(entry.data, 'base64');
  } else if (typeof entry.url === 'string') {
    fail(file, `wasm[0].url is not supported: this host fetches nothing from the network; download ${entry.url} and give its "path"`);
  } else {
    fail(file, 'wasm[0] needs "path" or "data"');
  }
  if (entry.hash !== undefined) {
    if (typeof entry.hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(entry.hash)) fail(file, 'wasm[0].hash must be a sha256 in hex');
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== entry.hash.toLowerCase()) fail(file, `hash mismatch for wasm[0]: expected ${entry.hash.toLowerCase()}, got ${actual}`);
  }

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
    wasmFile,
    bytes,
    config: { ...((m.config as Record<string, string>) ?? {}) },
    memoryMaxPages: whole(file, memory.max_pages, 'memory.max_pages'),
    maxVarBytes: whole(file, memory.max_var_bytes, 'memory.max_var_bytes'),
    maxHttpResponseBytes: whole(file, memory.max_http_response_bytes, 'memory.max_http_response_bytes'),
    allowedHosts: [...((m.allowed_hosts as string[]) ?? [])],
    allowedPaths,
    timeoutMs: whole(file, m.timeout_ms, 'timeout_ms'),
  };
}
