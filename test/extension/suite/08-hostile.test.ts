import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cmd, hooks, REPO, rejects, reset, SEED_OUTPUT, setSetting, waitFor } from './helpers';

/** A module whose `_initialize` loops for ever. */
function loopingStart(): Uint8Array {
  const name = Buffer.from('_initialize');
  const exports = [0x01, name.length, ...name, 0x00, 0x00];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
    0x07, exports.length, ...exports, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
  ]);
}

suite('hostile plugins', () => {
  let dir: string;
  suiteSetup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-hostile-'));
    fs.writeFileSync(path.join(dir, 'stuck.wasm'), loopingStart());
    // a memory section claiming 2^32-1 memories, in 14 bytes
    fs.writeFileSync(path.join(dir, 'many_memories.wasm'), new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    // a manifest whose module is named __proto__, and a config key named constructor
    fs.writeFileSync(path.join(dir, 'proto.json'), JSON.stringify({ wasm: [{ path: path.join(REPO, 'plugins', 'echo.wasm'), name: '__proto__' }], config: { constructor: 'x' } }));
  });
  suiteTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a plugin whose start-up never returns: register fails with a clear error, not a hang; the next call works', async () => {
    const api = await reset();
    await setSetting('limits.callTimeoutMs', 500);
    await waitFor('a 500 ms limit', () => hooks(api).policy().callTimeoutMs === 500);
    const t0 = Date.now();
    await rejects(cmd('extismIpc.registerPlugin', vscode.Uri.file(path.join(dir, 'stuck.wasm'))), /register: plugin #\d+ \(stuck\) did not finish starting within 500 ms/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(api.plugins().length, 0);
    await setSetting('limits.callTimeoutMs', undefined);
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    assert.equal(await cmd('extismIpc.callPlugin', run, 'run', ''), SEED_OUTPUT);
  });

  test('a module claiming 2^32-1 memories and a manifest of hostile names: clear errors at once; every later registration works', async () => {
    const api = await reset();
    const t0 = Date.now();
    await rejects(cmd('extismIpc.registerPlugin', vscode.Uri.file(path.join(dir, 'many_memories.wasm'))), /many_memories\.wasm is not a valid WebAssembly module/);
    await rejects(cmd('extismIpc.registerPlugin', vscode.Uri.file(path.join(dir, 'proto.json'))), /one must be named "main"/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(api.plugins().length, 0);
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    assert.equal(await cmd('extismIpc.callPlugin', run, 'run', ''), SEED_OUTPUT);
  });
});
