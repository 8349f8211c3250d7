import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cli, closeHosts, rejects, root, startHost, text } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('time limits', () => {
  afterEach(closeHosts);

  it('stop a looping plugin on time, call after call, once the watchdog thread runs the guard', async () => {
    const host = startHost({ callTimeoutMs: 250 });
    const echo = await host.register('echo');
    const loop = await host.register('loop');
    // the first calls run under vm's own timeout; the watchdog takes over once it has started
    for (let i = 0; i < 50; i++) {
      assert.equal(text(await host.call(echo.id, 'echo', `#${i}`)), `#${i}`);
      await sleep(2);
    }
    for (let round = 0; round < 3; round++) {
      const t0 = Date.now();
      await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /call to plugin #2 \(loop\)\.spin timed out after 250 ms \(callTimeoutMs\)/);
      const took = Date.now() - t0;
      assert.ok(took >= 240 && took < 1500, `stopped after ${took} ms`);
      assert.equal(text(await host.call(echo.id, 'echo', 'still here')), 'still here');
    }
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok', 'the stopped plugin has a fresh instance');
  });

  it('hosts on one thread share its watchdog: one made while another\'s call runs leaves both time limits whole', async () => {
    const a = startHost({ callTimeoutMs: 300 });
    const loopA = await a.register('loop');
    assert.equal(text(await a.call(loopA.id, 'ok')), 'ok');
    for (let round = 0; round < 3; round++) {
      // b's runtime starts with no time limit, so nothing waits for its guard's watchdog: one of
      // its own would start while a's call runs
      const b = startHost({ callTimeoutMs: 0 });
      const registered = b.register('loop');
      await rejects(a.call(loopA.id, 'spin'), 'TimeoutError', /timed out after 300 ms/);
      const loopB = await registered;
      await b.configure({ callTimeoutMs: 300 });
      const t0 = Date.now();
      await rejects(b.call(loopB.id, 'spin'), 'TimeoutError', /timed out after 300 ms/);
      assert.ok(Date.now() - t0 < 2000, `b's call stopped after ${Date.now() - t0} ms`);
      assert.equal(text(await b.call(loopB.id, 'ok')), 'ok');
    }
  });

  it('a call that ends in time leaves nothing armed: a later slow job is not stopped early', async () => {
    const host = startHost({ callTimeoutMs: 400 });
    const echo = await host.register('echo');
    for (let i = 0; i < 200; i++) await host.call(echo.id, 'echo', 'x');
    const loop = await host.register('loop');
    const t0 = Date.now();
    await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /timed out after 400 ms/);
    assert.ok(Date.now() - t0 >= 390, `stopped after ${Date.now() - t0} ms, before its limit`);
  });

  it('cli: Ctrl-C during a call with a long time limit still ends the process', async () => {
    const child = spawn(process.execPath, [cli, 'call', 'loop', 'spin', '--timeout', '60000'], { cwd: root, stdio: 'ignore' });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await sleep(1500);
    const t0 = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await ended;
    assert.ok(signal === 'SIGINT' || code === 130, `exit ${code} ${signal}`);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms to end`);
  });
});
