import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizePolicy } from '../../src/core';
import { closeHosts, pluginsDir, rejects, startHost, text } from './helpers';

describe('policy: every refusal is a clear error', () => {
  afterEach(closeHosts);

  for (const name of ['../etc/passwd', '/abs/path', 'a/b', 'a\\b', '..', '']) {
    it(`refuses to spawn the non-name ${JSON.stringify(name)}`, async () => {
      const host = startHost();
      const launcher = await host.register('launcher');
      await rejects(host.call(launcher.id, 'spawn', name), 'PolicyError', /is not a plugin name \(names only/);
    });
  }

  it('refuses an unknown plugin name, naming the directories searched', async () => {
    const host = startHost();
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'spawn', 'no_such_plugin'), 'PolicyError', /no plugin named "no_such_plugin" in .*plugins/);
  });

  it('stops a plugin that spawns without end at the live plugin limit', async () => {
    const host = startHost({ maxPlugins: 5, maxCallDepth: 100 });
    const spawner = await host.register('spawner');
    await rejects(host.call(spawner.id, 'spawn'), 'PolicyError', /limit of 5 live plugins is reached \(maxPlugins\)/);
    assert.equal(host.plugins().length, 5);
    await host.unregister(spawner.id);
    assert.equal(host.plugins().length, 0, 'its descendants end with it');
  });

  it('stops a call chain at the depth limit', async () => {
    const host = startHost({ maxCallDepth: 2 });
    const a = await host.register('chain_a');
    await rejects(host.call(a.id, 'step', 'x'), 'PolicyError', /call depth limit of 2 reached \(maxCallDepth\) at #1 chain_a -> #2 chain_b/);
  });

  it('limits how many live plugins one plugin may spawn', async () => {
    const host = startHost({ maxSpawnPerPlugin: 2 });
    const launcher = await host.register('launcher');
    await host.call(launcher.id, 'spawn', 'echo');
    await host.call(launcher.id, 'spawn', 'echo');
    await rejects(host.call(launcher.id, 'spawn', 'echo'), 'PolicyError', /already has 2 live plugins it spawned.*maxSpawnPerPlugin/);
    await host.call(launcher.id, 'unregister', '2');
    assert.equal(text(await host.call(launcher.id, 'spawn', 'echo')), '4');
  });

  it('refuses a call back into a plugin already on the call stack', async () => {
    const host = startHost();
    const ping = await host.register('ping');
    await rejects(host.call(ping.id, 'ping', String(ping.id)), 'PolicyError', /plugin #1 \(ping\) is already on the call stack \(#1 ping -> #1\)/);
    const pong = await host.register('pong');
    await rejects(host.call(pong.id, 'bounce', String(ping.id)), 'PolicyError', /#2 pong -> #1 ping -> #1/);
  });

  it('applies spawn and call permissions by plugin name', async () => {
    const host = startHost({ permissions: { launcher: { spawn: ['echo', 'chain_*'], call: ['echo.length', 'chain_a'] } } });
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'spawn', 'count_vowels'), 'PolicyError', /may not spawn "count_vowels" \(permissions\["launcher"\]\.spawn\)/);
    await rejects(host.call(launcher.id, 'spawn_call', 'echo:echo:hi'), 'PolicyError', /may not call echo\.echo \(permissions\["launcher"\]\.call\)/);
    assert.equal(text(await host.call(launcher.id, 'spawn_call', 'echo:length:four')), '4');
    assert.equal(text(await host.call(launcher.id, 'spawn_call', 'chain_a:step:p')), 'P|A|B|c');
  });

  it('refuses an input or output over the message limit', async () => {
    const host = startHost({ maxMessageBytes: 1000 });
    const echo = await host.register('echo');
    await rejects(host.call(echo.id, 'echo', 'x'.repeat(1001)), 'PolicyError', /input of plugin #1 \(echo\)\.echo is 1001 bytes, over the limit of 1000 \(maxMessageBytes\)/);
    const c = await host.register('chain_c');
    await rejects(host.call(c.id, 'step', 'y'.repeat(999)), 'PolicyError', /output of plugin #2 \(chain_c\)\.step is 1001 bytes, over the limit of 1000/);
  });

  it('refuses to allocate Extism memory past the page limit', async () => {
    const host = startHost({ memoryMaxPages: 2 });
    const echo = await host.register('echo');
    assert.equal(text(await host.call(echo.id, 'echo', 'small')), 'small');
    await rejects(host.call(echo.id, 'echo', new Uint8Array(200 * 1024)), 'PluginError', /out of memory: .*limit of 2 pages \(128 KiB\)/);
    assert.equal(text(await host.call(echo.id, 'echo', 'still fine')), 'still fine');
  });

  it('reports a missing export, directly and through call_plugin', async () => {
    const host = startHost();
    const cv = await host.register('count_vowels');
    await rejects(host.call(cv.id, 'nope'), 'PluginError', /^call: plugin #1 \(count_vowels\) has no export "nope"$/);
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'call', `${cv.id}:nope:`), 'PluginError', /^call_plugin: plugin #1 \(count_vowels\) has no export "nope"$/);
    await rejects(host.call(launcher.id, 'call', '99:x:'), 'PolicyError', /called #99, which is not a live plugin/);
  });

  it('reports bad pointers handed to host functions', async () => {
    const host = startHost();
    const bad = await host.register('badptr');
    await rejects(host.call(bad.id, 'bad_register'), 'PluginError', /plugin #1 \(badptr\)\.bad_register: register_plugin: plugin name: 0xfffffff0 is not an Extism memory block/);
    await rejects(host.call(bad.id, 'bad_call'), 'PluginError', /plugin #1 \(badptr\)\.bad_call: call_plugin: function name: 0xfffffff0 is not an Extism memory block/);
  });

  it('refuses a broken .wasm with the reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-broken-'));
    fs.writeFileSync(path.join(dir, 'broken.wasm'), Buffer.from('not wasm at all'));
    fs.copyFileSync(path.join(pluginsDir, 'launcher.wasm'), path.join(dir, 'launcher.wasm'));
    const host = startHost({ pluginDirs: [dir] });
    await rejects(host.register('broken'), 'PluginError', /broken\.wasm is not a valid WebAssembly module/);
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'spawn', 'broken'), 'PluginError', /is not a valid WebAssembly module/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops a runaway plugin at the timeout and stays usable', async () => {
    const host = startHost({ callTimeoutMs: 300 });
    const cv = await host.register('count_vowels');
    await host.call(cv.id, 'count_vowels', 'aaaa');
    const loop = await host.register('loop');
    const started = Date.now();
    await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /call to plugin #2 \(loop\)\.spin timed out after 300 ms/);
    assert.ok(Date.now() - started < 3000);
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok');
    const after = JSON.parse(text(await host.call(cv.id, 'count_vowels', 'a')));
    assert.equal(after.total, 5, 'the other plugins keep their state');
  });

  it('stops a looping callee and keeps its caller usable', async () => {
    const host = startHost({ callTimeoutMs: 300 });
    const launcher = await host.register('launcher');
    await rejects(host.call(launcher.id, 'spawn_call', 'loop:spin:'), 'TimeoutError', /timed out after 300 ms .*plugin #2 \(loop\)\.spin was running/);
    const spans = host.trace.spans();
    assert.deepEqual(spans.map((s) => [s.calleeName, s.status]).sort(), [['launcher', 'error'], ['loop', 'error']]);
    assert.equal(text(await host.call(launcher.id, 'call', '2:ok:')), 'ok');
  });

  it('validates policy options with a message that says how to fix them', () => {
    assert.throws(() => normalizePolicy({ maxPlugins: 0 }), /maxPlugins must be a whole number in \[1, 100000\], got 0/);
    assert.throws(() => normalizePolicy({ callTimeoutMs: 1.5 }), /callTimeoutMs must be a whole number/);
    assert.throws(
      () => normalizePolicy({ permissions: { a: { spawn: 'b' as unknown as string[] } } }),
      /permissions\["a"\]\.spawn must be a list of strings/,
    );
    assert.equal(normalizePolicy({}).maxCallDepth, 16);
  });
});
