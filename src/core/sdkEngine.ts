// The calls of a call file run on @extism/extism, the official JS SDK, instead of this runtime: a
// plugin author learns whether the plugin behaves the same on the official host. The SDK is loaded
// only when asked for (extism-ipc test --engine sdk|both); the extension never loads it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CallFile, CallFileError, CallSpec } from './model/callFile';
import { OWN_FUNCTIONS, OWN_MODULES } from './model/userHostFunctions';
import type { RunOptions } from './callRunner';
import { InputRefusal, inputBytes, targetOf } from './callFileInputs';
import { judgeAll, summary } from './callJudging';
import { CallOutcome, invalidOutcome, RunResult } from './callOutcome';
import { snapshotFileOf } from './model/snapshots';
import { SnapshotStore } from './snapshotStore';
import { defaultPolicy } from './model/policy';

type Sdk = typeof import('@extism/extism');
type SdkPlugin = Awaited<ReturnType<Sdk['default']>>;
type HostFunctions = Record<string, Record<string, (...args: unknown[]) => unknown>>;

/** Why a call is reported as skipped on the SDK. */
export const NO_TRACE_ON_SDK = 'not checked on the SDK (it has no trace of nested calls)';
const FOREIGN_ERRORS = 'failed as expected on the SDK, in its own words';

let loads = 0;

/** Where the SDK engine finds what the runtime would: the bundled samples after the file's directories. */
export interface SdkRunOptions extends RunOptions {
  samplesDir: string;
}

/** A call's outcome on the SDK, or why it was not run there. */
export type SdkOutcome = CallOutcome & { skipped?: string };

/**
 * Runs a call file's calls on @extism/extism: the file's own calls on one set of plugins, each
 * group on fresh ones, as the runtime does. A call whose plugin imports this host's own functions
 * (register_plugin, call_plugin, unregister_plugin) is skipped, saying why. Assertions on the call
 * tree are not checked (the SDK has no trace); an `expect.error` is met by any failure, since the
 * SDK's messages are its own (noted).
 */
export async function runCallFileOnSdk(calls: CallFile, options: SdkRunOptions): Promise<SdkOutcome[]> {
  const sdk = (await import('@extism/extism')) as Sdk;
  const createPlugin = sdk.createPlugin ?? sdk.default;
  const functions = await loadHostFunctions(calls.hostFunctions);
  const snapshots = new SnapshotStore(snapshotFileOf(calls.file), options.snapshots ?? 'check');
  const picked = options.only;
  const outcomes: SdkOutcome[] = [];
  for (const list of [calls.calls, ...calls.groups.map((g) => g.calls)]) {
    const last = picked ? Math.max(-1, ...list.filter((c) => picked.has(c.index)).map((c) => list.indexOf(c))) : list.length - 1;
    if (last < 0) continue;
    const live = new Map<string, SdkPlugin>();
    try {
      for (const call of list.slice(0, last + 1)) {
        const outcome = call.problem !== undefined ? invalidOutcome(call) : await runOnSdk(call, calls, options.samplesDir, live, createPlugin, functions, snapshots);
        if (!picked || picked.has(call.index)) outcomes.push(outcome);
      }
    } finally {
      for (const p of live.values()) await p.close().catch(() => undefined);
    }
  }
  snapshots.save();
  return outcomes;
}

/** Host function modules, loaded afresh for the SDK (their state is not the runtime's); later ones override earlier ones name by name. */
async function loadHostFunctions(files: readonly string[]): Promise<HostFunctions> {
  const merged: HostFunctions = Object.create(null) as HostFunctions;
  const run = ++loads;
  for (const file of files) {
    const mod = (await import(`${pathToFileURL(file).href}?engine=sdk&load=${run}`)) as { default?: unknown };
    const table = mod.default;
    if (typeof table !== 'object' || table === null) throw new CallFileError(`${file}: its default export is not an object of host functions`);
    for (const [module, fns] of Object.entries(table as Record<string, unknown>)) {
      if (typeof fns !== 'object' || fns === null) continue;
      merged[module] = Object.assign(merged[module] ?? (Object.create(null) as Record<string, never>), fns);
    }
  }
  return merged;
}

/** A plugin file as the SDK takes it: a .wasm's bytes, or a manifest with its paths made absolute; and its modules' bytes. */
function manifestOf(target: string): { manifest: unknown; modules: Uint8Array[] } {
  if (/\.wasm$/i.test(target)) {
    const data = fs.readFileSync(target);
    return { manifest: { wasm: [{ data }] }, modules: [data] };
  }
  const raw = JSON.parse(fs.readFileSync(target, 'utf8')) as { wasm?: { path?: string; data?: string }[] };
  const modules: Uint8Array[] = [];
  const wasm = (raw.wasm ?? []).map((w) => {
    if (typeof w.path === 'string') {
      const data = fs.readFileSync(path.resolve(path.dirname(target), w.path));
      modules.push(data);
      return { ...w, path: undefined, data };
    }
    if (typeof w.data === 'string') modules.push(Buffer.from(w.data, 'base64'));
    return w;
  });
  return { manifest: { ...raw, wasm }, modules };
}

/** Why the SDK cannot run this plugin, or undefined: it imports this host's own functions. */
function unsupported(modules: readonly Uint8Array[]): string | undefined {
  for (const bytes of modules) {
    const own = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).find((i) => OWN_MODULES.has(i.module) && OWN_FUNCTIONS.has(i.name));
    if (own) return `skipped on the SDK: the plugin imports ${own.name}, a host function of this runtime that the SDK does not have`;
  }
  return undefined;
}

function findPlugin(plugin: string, calls: CallFile, samplesDir: string): string {
  const target = targetOf(plugin, calls);
  if (path.isAbsolute(target)) return target;
  for (const ext of ['.json', '.wasm']) {
    const file = path.join(samplesDir, `${target}${ext}`);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`no plugin named "${plugin}" in the call file's plugin directories or the bundled samples`);
}

async function runOnSdk(
  call: CallSpec,
  calls: CallFile,
  samplesDir: string,
  live: Map<string, SdkPlugin>,
  createPlugin: Sdk['default'],
  functions: HostFunctions,
  snapshots: SnapshotStore,
): Promise<SdkOutcome> {
  const base = path.dirname(calls.file);
  const t0 = performance.now();
  const failed = (reason: string): SdkOutcome => ({ call, passed: false, durationMs: performance.now() - t0, reason, spans: [], checks: [{ at: call.at, passed: false, reason }], notes: [] });
  let input: Uint8Array;
  try {
    input = inputBytes(call.input, `${call.at}.input`, base, defaultPolicy.maxMessageBytes);
  } catch (e) {
    if (e instanceof InputRefusal) return failed(e.message);
    throw e;
  }
  const runs: RunResult[] = [];
  let plugin: SdkPlugin | undefined;
  try {
    const target = findPlugin(call.plugin, calls, samplesDir);
    const { manifest, modules } = manifestOf(target);
    const skip = unsupported(modules);
    if (skip) return { call, passed: true, skipped: skip, durationMs: 0, spans: [], checks: [{ at: call.at, passed: true, note: skip }], notes: [skip] };
    const key = JSON.stringify([target, call.config, call.wasi, call.allowedHosts, call.allowedPaths, call.timeoutMs]);
    plugin = live.get(key);
    if (!plugin) {
      const paths = Object.fromEntries(Object.entries(call.allowedPaths ?? {}).map(([host, guest]) => [host.replace(/^ro:/, ''), guest]));
      plugin = await createPlugin(manifest as never, {
        useWasi: call.wasi ?? false,
        functions: functions as never,
        config: call.config ?? {},
        allowedHosts: call.allowedHosts ?? [],
        allowedPaths: paths,
        // the SDK stops a runaway only in a worker
        ...(call.timeoutMs !== undefined ? { runInWorker: true, timeoutMs: call.timeoutMs } : {}),
      });
      live.set(key, plugin);
    }
  } catch (e) {
    runs.push({ error: e instanceof Error ? e.message : String(e), spans: [], ms: 0 });
  }
  for (let i = 0; plugin && i < call.repeat; i++) {
    const t = performance.now();
    try {
      const out = await plugin.call(call.function, input);
      runs.push({ output: out ? out.bytes() : new Uint8Array(0), spans: [], ms: performance.now() - t });
    } catch (e) {
      runs.push({ error: e instanceof Error ? e.message : String(e), spans: [], ms: performance.now() - t });
      break;
    }
  }
  const first = runs[0];
  const checks = await judgeAll({
    call,
    calls,
    spanData: () => Promise.resolve(undefined),
    maxMessageBytes: defaultPolicy.maxMessageBytes,
    noTrace: NO_TRACE_ON_SDK,
    foreignErrors: FOREIGN_ERRORS,
    base,
    first,
    runs,
    snapshots,
  });
  return { call, durationMs: performance.now() - t0, output: first.output, error: first.error, spans: [], ...summary(checks) };
}
