import * as assert from 'node:assert/strict';
import { childProcesses } from '../../childProcesses';
import { cmd, hooks, rejects, reset, SEED_OUTPUT, setSetting, sleep, waitFor } from './helpers';

/** The plugin runtime: a child process of this extension host, running the bundled entry. */
function runtimeProcess(): { pid: number; command: string } {
  const found = childProcesses(process.pid).filter((p) => /dist[\\/]runtime\.js/.test(p.command));
  assert.equal(found.length, 1, `runtime processes under the extension host: ${JSON.stringify(found)}`);
  return found[0];
}

suite('the plugin runtime in its own process', () => {
  test('runs as a child process of the extension host, with a heap limit of its own', async () => {
    await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'run');
    assert.equal(await cmd('extismIpc.callPlugin', id, 'run', ''), SEED_OUTPUT);
    assert.match(runtimeProcess().command, /--max-old-space-size=\d+/);
  });

  test('kill -9 of the runtime mid-call: the call fails, no span stays running, the next call works', async () => {
    const api = await reset();
    const pidBefore = process.pid;
    await setSetting('limits.callTimeoutMs', 0);
    await waitFor('no time limit', () => hooks(api).policy().callTimeoutMs === 0);
    const loop = await cmd<number>('extismIpc.registerPlugin', 'loop');
    const stuck = rejects(api.call(loop, 'spin'), /the plugin runtime stopped \(killed by SIGKILL/);
    await waitFor('the call running', () => api.runningSpans().some((s) => s.func === 'spin'));
    await sleep(100);
    process.kill(runtimeProcess().pid, 'SIGKILL');
    await stuck;
    await waitFor('no running span', () => api.runningSpans().length === 0);
    const ended = api.spans().find((s) => s.func === 'spin');
    assert.equal(ended?.status, 'error');
    assert.match(ended?.error ?? '', /^runtime stopped \(killed by SIGKILL/);
    await waitFor('empty tree', () => hooks(api).tree.getChildren().length === 0 && api.plugins().length === 0);
    await setSetting('limits.callTimeoutMs', undefined);
    const run = await cmd<number>('extismIpc.registerPlugin', 'run');
    assert.ok(run > loop, `id ${run} after ${loop}: ids go on from the killed runtime's`);
    assert.equal(await cmd('extismIpc.callPlugin', run, 'run', ''), SEED_OUTPUT);
    assert.equal(process.pid, pidBefore, 'the same extension host is running these tests');
    assert.ok(api.plugins().some((p) => p.id === run));
  });
});
