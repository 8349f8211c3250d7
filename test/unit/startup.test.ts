import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeHosts, pluginsDir, rejects, startHost, text } from './helpers';

/** A module whose `_initialize` (the start-up every SDK runs) loops for ever, and exports `run`. */
export function loopingStartModule(exportName = '_initialize'): Uint8Array {
  const name = Buffer.from(exportName);
  const exports = [0x01, name.length, ...name, 0x00, 0x00];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type 0: () -> ()
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x07, exports.length, ...exports,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop { br 0 }
  ]);
}

describe('start-up under the time limit', () => {
  afterEach(closeHosts);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-startup-'));
    fs.writeFileSync(path.join(dir, 'stuck_init.wasm'), loopingStartModule('_initialize'));
    fs.writeFileSync(path.join(dir, 'stuck_hs.wasm'), loopingStartModule('hs_init'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const name of ['stuck_init', 'stuck_hs']) {
    it(`${name}: a start-up that never returns fails register with its own message, and the host goes on`, async () => {
      const host = startHost({ pluginDirs: [dir, pluginsDir], callTimeoutMs: 300 });
      const t0 = Date.now();
      await rejects(host.register(name), 'TimeoutError', new RegExp(`^register: plugin #1 \\(${name}\\) did not finish starting within 300 ms \\(callTimeoutMs\\)$`));
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      assert.equal(host.plugins().length, 0, 'the plugin that did not start is not live');
      const run = await host.register('run');
      assert.equal(text(await host.call(run.id, 'run')), '{"count":3,"total":3,"vowels":"aeiouAEIOU"}');
    });
  }

  it("a plugin's own timeout_ms bounds its start-up too", async () => {
    fs.writeFileSync(path.join(dir, 'stuck_manifest.json'), JSON.stringify({ wasm: [{ path: 'stuck_init.wasm' }], timeout_ms: 200 }));
    const host = startHost({ pluginDirs: [dir], callTimeoutMs: 0 });
    await rejects(host.register('stuck_manifest'), 'TimeoutError', /did not finish starting within 200 ms \(the plugin's own timeout_ms\)/);
  });

  it('a plugin spawned during a call starts under that call\'s limit', async () => {
    const host = startHost({ pluginDirs: [dir, pluginsDir], callTimeoutMs: 300 });
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'spawn_call', 'stuck_init:ok:'), 'TimeoutError', /call to plugin #1 \(launcher\)\.spawn_call timed out after 300 ms/);
    assert.deepEqual(host.plugins().map((p) => p.name), ['launcher']);
    assert.equal(text(await host.call(launcher.id, 'spawn_call', 'echo:echo:hi')), 'hi');
  });
});

describe('internal errors', () => {
  it('say they are the host\'s, name what it was doing, and keep the stack', async () => {
    const { internalError, IpcError } = await import('../../src/core/model/errors');
    const raw = new TypeError("Cannot read properties of undefined (reading 'x')");
    const wrapped = internalError('calling plugin #3 (kv).run', raw);
    assert.equal(wrapped.name, 'HostError');
    assert.equal(wrapped.message, 'calling plugin #3 (kv).run: internal failure of the host (TypeError); the details are in the log');
    assert.match(wrapped.stack ?? '', /caused by TypeError/);
    const refusal = new IpcError('policy', 'no');
    assert.equal(internalError('x', refusal), refusal, 'a known error passes unchanged');
  });
});
