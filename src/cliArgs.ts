import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PROFILE_INTERVAL_US, defaultPolicy, FileRefusal, LOG_LEVELS, parseImport, parseTarget, POLICY_RANGES, READ_ONLY_PREFIX, readFileChecked, wholeNumberIn } from './core';
import type { BindingOptions, Range } from './core';
import type { HostOptions, LoadOptions, LogThreshold, SnapshotMode } from './core';

export const USAGE = `usage: extism-ipc call <plugin.wasm|manifest.json|name> <function> [input] [options]

Loads the plugin (a .wasm path, an Extism manifest, or a name looked up in the plugin directories),
calls one of its exports with the input and writes the output bytes to stdout unchanged. The flags
of \`extism call\` work here with the same meaning.

input:
  -i, --input TEXT          the input
      --input-file FILE     read the input from FILE (- for stdin)
      --stdin               read the input from stdin
      --loop N              call the function N times (outputs separated by a newline)
plugin:
  -m, --manifest            the plugin argument is an Extism manifest (JSON)
      --config KEY=VALUE    a config value for the plugin (repeatable)
      --set-config JSON     config values as a JSON object
      --wasi                grant WASI (stdout and stderr of the plugin go to the log on stderr)
      --allow-host HOST     a host http_request may reach, globs allowed (repeatable)
      --enable-http-response-headers  http_headers gives the plugin its response headers (off: none)
      --allow-path [ro:]HOST[:GUEST]  a directory WASI may open, mounted at GUEST (repeatable);
                            with ro: the plugin may read it but not change it
      --link NAME=PATH      link a module the plugin imports under NAME (repeatable)
      --manifest-grants     let manifests of plugins spawned by name grant WASI, hosts and paths
bindings (the narrow API: an import of a plugin calls another plugin's export):
      --bind IMPORT=PLUGIN.FUNCTION  bind an import of the plugin called to PLUGIN's export FUNCTION,
                            loaded as its child (repeatable); a bare IMPORT is extism:host/user.IMPORT
      --bindings FILE       bindings of every plugin, as JSON of the shape of the extismIpc.bindings
                            setting: {"<plugin>": {"<module>.<import>": "<plugin>.<function>"}}
host functions:
      --host-functions FILE  a JS module (.js, .mjs, .cjs) whose default export is the object
                            @extism/extism's createPlugin takes as functions:
                            { "<module>": { "<name>": (callContext, ...params) => result } }
                            (repeatable; later files override earlier ones name by name)
limits:
      --timeout MS, --timeout-ms MS   time limit of the call, nested calls included (default 10000; 0 = none)
      --fuel N              fuel of the call, nested calls included: operators executed, as wasmtime
                            counts them (default none; 0 = none); the trace shows what each call spent
      --count-fuel          count the fuel of every call without a limit (shown with --trace)
      --memory-max PAGES    memory of each plugin, in 64 KiB pages (default 1024)
      --var-max BYTES       bytes of vars per plugin (default 1 MiB)
      --http-response-max BYTES  bytes of one HTTP response (default 50 MiB)
      --max-plugins N       live plugins at most (default 64)
      --max-depth N         nested call depth at most (default 16)
      --max-module-bytes BYTES  size of a module file, manifest or inline module at most (default 256 MiB)
where and what to show:
      --plugins-dir DIR     where plugin names are looked up (repeatable; default ./plugins),
                            the bundled samples are searched last
      --log-level LEVEL     plugin logs shown on stderr: trace, debug, info, warn, error, off (default info)
  -q, --quiet               nothing on stderr but an error: plugin logs (and WASI output) off
      --trace               print the call tree with timings to stderr
      --trace-out FILE      write the trace as Chrome Trace Event JSON (Perfetto, chrome://tracing)
      --profile FILE        write a CPU profile of the call (V8 .cpuprofile: plugins' functions by name
                            and source line, calls between plugins as frames of their own)
      --profile-interval-us N  its sampling interval in microseconds (default 100)
      --verbose             print stack traces of errors
      --record FILE         append the call, with its output as what it must give back, to the call
                            file FILE (created if missing), for extism-ipc test to replay
  -h, --help                this text
  -V, --version             the version, the Node and V8 it runs on, and how plugins reach the kernel

exit status: 0 success, 1 the call failed or the policy refused it, 2 usage error`;

export class UsageError extends Error {}

export interface CallCommand {
  target: string;
  func: string;
  input: Uint8Array;
  loop: number;
  host: HostOptions;
  load: LoadOptions;
  trace: boolean;
  traceOut?: string;
  /** Where to write the call's CPU profile, and its sampling interval. */
  profile?: { file: string; intervalUs: number };
  /** The call file to append the call to. */
  record?: string;
}

const LOG_LEVEL_NAMES: string[] = [...LOG_LEVELS, 'off'];

/** A flag's whole number, digits only (no "", "1e3", "0x10", "-1"), in the range of what it sets. */
function integer(value: string | undefined, flag: string, range: Range): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  return wholeNumberIn(n, flag, range, (message) => new UsageError(`${message.replace(/got NaN$/, `got "${value}"`)}`));
}

const LOOP_RANGE = { min: 1, max: 1_000_000 };
const PROFILE_INTERVAL_RANGE = { min: 1, max: 1_000_000 };

/** A file a flag names: a regular file no larger than `max`; anything else is refused before it is read. */
function readRegularFile(file: string, flag: string, max: number, limitName: string): Uint8Array {
  try {
    return readFileChecked(file, max, limitName);
  } catch (error) {
    if (error instanceof FileRefusal) throw new UsageError(`${flag} ${file}: ${error.reason}`);
    throw error;
  }
}

function readInput(sources: { positional?: string; input?: string; file?: string; stdin?: boolean }): Uint8Array {
  const given = Object.entries(sources).filter(([, v]) => v !== undefined && v !== false);
  if (given.length > 1) throw new UsageError('give the input one way only: an argument, --input, --input-file or --stdin');
  if (sources.stdin || sources.file === '-') return fs.readFileSync(0);
  if (sources.file !== undefined) return readRegularFile(sources.file, '--input-file', defaultPolicy.maxMessageBytes, 'maxMessageBytes');
  return Buffer.from(sources.positional ?? sources.input ?? '', 'utf8');
}

/** An object for names from the command line: no prototype, so `__proto__` is only a key. */
function dataRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function configOf(pairs: string[] | undefined, json: string | undefined): Record<string, string> {
  const config = dataRecord();
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new UsageError('--set-config takes a JSON object such as {"key": "value"}');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--set-config takes a JSON object');
    for (const [k, v] of Object.entries(parsed)) config[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config takes KEY=VALUE, got "${pair}"`);
    config[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return config;
}

function pathsOf(specs: string[] | undefined): Record<string, string> {
  const paths = dataRecord();
  for (const spec of specs ?? []) {
    // Extism's read-only form, ro:HOST[:GUEST]
    const readOnly = spec.startsWith(READ_ONLY_PREFIX);
    const rest = readOnly ? spec.slice(READ_ONLY_PREFIX.length) : spec;
    const colon = rest.indexOf(':');
    const host = colon < 0 ? rest : rest.slice(0, colon);
    const guest = colon < 0 ? rest : rest.slice(colon + 1);
    if (!host || !guest) throw new UsageError(`--allow-path takes [ro:]HOST[:GUEST], got "${spec}"`);
    paths[(readOnly ? READ_ONLY_PREFIX : '') + path.resolve(host)] = guest;
  }
  return paths;
}

function linksOf(specs: string[] | undefined): Record<string, string> {
  const links = dataRecord();
  for (const spec of specs ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--link takes NAME=PATH, got "${spec}"`);
    links[spec.slice(0, eq)] = path.resolve(spec.slice(eq + 1));
  }
  return links;
}

const MAX_BINDINGS_FILE = 1024 * 1024;

/**
 * `--bindings FILE` (every plugin's) and `--bind` (the called plugin's, over the file's): the
 * shapes are checked here, the bindings themselves where the policy is normalised.
 */
function bindingsFrom(binds: string[] | undefined, file: string | undefined, pluginName: string): BindingOptions | undefined {
  if (!binds?.length && file === undefined) return undefined;
  const bindings = Object.create(null) as BindingOptions;
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(readRegularFile(file, '--bindings', MAX_BINDINGS_FILE, '1 MiB')).toString('utf8'));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--bindings ${file}: is not JSON such as {"run_bound": {"extism:host/user.count_vowels": "count_vowels.count_vowels"}}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`--bindings ${file}: must hold a JSON object of plugin names`);
    Object.assign(bindings, parsed);
  }
  if (binds?.length) {
    const own = Object.create(null) as Record<string, string>;
    const fromFile = Object.hasOwn(bindings, pluginName) ? bindings[pluginName] : undefined;
    // keyed as the policy keys them, so `target` and `extism:host/user.target` are one import
    const keyOf = (spec: string) => {
      const imp = parseImport(spec);
      return imp ? `${imp.module}.${imp.name}` : spec;
    };
    if (typeof fromFile === 'object' && fromFile !== null) for (const [k, v] of Object.entries(fromFile)) own[keyOf(k)] = v;
    for (const spec of binds) {
      const eq = spec.indexOf('=');
      const imp = eq > 0 ? parseImport(spec.slice(0, eq)) : null;
      if (!imp || !parseTarget(spec.slice(eq + 1))) throw new UsageError(`--bind takes IMPORT=PLUGIN.FUNCTION, such as count_vowels=count_vowels.count_vowels, got "${spec}"`);
      own[`${imp.module}.${imp.name}`] = spec.slice(eq + 1);
    }
    bindings[pluginName] = own;
  }
  return bindings;
}

/** `--host-functions` files, as absolute paths; whether each loads is the runtime's to say. */
function hostFunctionFiles(files: string[] | undefined): string[] {
  return (files ?? []).map((f) => {
    if (!/\.(js|mjs|cjs)$/.test(f)) throw new UsageError(`--host-functions takes a .js, .mjs or .cjs module, got "${f}"`);
    return path.resolve(f);
  });
}

export function parseCall(argv: string[], samplesDir: string): CallCommand | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string', short: 'i' },
      'input-file': { type: 'string' },
      stdin: { type: 'boolean' },
      loop: { type: 'string' },
      manifest: { type: 'boolean', short: 'm' },
      config: { type: 'string', multiple: true },
      'set-config': { type: 'string' },
      wasi: { type: 'boolean' },
      'allow-host': { type: 'string', multiple: true },
      'allow-path': { type: 'string', multiple: true },
      'manifest-grants': { type: 'boolean' },
      link: { type: 'string', multiple: true },
      bind: { type: 'string', multiple: true },
      bindings: { type: 'string' },
      'host-functions': { type: 'string', multiple: true },
      'enable-http-response-headers': { type: 'boolean' },
      fuel: { type: 'string' },
      'count-fuel': { type: 'boolean' },
      timeout: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'memory-max': { type: 'string' },
      'var-max': { type: 'string' },
      'http-response-max': { type: 'string' },
      'max-plugins': { type: 'string' },
      'max-depth': { type: 'string' },
      'max-module-bytes': { type: 'string' },
      'plugins-dir': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      trace: { type: 'boolean' },
      'trace-out': { type: 'string' },
      profile: { type: 'string' },
      'profile-interval-us': { type: 'string' },
      record: { type: 'string' },
      verbose: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const [command, target, func, inputArg, ...rest] = positionals;
  if (command !== 'call') throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
  if (!target || !func) throw new UsageError('call needs a plugin and a function');
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (values.manifest && !/\.json$/i.test(target)) throw new UsageError(`--manifest: "${target}" is not a .json manifest`);
  if (values.timeout !== undefined && values['timeout-ms'] !== undefined) throw new UsageError('give --timeout or --timeout-ms, not both');
  if (values.quiet && values['log-level'] !== undefined) throw new UsageError('give --quiet or --log-level, not both (--quiet is --log-level off)');
  if (values.quiet && values.trace) throw new UsageError('--quiet shows nothing on stderr but an error: it does not go with --trace (use --trace-out FILE)');
  if (values.record !== undefined) {
    if (!values.record.endsWith('.json')) throw new UsageError(`--record takes a call file (*.extism-calls.json), got "${values.record}"`);
    const unrecordable = (['bind', 'bindings', 'link', 'manifest-grants', 'stdin'] as const).find((f) => values[f] !== undefined && values[f] !== false);
    if (unrecordable) throw new UsageError(`--record cannot write --${unrecordable} into a call file: give the call without it`);
  }
  const logLevel = values['log-level'] ?? (values.quiet ? 'off' : 'info');
  if (!LOG_LEVEL_NAMES.includes(logLevel)) throw new UsageError(`--log-level takes one of ${LOG_LEVEL_NAMES.join(', ')}, got "${logLevel}"`);
  const loop = integer(values.loop, '--loop', LOOP_RANGE) ?? 1;
  if (values.profile !== undefined && loop > 1) throw new UsageError('--profile profiles one call: it does not go with --loop');
  if (values['profile-interval-us'] !== undefined && values.profile === undefined) throw new UsageError('--profile-interval-us needs --profile FILE');
  const profileInterval = integer(values['profile-interval-us'], '--profile-interval-us', PROFILE_INTERVAL_RANGE) ?? DEFAULT_PROFILE_INTERVAL_US;
  const r = POLICY_RANGES;

  const input = readInput({ positional: inputArg, input: values.input, file: values['input-file'], stdin: values.stdin });
  const dirs = (values['plugins-dir'] ?? ['plugins']).map((d) => path.resolve(d));
  const isFile = (target.endsWith('.wasm') || target.endsWith('.json')) && fs.existsSync(target);
  return {
    target: isFile ? path.resolve(target) : target,
    func,
    input,
    loop,
    host: {
      pluginDirs: [...new Set([...dirs, samplesDir])],
      callTimeoutMs: integer(values.timeout ?? values['timeout-ms'], values.timeout !== undefined ? '--timeout' : '--timeout-ms', r.callTimeoutMs),
      maxPlugins: integer(values['max-plugins'], '--max-plugins', r.maxPlugins),
      maxCallDepth: integer(values['max-depth'], '--max-depth', r.maxCallDepth),
      memoryMaxPages: integer(values['memory-max'], '--memory-max', r.memoryMaxPages),
      maxVarBytes: integer(values['var-max'], '--var-max', r.maxVarBytes),
      maxHttpResponseBytes: integer(values['http-response-max'], '--http-response-max', r.maxHttpResponseBytes),
      maxModuleBytes: integer(values['max-module-bytes'], '--max-module-bytes', r.maxModuleBytes),
      fuel: integer(values.fuel, '--fuel', r.fuel),
      countFuel: values['count-fuel'] ?? false,
      wasi: values.wasi ?? false,
      allowedHosts: values['allow-host'] ?? [],
      allowedPaths: pathsOf(values['allow-path']),
      httpResponseHeaders: values['enable-http-response-headers'] ?? false,
      manifestGrants: values['manifest-grants'] ?? false,
      bindings: bindingsFrom(values.bind, values.bindings, path.basename(target).replace(/\.(wasm|json)$/i, '')),
      logLevel: logLevel as LogThreshold,
      hostFunctions: hostFunctionFiles(values['host-functions']),
    },
    load: { config: configOf(values.config, values['set-config']), link: linksOf(values.link) },
    trace: values.trace ?? false,
    traceOut: values['trace-out'],
    ...(values.profile !== undefined ? { profile: { file: path.resolve(values.profile), intervalUs: profileInterval } } : {}),
    ...(values.record !== undefined ? { record: path.resolve(values.record) } : {}),
  };
}

/** `extism-ipc test`'s flags and its files. */
export interface TestCommand {
  targets: string[];
  snapshots: SnapshotMode;
  junit?: string;
  engine: 'runtime' | 'sdk' | 'both';
  /** The file of each call's fuel to compare with (written when missing), and the growth allowed in percent. */
  fuelBaseline?: string;
  fuelTolerance: number;
}

const ENGINES = ['runtime', 'sdk', 'both'] as const;

/** `extism-ipc test [FILE|DIR...] [-u] [--ci] [--junit FILE] [--engine E]`; `CI` in the environment is --ci. */
export function parseTest(argv: string[], env: NodeJS.ProcessEnv = process.env): TestCommand | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'update-snapshots': { type: 'boolean', short: 'u' },
      ci: { type: 'boolean' },
      junit: { type: 'string' },
      engine: { type: 'string' },
      'fuel-baseline': { type: 'string' },
      'fuel-tolerance': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const ci = values.ci ?? (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0');
  if (values['update-snapshots'] && values.ci) throw new UsageError('give --update-snapshots or --ci, not both (in CI snapshots are compared, never written)');
  const engine = values.engine ?? 'runtime';
  if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`--engine takes one of ${ENGINES.join(', ')}, got "${engine}"`);
  if (values.junit === '') throw new UsageError('--junit takes a file to write');
  const tolerance = values['fuel-tolerance'];
  if (tolerance !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(tolerance)) throw new UsageError(`--fuel-tolerance takes a percentage such as 0 or 2.5, got "${tolerance}"`);
  if (tolerance !== undefined && values['fuel-baseline'] === undefined) throw new UsageError('--fuel-tolerance goes with --fuel-baseline FILE');
  if (values['fuel-baseline'] === '') throw new UsageError('--fuel-baseline takes a file');
  return {
    targets: positionals.length ? positionals : ['.'],
    snapshots: values['update-snapshots'] ? 'update' : ci ? 'ci' : 'check',
    ...(values.junit !== undefined ? { junit: path.resolve(values.junit) } : {}),
    engine: engine as TestCommand['engine'],
    ...(values['fuel-baseline'] !== undefined ? { fuelBaseline: path.resolve(values['fuel-baseline']) } : {}),
    fuelTolerance: tolerance === undefined ? 0 : Number(tolerance),
  };
}
