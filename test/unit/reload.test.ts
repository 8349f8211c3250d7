import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeHosts, rejects, startHost, text, wasm } from './helpers';

describe('reload from changed files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-reload-'));
  });
  afterEach(async () => {
    await closeHosts();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the id, the parent, the vars and the counts; runs the new code; says when', async () => {
    const file = path.join(dir, 'counter.wasm');
    fs.copyFileSync(wasm('config_counter'), file);
    const host = startHost();
    const p = await host.register(file);
    assert.deepEqual(p.files, [file]);
    assert.equal(p.reloadedAt, null);
    assert.equal(text(await host.call(p.id, 'count')), 'counter=1');
    // the same code, rebuilt: a different file on disk, the var n carries over
    fs.copyFileSync(wasm('config_counter'), file);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const again = await host.reload(p.id);
    assert.equal(again.id, p.id);
    assert.ok(again.reloadedAt !== null && again.calls === 1);
    assert.equal(text(await host.call(p.id, 'count')), 'counter=2', 'vars survive a reload');
    assert.deepEqual(host.trace.all().filter((r) => r.kind === 'reload').map((r) => r.kind === 'reload' && r.pluginId), [p.id]);
    fs.copyFileSync(wasm('echo'), file);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    const echo = await host.reload(p.id);
    assert.ok(echo.exports.includes('echo'));
    assert.equal(text(await host.call(p.id, 'echo', 'new code')), 'new code');
  });

  it('a rebuild that does not compile leaves the old version running, and says why', async () => {
    const file = path.join(dir, 'e.wasm');
    fs.copyFileSync(wasm('echo'), file);
    const host = startHost();
    const p = await host.register(file);
    fs.writeFileSync(file, 'not wasm');
    await rejects(host.reload(p.id), 'PluginError', /e\.wasm is not a valid WebAssembly module/);
    assert.equal(text(await host.call(p.id, 'echo', 'still the old one')), 'still the old one');
    await rejects(host.reload(999), 'PolicyError', /reload: no live plugin #999/);
  });
});
