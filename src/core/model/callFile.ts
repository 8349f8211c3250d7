import * as path from 'node:path';
import { allowedPathRefusal, mapAllowedPathHost } from './allowedPaths';
import { jsonDeeperThan, MAX_JSON_DEPTH, tooDeep } from './jsonDepth';

/** What a call sends: text, bytes in base64, a file's bytes, or a JSON value as text. */
export type CallInput = { text: string } | { base64: string } | { file: string } | { json: unknown };

/** What a call must give back: exact text or bytes, JSON containing fields, text within, or a failure. */
export type Expectation = { output: string } | { base64: string } | { json: unknown } | { contains: string } | { error: string };

export interface CallSpec {
  /** Its place in the file, from 0. */
  index: number;
  name: string;
  /** A plugin name looked up in the file's plugin directories, or a path relative to the file. */
  plugin: string;
  function: string;
  input: CallInput;
  config?: Record<string, string>;
  wasi?: boolean;
  allowedHosts?: string[];
  allowedPaths?: Record<string, string>;
  timeoutMs?: number;
  expect?: Expectation;
  /** `expect.maxFuel`: the call (its nested calls included) may spend at most this much fuel. */
  maxFuel?: number;
}

/** A `*.extism-calls.json` file, checked: calls run in order on one host. */
export interface CallFile {
  file: string;
  /** The file's `plugins` directories, resolved against its folder. */
  pluginDirs: string[];
  /** The file's `hostFunctions` modules, resolved against its folder: after the host's own, so they override. */
  hostFunctions: string[];
  calls: CallSpec[];
}

/** A call file that is not one: names the file and the field. */
export class CallFileError extends Error {
  override readonly name = 'CallFileError';
}

export const CALL_FILE_SUFFIX = '.extism-calls.json';
const CALL_FIELDS = new Set(['name', 'plugin', 'function', 'input', 'config', 'wasi', 'allowedHosts', 'allowedPaths', 'timeoutMs', 'expect']);
const EXPECT_KINDS = ['output', 'base64', 'json', 'contains', 'error'] as const;
const INPUT_KINDS = ['base64', 'file', 'json'] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Exactly one of `kinds` as the only key of `v`, or undefined. */
function onlyKey(v: Json, kinds: readonly string[]): string | undefined {
  const keys = Object.keys(v);
  return keys.length === 1 && kinds.includes(keys[0]) ? keys[0] : undefined;
}

export function parseCallFile(file: string, text: string): CallFile {
  const fail = (field: string, message: string): never => {
    throw new CallFileError(`${file}: ${field} ${message}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CallFileError(`${file}: is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  // every walk of the file's values after this (input.json as text, expect.json compared and shown) stays shallow
  if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) return fail('the file', `${tooDeep()} (a call file's JSON may nest ${MAX_JSON_DEPTH} deep)`);
  if (!isObject(raw)) return fail('the file', 'must be a JSON object with a "calls" list');
  const unknown = Object.keys(raw).filter((k) => k !== 'plugins' && k !== 'hostFunctions' && k !== 'calls');
  if (unknown.length) fail(`"${unknown[0]}"`, 'is not a field of a call file (fields: plugins, hostFunctions, calls)');
  const dirs = raw.plugins ?? [];
  if (!Array.isArray(dirs) || dirs.some((d) => typeof d !== 'string')) fail('"plugins"', 'must be a list of directories');
  const modules = raw.hostFunctions ?? [];
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string' || m === '')) fail('"hostFunctions"', 'must be a list of JS module paths');
  if (!Array.isArray(raw.calls)) return fail('"calls"', 'must be a list of calls');
  const base = path.dirname(file);
  const names = new Set<string>();
  const calls = raw.calls.map((value: unknown, index: number): CallSpec => {
    const at = `calls[${index}]`;
    if (!isObject(value)) return fail(at, 'must be an object with "plugin" and "function"');
    const extra = Object.keys(value).filter((k) => !CALL_FIELDS.has(k));
    if (extra.length) fail(`${at}.${extra[0]}`, `is not a field of a call (fields: ${[...CALL_FIELDS].join(', ')})`);
    const { plugin, function: func } = value;
    if (typeof plugin !== 'string' || plugin === '') fail(`${at}.plugin`, 'must be a plugin name or a path');
    if (typeof func !== 'string' || func === '') fail(`${at}.function`, 'must name an export');
    const name = value.name === undefined ? `${plugin}.${func}` : value.name;
    if (typeof name !== 'string' || name === '') fail(`${at}.name`, 'must be a non-empty string');
    if (names.has(name as string)) fail(`${at}.name`, `"${name}" is the name of an earlier call too`);
    names.add(name as string);
    const spec: CallSpec = { index, name: name as string, plugin: plugin as string, function: func as string, input: parseInput(value.input, `${at}.input`, fail) };
    if (value.config !== undefined) spec.config = stringMap(value.config) ? { ...value.config } : fail(`${at}.config`, 'must map names to strings');
    if (value.wasi !== undefined) spec.wasi = typeof value.wasi === 'boolean' ? value.wasi : fail(`${at}.wasi`, 'must be true or false');
    if (value.allowedHosts !== undefined) {
      const hosts = value.allowedHosts;
      spec.allowedHosts = Array.isArray(hosts) && hosts.every((h) => typeof h === 'string') ? [...hosts] : fail(`${at}.allowedHosts`, 'must be a list of host names');
    }
    if (value.allowedPaths !== undefined) {
      if (!stringMap(value.allowedPaths)) fail(`${at}.allowedPaths`, 'must map host directories to guest paths');
      const paths: Record<string, string> = Object.create(null);
      for (const [host, guest] of Object.entries(value.allowedPaths as Record<string, string>)) {
        const refusal = allowedPathRefusal(host);
        if (refusal) fail(`${at}.allowedPaths:`, refusal);
        paths[mapAllowedPathHost(host, (dir) => path.resolve(base, dir))] = guest;
      }
      spec.allowedPaths = paths;
    }
    if (value.timeoutMs !== undefined) {
      const t = value.timeoutMs;
      spec.timeoutMs = typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 2 ** 31 - 1 ? t : fail(`${at}.timeoutMs`, 'must be a whole number of ms from 0 to 2147483647');
    }
    if (value.expect !== undefined) {
      const { expect, maxFuel } = splitMaxFuel(value.expect, `${at}.expect`, fail);
      if (maxFuel !== undefined) spec.maxFuel = maxFuel;
      if (expect !== undefined) spec.expect = parseExpectation(expect, `${at}.expect`, fail);
    }
    return spec;
  });
  return {
    file,
    pluginDirs: (dirs as string[]).map((d) => path.resolve(base, d)),
    hostFunctions: (modules as string[]).map((m) => path.resolve(base, m)),
    calls,
  };
}

function parseInput(v: unknown, at: string, fail: (field: string, message: string) => never): CallInput {
  if (v === undefined) return { text: '' };
  if (typeof v === 'string') return { text: v };
  const kind = isObject(v) ? onlyKey(v, INPUT_KINDS) : undefined;
  if (!kind || !isObject(v)) return fail(at, 'must be a string, or one of {"base64": ...}, {"file": ...}, {"json": ...}');
  if (kind === 'json') return { json: v.json };
  if (typeof v[kind] !== 'string') return fail(`${at}.${kind}`, 'must be a string');
  return kind === 'base64' ? { base64: v.base64 as string } : { file: v.file as string };
}

/** `expect.maxFuel` beside (or instead of) one kind of expectation: the rest, and the limit. */
function splitMaxFuel(v: unknown, at: string, fail: (field: string, message: string) => never): { expect: unknown; maxFuel?: number } {
  if (!isObject(v) || !Object.hasOwn(v, 'maxFuel')) return { expect: v };
  const maxFuel = v.maxFuel;
  if (typeof maxFuel !== 'number' || !Number.isSafeInteger(maxFuel) || maxFuel < 0) fail(`${at}.maxFuel`, 'must be a whole number of fuel units');
  const rest: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(v)) if (k !== 'maxFuel') rest[k] = v[k];
  return { expect: Object.keys(rest).length ? rest : undefined, maxFuel: maxFuel as number };
}

function parseExpectation(v: unknown, at: string, fail: (field: string, message: string) => never): Expectation {
  const kind = isObject(v) ? onlyKey(v, EXPECT_KINDS) : undefined;
  if (!kind || !isObject(v)) return fail(at, `must have exactly one of ${EXPECT_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (kind === 'json') return { json: v.json };
  const value = v[kind];
  if (typeof value !== 'string') return fail(`${at}.${kind}`, 'must be a string');
  if (kind === 'error') {
    try {
      new RegExp(value);
    } catch {
      fail(`${at}.error`, `is not a regular expression: ${value}`);
    }
  }
  return { [kind]: value } as Expectation;
}

/**
 * Whether `actual` holds every field of `expected`, deep; arrays must match element by element.
 * Iterative: `actual` is a plugin's output and may nest as deep as JSON.parse goes.
 */
export function containsJson(actual: unknown, expected: unknown): boolean {
  const pairs: [unknown, unknown][] = [[actual, expected]];
  while (pairs.length) {
    const [a, e] = pairs.pop()!;
    if (Array.isArray(e)) {
      if (!Array.isArray(a) || a.length !== e.length) return false;
      for (let i = 0; i < e.length; i++) pairs.push([a[i], e[i]]);
    } else if (isObject(e)) {
      if (!isObject(a)) return false;
      for (const k of Object.keys(e)) {
        if (!Object.hasOwn(a, k)) return false;
        pairs.push([a[k], e[k]]);
      }
    } else if (!Object.is(a, e)) {
      return false;
    }
  }
  return true;
}

/**
 * Where each call's object starts in the text of a call file (offsets, in order), for editors:
 * a small scan of the JSON that skips strings; [] when there is no "calls" list to be found.
 */
export function callOffsets(text: string): number[] {
  const key = /"calls"\s*:\s*\[/g;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      if (depth === 1) {
        key.lastIndex = i;
        const m = key.exec(text);
        if (m && m.index === i) return objectsIn(text, i + m[0].length);
      }
      i = skipString(text, i);
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return [];
}

function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function objectsIn(text: string, from: number): number[] {
  const starts: number[] = [];
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = skipString(text, i);
    else if (c === '{' || c === '[') {
      if (depth === 0) starts.push(i);
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) break;
      depth--;
    }
  }
  return starts;
}
