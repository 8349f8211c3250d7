import * as path from 'node:path';
import { allowedPathRefusal, mapAllowedPathHost } from './allowedPaths';
import { jsonDeeperThan, MAX_JSON_DEPTH, tooDeep } from './jsonDepth';

/** What a call sends: text, bytes in base64, a file's bytes, or a JSON value as text. */
export type CallInput = { text: string } | { base64: string } | { file: string } | { json: unknown };

/**
 * What the output of a call must be: exact text or bytes, JSON containing fields, text within, a
 * failure, or the output stored in the file's snapshots.
 */
export type OutputCheck = { output: string } | { base64: string } | { json: unknown } | { contains: string } | { error: string } | { snapshot: true };

/** A nested call (or host function call) the call must make: `plugin.function` or `module.name`. */
export interface CallCheck {
  callee: string;
  input?: CallInput;
  output?: CallInput;
  /** How many calls in a row match it; default 1. */
  count?: number;
}

/** One `expect` of a call: every assertion it holds must hold. */
export interface Expectation {
  /** Its name in reports, when the file gave one. */
  name?: string;
  /** Where it is in the file: `calls[0].expect`, or `calls[0].expect[1]` in a list. */
  at: string;
  output?: OutputCheck;
  /** The calls to other plugins it makes, in order (others may come between). */
  calls?: CallCheck[];
  /** The host functions it calls, in order (others may come between). */
  hostCalls?: CallCheck[];
  /** It calls no other plugin and no host function. */
  noCalls?: boolean;
  /** The median time of the call's runs (`repeat`) in the plugin is at most this many ms. */
  maxMs?: number;
  /** The fuel the call (its nested calls included) may spend at most. */
  maxFuel?: number;
}

export interface CallSpec {
  /** Its place among every call of the file (the file's `calls`, then each group's), from 0. */
  index: number;
  /** Where it is in the file: `calls[2]`, `groups[0].calls[1]`. */
  at: string;
  /** Its group's place in `groups`, when it is in one. */
  group?: number;
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
  /** How many times it runs (for `maxMs`, the median); its first run's output and calls are checked. */
  repeat: number;
  /** What it must do; empty: it must not fail. */
  expect: Expectation[];
  /**
   * Why this is not a call that can run (names the file, the call and the field): it is reported
   * as failed where it is, and the file's other calls still run.
   */
  problem?: string;
  /** The path of the field the problem is about (`calls[2].expect.output`). */
  problemAt?: string;
}

/** A named list of calls that runs on plugins of its own, loaded fresh for it. */
export interface CallGroup {
  index: number;
  at: string;
  name: string;
  calls: CallSpec[];
}

/** What is wrong with a field of the file itself (not of one call): reported, the calls still run. */
export interface FileProblem {
  at: string;
  message: string;
}

/** A `*.extism-calls.json` file, checked: its calls run in order on one host; each group on fresh plugins. */
export interface CallFile {
  file: string;
  /** The file's `plugins` directories, resolved against its folder. */
  pluginDirs: string[];
  /** The file's `hostFunctions` modules, resolved against its folder: after the host's own, so they override. */
  hostFunctions: string[];
  /** The file's own calls (outside any group). */
  calls: CallSpec[];
  groups: CallGroup[];
  problems: FileProblem[];
}

/** Every call of the file in order: its own calls, then each group's; `allCalls(f)[c.index] === c`. */
export function allCalls(file: CallFile): CallSpec[] {
  return [...file.calls, ...file.groups.flatMap((g) => g.calls)];
}

/** A call file that is not one at all (not JSON, not an object, unreadable): names the file. */
export class CallFileError extends Error {
  override readonly name = 'CallFileError';
}

export const CALL_FILE_SUFFIX = '.extism-calls.json';
const FILE_FIELDS = ['plugins', 'hostFunctions', 'calls', 'groups'];
const GROUP_FIELDS = ['name', 'calls'];
const CALL_FIELDS = new Set(['name', 'plugin', 'function', 'input', 'config', 'wasi', 'allowedHosts', 'allowedPaths', 'timeoutMs', 'repeat', 'expect']);
const OUTPUT_KINDS = ['output', 'base64', 'json', 'contains', 'error', 'snapshot'] as const;
const EXPECT_FIELDS = new Set<string>(['name', ...OUTPUT_KINDS, 'calls', 'hostCalls', 'noCalls', 'maxMs', 'maxFuel']);
const CALL_CHECK_FIELDS = ['callee', 'input', 'output', 'count'];
/** The most runs of one call (`repeat`). */
export const MAX_REPEAT = 1000;
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

/** A field that is not what it must be: thrown inside the check of one call (or one field), caught there. */
class FieldProblem extends Error {
  constructor(
    message: string,
    /** The field's path in the file (`calls[2].expect.output`). */
    readonly field: string,
  ) {
    super(message);
  }
}

/** A field named in a message (`"plugins"`, `calls[0].allowedPaths:`) as a path. */
function fieldPath(field: string): string {
  return field.replace(/^"|"$/g, '').replace(/:$/, '');
}
type Fail = (field: string, message: string) => never;

/**
 * Checks a call file. Only text that is not JSON, nests too deep, or is not an object throws; a
 * bad field of the file is a problem of the file, and a bad call is a call with a `problem`: each
 * is reported where it is, and every other call still runs.
 */
export function parseCallFile(file: string, text: string): CallFile {
  const message = (field: string, m: string): string => `${file}: ${field} ${m}`;
  const fail: Fail = (field, m) => {
    throw new FieldProblem(message(field, m), fieldPath(field));
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CallFileError(`${file}: is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  // every walk of the file's values after this (input.json as text, expect.json compared and shown) stays shallow
  if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) throw new CallFileError(message('the file', `${tooDeep()} (a call file's JSON may nest ${MAX_JSON_DEPTH} deep)`));
  if (!isObject(raw)) throw new CallFileError(message('the file', 'must be a JSON object with a "calls" list'));
  const problems: FileProblem[] = [];
  const check = <T>(at: string, fallback: T, read: () => T): T => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof FieldProblem)) throw error;
      problems.push({ at: error.field || at, message: error.message });
      return fallback;
    }
  };
  for (const k of Object.keys(raw)) {
    if (!FILE_FIELDS.includes(k)) problems.push({ at: k, message: message(`"${k}"`, `is not a field of a call file (fields: ${FILE_FIELDS.join(', ')})`) });
  }
  const base = path.dirname(file);
  const dirs = check('plugins', [] as string[], () => {
    const d = raw.plugins ?? [];
    return Array.isArray(d) && d.every((x) => typeof x === 'string') ? (d as string[]) : fail('"plugins"', 'must be a list of directories');
  });
  const modules = check('hostFunctions', [] as string[], () => {
    const m = raw.hostFunctions ?? [];
    return Array.isArray(m) && m.every((x) => typeof x === 'string' && x !== '') ? (m as string[]) : fail('"hostFunctions"', 'must be a list of JS module paths');
  });
  if (raw.calls === undefined && raw.groups === undefined) problems.push({ at: '', message: message('the file', 'must have a "calls" list or a "groups" list') });
  let index = 0;
  const callList = (value: unknown, at: string, group: number | undefined): CallSpec[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      problems.push({ at, message: message(`"${at}"`, 'must be a list of calls') });
      return [];
    }
    const names = new Set<string>();
    return value.map((v: unknown, i: number) => parseCall(v, `${at}[${i}]`, index++, group, names, base, message));
  };
  const calls = callList(raw.calls, 'calls', undefined);
  const groups: CallGroup[] = [];
  if (raw.groups !== undefined) {
    if (!Array.isArray(raw.groups)) problems.push({ at: 'groups', message: message('"groups"', 'must be a list of {"name": ..., "calls": [...]}') });
    else {
      const groupNames = new Set<string>();
      raw.groups.forEach((g: unknown, i: number) => {
        const at = `groups[${i}]`;
        const ok = check(at, false, () => {
          if (!isObject(g)) fail(at, 'must be an object with "name" and "calls"');
          const extra = Object.keys(g as Json).filter((k) => !GROUP_FIELDS.includes(k));
          if (extra.length) fail(`${at}.${extra[0]}`, `is not a field of a group (fields: ${GROUP_FIELDS.join(', ')})`);
          const name = (g as Json).name;
          if (typeof name !== 'string' || name === '') fail(`${at}.name`, 'must be a non-empty string');
          if (groupNames.has(name as string)) fail(`${at}.name`, `"${name as string}" is the name of an earlier group too`);
          groupNames.add(name as string);
          return true;
        });
        if (!ok) return;
        const group = g as Json;
        groups.push({ index: groups.length, at, name: group.name as string, calls: callList(group.calls ?? [], `${at}.calls`, groups.length) });
      });
    }
  }
  return {
    file,
    pluginDirs: dirs.map((d) => path.resolve(base, d)),
    hostFunctions: modules.map((m) => path.resolve(base, m)),
    calls,
    groups,
    problems,
  };
}

/** One call, checked on its own: a bad one keeps its place (and its name, when it has one) with a `problem`. */
function parseCall(value: unknown, at: string, index: number, group: number | undefined, names: Set<string>, base: string, message: (field: string, m: string) => string): CallSpec {
  const fail: Fail = (field, m) => {
    throw new FieldProblem(message(field, m), fieldPath(field));
  };
  const given = isObject(value) ? value : {};
  const plugin = typeof given.plugin === 'string' ? given.plugin : '';
  const func = typeof given.function === 'string' ? given.function : '';
  const defaultName = plugin && func ? `${plugin}.${func}` : at;
  const rawName = given.name === undefined ? defaultName : given.name;
  const spec: CallSpec = { index, at, name: typeof rawName === 'string' && rawName !== '' ? rawName : at, plugin, function: func, input: { text: '' }, repeat: 1, expect: [] };
  if (group !== undefined) spec.group = group;
  try {
    if (!isObject(value)) fail(at, 'must be an object with "plugin" and "function"');
    const extra = Object.keys(given).filter((k) => !CALL_FIELDS.has(k));
    if (extra.length) fail(`${at}.${extra[0]}`, `is not a field of a call (fields: ${[...CALL_FIELDS].join(', ')})`);
    if (typeof rawName !== 'string' || rawName === '') fail(`${at}.name`, 'must be a non-empty string');
    if (names.has(spec.name)) {
      spec.name = `${spec.name} (${at})`;
      fail(`${at}.name`, `"${rawName as string}" is the name of an earlier call too`);
    }
    names.add(spec.name);
    if (typeof given.plugin !== 'string' || given.plugin === '') fail(`${at}.plugin`, 'must be a plugin name or a path');
    if (typeof given.function !== 'string' || given.function === '') fail(`${at}.function`, 'must name an export');
    spec.input = parseInput(given.input, `${at}.input`, fail);
    if (given.config !== undefined) spec.config = stringMap(given.config) ? { ...given.config } : fail(`${at}.config`, 'must map names to strings');
    if (given.wasi !== undefined) spec.wasi = typeof given.wasi === 'boolean' ? given.wasi : fail(`${at}.wasi`, 'must be true or false');
    if (given.allowedHosts !== undefined) {
      const hosts = given.allowedHosts;
      spec.allowedHosts = Array.isArray(hosts) && hosts.every((h) => typeof h === 'string') ? [...(hosts as string[])] : fail(`${at}.allowedHosts`, 'must be a list of host names');
    }
    if (given.allowedPaths !== undefined) {
      if (!stringMap(given.allowedPaths)) fail(`${at}.allowedPaths`, 'must map host directories to guest paths');
      const paths: Record<string, string> = Object.create(null);
      for (const [host, guest] of Object.entries(given.allowedPaths as Record<string, string>)) {
        const refusal = allowedPathRefusal(host);
        if (refusal) fail(`${at}.allowedPaths:`, refusal);
        paths[mapAllowedPathHost(host, (dir) => path.resolve(base, dir))] = guest;
      }
      spec.allowedPaths = paths;
    }
    if (given.timeoutMs !== undefined) {
      const t = given.timeoutMs;
      spec.timeoutMs = typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 2 ** 31 - 1 ? t : fail(`${at}.timeoutMs`, 'must be a whole number of ms from 0 to 2147483647');
    }
    if (given.repeat !== undefined) {
      const r = given.repeat;
      spec.repeat = typeof r === 'number' && Number.isInteger(r) && r >= 1 && r <= MAX_REPEAT ? r : fail(`${at}.repeat`, `must be a whole number from 1 to ${MAX_REPEAT}`);
    }
    if (given.expect !== undefined) spec.expect = parseExpectations(given.expect, `${at}.expect`, fail);
  } catch (error) {
    if (!(error instanceof FieldProblem)) throw error;
    spec.problem = error.message;
    spec.problemAt = error.field;
  }
  return spec;
}

function parseInput(v: unknown, at: string, fail: Fail): CallInput {
  if (v === undefined) return { text: '' };
  if (typeof v === 'string') return { text: v };
  const kind = isObject(v) ? onlyKey(v, INPUT_KINDS) : undefined;
  if (!kind || !isObject(v)) return fail(at, 'must be a string, or one of {"base64": ...}, {"file": ...}, {"json": ...}');
  if (kind === 'json') return { json: v.json };
  if (typeof v[kind] !== 'string') return fail(`${at}.${kind}`, 'must be a string');
  return kind === 'base64' ? { base64: v.base64 as string } : { file: v.file as string };
}

/** `expect`: one object of assertions, or a list of them (each may have a `name`). */
function parseExpectations(v: unknown, at: string, fail: Fail): Expectation[] {
  if (!Array.isArray(v)) return [parseExpectation(v, at, fail)];
  if (!v.length) return fail(at, 'must not be an empty list');
  const names = new Set<string>();
  return v.map((item: unknown, i: number) => {
    const e = parseExpectation(item, `${at}[${i}]`, fail);
    if (e.name !== undefined) {
      if (names.has(e.name)) fail(`${at}[${i}].name`, `"${e.name}" is the name of an earlier expect too`);
      names.add(e.name);
    }
    return e;
  });
}

function parseExpectation(v: unknown, at: string, fail: Fail): Expectation {
  if (!isObject(v)) return fail(at, `must be an object of assertions (${[...EXPECT_FIELDS].join(', ')}), or a list of them`);
  const extra = Object.keys(v).filter((k) => !EXPECT_FIELDS.has(k));
  if (extra.length) fail(`${at}.${extra[0]}`, `is not an assertion (assertions: ${[...EXPECT_FIELDS].join(', ')})`);
  const e: Expectation = { at };
  if (v.name !== undefined) e.name = typeof v.name === 'string' && v.name !== '' ? v.name : fail(`${at}.name`, 'must be a non-empty string');
  const kinds = OUTPUT_KINDS.filter((k) => v[k] !== undefined);
  if (kinds.length > 1) fail(at, `must have at most one of ${OUTPUT_KINDS.map((k) => `"${k}"`).join(', ')} (it has ${kinds.map((k) => `"${k}"`).join(' and ')})`);
  const kind = kinds[0];
  if (kind === 'json') e.output = { json: v.json };
  else if (kind === 'snapshot') e.output = v.snapshot === true ? { snapshot: true } : fail(`${at}.snapshot`, 'must be true');
  else if (kind !== undefined) {
    const value = v[kind];
    if (typeof value !== 'string') fail(`${at}.${kind}`, 'must be a string');
    if (kind === 'error') {
      try {
        new RegExp(value as string);
      } catch {
        fail(`${at}.error`, `is not a regular expression: ${value as string}`);
      }
    }
    e.output = { [kind]: value } as OutputCheck;
  }
  for (const field of ['calls', 'hostCalls'] as const) {
    if (v[field] !== undefined) e[field] = parseCallChecks(v[field], `${at}.${field}`, field === 'hostCalls', fail);
  }
  if (v.noCalls !== undefined) {
    if (v.noCalls !== true) fail(`${at}.noCalls`, 'must be true');
    if (e.calls?.length || e.hostCalls?.length) fail(`${at}.noCalls`, 'cannot go with "calls" or "hostCalls"');
    e.noCalls = true;
  }
  if (v.maxFuel !== undefined) {
    const fuel = v.maxFuel;
    e.maxFuel = typeof fuel === 'number' && Number.isSafeInteger(fuel) && fuel >= 0 ? fuel : fail(`${at}.maxFuel`, 'must be a whole number of fuel units');
  }
  if (v.maxMs !== undefined) {
    const ms = v.maxMs;
    e.maxMs = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms <= 2 ** 31 - 1 ? ms : fail(`${at}.maxMs`, 'must be a number of ms above 0');
  }
  if (!Object.keys(e).some((k) => k !== 'at' && k !== 'name')) fail(at, `must assert something: one of ${[...EXPECT_FIELDS].filter((k) => k !== 'name').map((k) => `"${k}"`).join(', ')}`);
  return e;
}

/** `expect.calls` / `expect.hostCalls`: a list of callees, each a string or `{callee, input?, output?, count?}`. */
function parseCallChecks(v: unknown, at: string, host: boolean, fail: Fail): CallCheck[] {
  if (!Array.isArray(v)) return fail(at, 'must be a list of calls, such as ' + (host ? '["extism:host/user.kv_write"]' : '[{"callee": "count_vowels.count_vowels"}]'));
  return v.map((item: unknown, i: number) => {
    const here = `${at}[${i}]`;
    const o = typeof item === 'string' ? { callee: item } : item;
    if (!isObject(o)) return fail(here, 'must be a callee or {"callee": ..., "input"?: ..., "output"?: ..., "count"?: n}');
    const extra = Object.keys(o).filter((k) => !CALL_CHECK_FIELDS.includes(k));
    if (extra.length) fail(`${here}.${extra[0]}`, `is not a field of an expected call (fields: ${CALL_CHECK_FIELDS.join(', ')})`);
    const callee = o.callee;
    if (typeof callee !== 'string' || !/^[^.]+.*\.[^.]+$/.test(callee)) fail(`${here}.callee`, host ? 'must name a host function as module.name, such as "extism:host/user.kv_write"' : 'must name a call as plugin.function');
    const check: CallCheck = { callee: callee as string };
    if (o.input !== undefined) check.input = parseInput(o.input, `${here}.input`, fail);
    if (o.output !== undefined) check.output = parseInput(o.output, `${here}.output`, fail);
    if (o.count !== undefined) {
      const n = o.count;
      check.count = typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : fail(`${here}.count`, 'must be a whole number from 1');
    }
    return check;
  });
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
