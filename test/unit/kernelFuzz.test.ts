import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import createPlugin from '@extism/extism';
import { closeHosts, startHost, text } from './helpers';
import { Edge, FUZZ_CONFIG, generate, INTERPRETER_WAT } from './kernelProgram';
import { prng } from './hostileInput';
import { assemble, writeModule } from './wat';

/**
 * Kernel differential fuzz: seeded programs of kernel calls run on this engine and on the
 * reference SDK with the same module bytes. No unsafe outcome here (a hang, a raw JavaScript
 * error, a bystander plugin hurt), and every difference from the SDK is explained by an edge of
 * the memory model that ARCHITECTURE.md lists.
 */
const SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + i);
const PROGRAMS_PER_SEED = 25;
const RAW = /RangeError|TypeError|ReferenceError|Cannot read|undefined|is not a function|Maximum call stack/;
const DOCUMENTED: ReadonlySet<Edge> = new Set(['out-of-block', 'zero-length-block', 'use-after-free', 'null-handle', 'past-input', 'freed-by-sdk', 'output-freed', 'output-shorter-than-block']);

type Outcome = { ok: true; bytes: Buffer } | { ok: false; message: string };

function same(a: Outcome, b: Outcome): boolean {
  if (a.ok !== b.ok) return false;
  return a.ok && b.ok ? a.bytes.equals(b.bytes) : true;
}

describe('kernel differential fuzz', function () {
  this.timeout(60_000);
  let file: string;
  before(async () => {
    file = writeModule('kernel_fuzz', await assemble(INTERPRETER_WAT));
  });
  after(closeHosts);

  it(`${SEEDS.length} seeds × ${PROGRAMS_PER_SEED} programs: nothing unsafe, every difference from the SDK documented`, async () => {
    const host = startHost({ callTimeoutMs: 5000, logLevel: 'error' });
    const bystander = await host.register('echo');
    const stats = { programs: 0, kernelCalls: 0, ok: 0, failed: 0, sameOutcome: 0, differences: new Map<string, number>() };
    const unexplained: string[] = [];
    for (const seed of SEEDS) {
      const rand = prng(seed);
      const ours = await host.register(file, { config: FUZZ_CONFIG });
      const sdk = await createPlugin({ wasm: [{ data: fs.readFileSync(file) }], config: FUZZ_CONFIG }, { useWasi: false, logger: silent });
      try {
        for (let n = 0; n < PROGRAMS_PER_SEED; n++) {
          const program = generate(rand);
          stats.programs++;
          stats.kernelCalls += program.calls;
          let a: Outcome;
          try {
            a = { ok: true, bytes: Buffer.from(await host.call(ours.id, 'run', program.bytes)) };
          } catch (error) {
            const e = error as Error;
            assert.ok(['PluginError', 'PolicyError'].includes(e.name), `seed ${seed} #${n}: ${e.name}: ${e.message}`);
            assert.doesNotMatch(e.message, RAW, `seed ${seed} #${n}: raw error text`);
            a = { ok: false, message: e.message };
          }
          let b: Outcome;
          try {
            const out = await sdk.call('run', program.bytes);
            b = { ok: true, bytes: Buffer.from(out ? out.bytes() : new Uint8Array(0)) };
          } catch (error) {
            b = { ok: false, message: String(error) };
          }
          if (a.ok) stats.ok++;
          else stats.failed++;
          if (same(a, b)) {
            stats.sameOutcome++;
            continue;
          }
          const kind = program.edges[0];
          if (!kind || !DOCUMENTED.has(kind)) {
            unexplained.push(`seed ${seed} #${n}: ours ${a.ok ? a.bytes.toString('hex') : a.message}; sdk ${b.ok ? b.bytes.toString('hex') : b.message}`);
            continue;
          }
          stats.differences.set(kind, (stats.differences.get(kind) ?? 0) + 1);
        }
      } finally {
        await sdk.close();
        await host.unregister(ours.id);
      }
      assert.equal(text(await host.call(bystander.id, 'echo', `seed ${seed}`)), `seed ${seed}`);
    }
    console.log(
      `      kernel fuzz: ${SEEDS.length} seeds, ${stats.programs} programs, ${stats.kernelCalls} kernel calls; ` +
        `ours ${stats.ok} ok / ${stats.failed} failed; same outcome as the SDK ${stats.sameOutcome}; ` +
        `differences ${JSON.stringify(Object.fromEntries(stats.differences))}`,
    );
    assert.deepEqual(unexplained.slice(0, 5), [], `${unexplained.length} differences no documented edge explains`);
    assert.ok(stats.sameOutcome > stats.programs * 0.4, 'the engines agree on most programs that touch no edge');
  });
});

const silent = { info() {}, debug() {}, warn() {}, error() {}, trace() {}, log() {} } as unknown as Console;
