import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeHosts, pluginsDir, rejects, startHost, transports, wasm } from './helpers';
import { assertSeedScenario, cleanOutcome, Outcome, removeTempDirs, tally, tempDir } from './hostileInput';
import { mutate, MUTATIONS } from './hostileModulesFuzz';
import { cPlugin } from './cPlugins';

/** 4 plugins x 5 kinds x 40 seeds = 800 cases. */
const CASES_PER_KIND = 40;

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function writeModule(dir: string, name: string, bytes: number[] | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Uint8Array.from(bytes));
  return file;
}

describe('hostile modules: named regressions', () => {
  afterEach(async () => {
    await closeHosts();
    removeTempDirs();
  });

  it('a 14-byte module whose memory section claims 2^32-1 memories is one clear error, at once', async () => {
    const dir = tempDir();
    // section 5 (memory), 5 bytes: count = 0xffffffff as LEB128, and nothing after it
    const file = writeModule(dir, 'many_memories.wasm', [...HEADER, 0x05, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const host = startHost();
    const started = Date.now();
    await rejects(host.register(file), 'PluginError', new RegExp(`^register: "many_memories": ${file} is not a valid WebAssembly module \\(`));
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    await assertSeedScenario(host);
  });

  it('a memory section whose size and limits run past the end of the module is refused', async () => {
    const dir = tempDir();
    const sizeTooBig = writeModule(dir, 'size.wasm', [...HEADER, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x00]);
    const leb = writeModule(dir, 'leb.wasm', [...HEADER, 0x05, 0x03, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const host = startHost();
    await rejects(host.register(sizeTooBig), 'PluginError', /size\.wasm is not a valid WebAssembly module/);
    await rejects(host.register(leb), 'PluginError', /leb\.wasm is not a valid WebAssembly module/);
    await assertSeedScenario(host);
  });

  it('a module whose memory starts above the limit loads, as in Extism, and cannot grow', async () => {
    const dir = tempDir();
    // (module (memory 3) (func (export "g") (result i32) (memory.grow (i32.const 1)))): the export
    // returns memory.grow's result, which the host reports as the error code
    const file = writeModule(dir, 'grow.wasm', [
      ...HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x03,
      0x07, 0x05, 0x01, 0x01, 0x67, 0x00, 0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x01, 0x40, 0x00, 0x0b,
    ]);
    const small = startHost({ memoryMaxPages: 2 });
    const capped = await small.register(file);
    await rejects(small.call(capped.id, 'g'), 'PluginError', /returned error code -1$/);
    const roomy = startHost({ memoryMaxPages: 8 });
    const grows = await roomy.register(file);
    await rejects(roomy.call(grows.id, 'g'), 'PluginError', /returned error code 3$/);
  });

  it('/dev/zero as a module, a manifest path or a plugin in a directory: "is not a regular file", no read', async () => {
    const dir = tempDir();
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.wasm'));
    fs.writeFileSync(path.join(dir, 'zero_manifest.json'), JSON.stringify({ wasm: [{ path: '/dev/zero' }] }));
    const host = startHost({ pluginDirs: [dir, pluginsDir] });
    await rejects(host.register('/dev/zero'), 'PluginError', /^register: "zero": \/dev\/zero is not a regular file \(a character device\)$/);
    await rejects(host.register('zero'), 'PluginError', /zero\.wasm is not a regular file \(a character device\)/);
    await rejects(
      host.register('zero_manifest'),
      'PluginError',
      /zero_manifest\.json: wasm\[0\]\.path "\/dev\/zero" is not a regular file \(a character device\) \(\/dev\/zero\)/,
    );
    await assertSeedScenario(host);
  });

  it('a FIFO without a writer is refused at once, as a module, a manifest and a module of a manifest', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe.wasm');
    const fifoJson = path.join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo, fifoJson]);
    fs.writeFileSync(path.join(dir, 'via.json'), JSON.stringify({ wasm: [{ path: 'pipe.wasm' }] }));
    const host = startHost();
    const started = Date.now();
    await rejects(host.register(fifo), 'PluginError', /pipe\.wasm is not a regular file \(a FIFO\)/);
    await rejects(host.register(fifoJson), 'PluginError', /^manifest .*pipe\.json: is not a regular file \(a FIFO\)$/);
    await rejects(host.register(path.join(dir, 'via.json')), 'PluginError', /via\.json: wasm\[0\]\.path "pipe\.wasm" is not a regular file \(a FIFO\)/);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    await assertSeedScenario(host);
  });

  it('a directory named like a module is refused', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'folder.wasm'));
    fs.mkdirSync(path.join(dir, 'folder.json'));
    const host = startHost({ pluginDirs: [dir] });
    await rejects(host.register(path.join(dir, 'folder.wasm')), 'PluginError', /folder\.wasm is not a regular file \(a directory\)/);
    await rejects(host.register('folder'), 'PluginError', /folder\.json: is not a regular file \(a directory\)/);
  });

  it('a file over maxModuleBytes is refused by its size, without being read', async () => {
    const dir = tempDir();
    const big = path.join(dir, 'huge.wasm');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 300 * 1024 * 1024); // sparse: nothing is written
    const host = startHost();
    await rejects(host.register(big), 'PluginError', /huge\.wasm is 300 MiB, over the limit of 256 MiB \(maxModuleBytes\)$/);
    const small = startHost({ maxModuleBytes: 1024 });
    const size = fs.statSync(wasm('count_vowels')).size;
    await rejects(small.register('count_vowels'), 'PluginError', new RegExp(`count_vowels\\.wasm is ${(size / 1024).toFixed(1)} KiB, over the limit of 1 KiB \\(maxModuleBytes\\)`));
    fs.writeFileSync(path.join(dir, 'inline.json'), JSON.stringify({ wasm: [{ data: fs.readFileSync(wasm('echo')).toString('base64') }] }));
    await rejects(small.register(path.join(dir, 'inline.json')), 'PluginError', /inline\.json: (is .* KiB, over the limit of 1 KiB|wasm\[0\]\.data is .*over the limit of 1 KiB) \(maxModuleBytes\)/);
    await assertSeedScenario(host);
  });
});

describe('hostile modules: seeded mutations of the sample plugins', function () {
  this.timeout(120_000);
  afterEach(async () => {
    await closeHosts();
    removeTempDirs();
  });

  it('registering each is a clean error or a success, in time; the seed scenario works after all of them', async () => {
    const dir = tempDir();
    // a worker, so a module that hangs at start-up fails this test instead of freezing it
    const host = startHost({ callTimeoutMs: 2000 }, transports.worker);
    const outcomes: Outcome[] = [];
    const byKind: Record<string, Outcome[]> = Object.create(null);
    let n = 0;
    // the samples, and a C plugin with DWARF (merged, where V8 can, keeping its code's offsets) and
    // with its name section only (merged, its names remapped)
    const sources = [
      ...['count_vowels', 'echo', 'wasi_clock', 'linked_main'].map((name) => ({ name, file: wasm(name) })),
      { name: 'callee', file: cPlugin('callee') },
      { name: 'callee_named', file: cPlugin('callee.stripped') },
    ];
    for (const { name: plugin, file: source } of sources) {
      const original = fs.readFileSync(source);
      for (const kind of MUTATIONS) {
        for (let seed = 1; seed <= CASES_PER_KIND; seed++) {
          const name = `m${n++}_${plugin}_${kind}_${seed}`;
          const file = writeModule(dir, `${name}.wasm`, mutate(original, kind, seed));
          const promise = host.register(file);
          const outcome = await cleanOutcome(`${plugin} ${kind} seed ${seed}`, promise, new RegExp(`${name}`), 5000);
          if (outcome === 'ok') {
            const { id } = await promise;
            // a call that traps reads its frames through the merge's map of the mutated code
            if (plugin.startsWith('callee')) await cleanOutcome(`${name}.boom`, host.call(id, 'boom', ''), new RegExp(name), 5000);
            await host.unregister(id);
          }
          outcomes.push(outcome);
          (byKind[kind] ??= []).push(outcome);
        }
      }
    }
    assert.equal(outcomes.length, sources.length * MUTATIONS.length * CASES_PER_KIND);
    if (process.env.HOSTILE_REPORT) console.log(JSON.stringify({ all: tally(outcomes), byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, tally(v)])) }));
    assert.ok(outcomes.includes('PluginError'), 'the mutations reached the validator');
    await assertSeedScenario(host);
  });
});
