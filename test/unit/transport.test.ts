import * as assert from 'node:assert/strict';
import { childProcesses } from '../childProcesses';
import type { PluginHost, RuntimeStop } from '../../src/core';
import { closeHosts, pluginsDir, rejects, runtimeEntry, startHost, text, transports } from './helpers';

const SEED = '{"count":3,"total":3,"vowels":"aeiouAEIOU"}';

/** The runtime process of a host on the child-process transport. */
function runtimePid(): number {
  const found = childProcesses(process.pid).filter((p) => p.command.includes(runtimeEntry));
  assert.equal(found.length, 1, `runtime processes: ${JSON.stringify(found)}`);
  return found[0].pid;
}

function stops(host: PluginHost): RuntimeStop[] {
  const seen: RuntimeStop[] = [];
  host.onDidStopRuntime((s) => seen.push(s));
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('transports', () => {
  afterEach(closeHosts);

  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: the seed scenario gives the same bytes and the same trace shape`, async () => {
      const host = startHost({}, transport);
      const run = await host.register('run');
      assert.equal(text(await host.call(run.id, 'run')), SEED);
      assert.deepEqual(host.plugins().map((p) => `#${p.id} ${p.name} <- ${p.parentId}`), ['#1 run <- null', '#2 count_vowels <- 1']);
      assert.deepEqual(host.trace.spans().map((s) => `${s.caller} -> ${s.calleeName}.${s.func} ${s.status}`), [
        '1 -> count_vowels.count_vowels ok',
        'api -> run.run ok',
      ]);
      await rejects(host.call(run.id, 'nope'), 'PluginError', /plugin #1 \(run\) has no export "nope"/);
    });
  }

  it('in-process: requests run one at a time, in order, after the current task', async () => {
    const host = startHost();
    const echo = await host.register('echo');
    const order: string[] = [];
    const calls = ['a', 'b', 'c'].map((x) => host.call(echo.id, 'echo', x).then((o) => order.push(text(o))));
    order.push('sync');
    await Promise.all(calls);
    assert.deepEqual(order, ['sync', 'a', 'b', 'c']);
  });

  for (const name of ['worker', 'childProcess'] as const) {
    it(`${name}: restart stops a call that has no time limit, ends its span, and ids go on`, async () => {
      const host = startHost({}, transports[name]);
      const seen = stops(host);
      const changes: string[] = [];
      host.onDidChangePlugins((e) => changes.push(e.kind));
      const run = await host.register('run');
      await host.call(run.id, 'run');
      const spansBefore = host.trace.spans().map((s) => s.id);
      const looping = await host.register('loop');
      await host.configure({ pluginDirs: [pluginsDir], callTimeoutMs: 0 });
      const stuck = host.call(looping.id, 'spin');
      await sleep(150);
      assert.equal(host.trace.runningSpans().length, 1);
      await host.restart();
      await rejects(stuck, 'HostError', /the plugin runtime stopped \(restarted\); every plugin was unloaded/);
      assert.deepEqual(seen, [{ cause: 'restarted', requested: true }]);
      assert.equal(host.trace.runningSpans().length, 0, 'no span stays running');
      const ended = host.trace.spans().find((s) => s.func === 'spin');
      assert.equal(ended?.status, 'error');
      assert.match(ended?.error ?? '', /^runtime stopped \(restarted\)/);
      assert.equal(host.plugins().length, 0);
      assert.ok(changes.includes('reset'));
      const again = await host.register('run');
      assert.equal(again.id, 4, 'ids 1 to 3 were handed out by the stopped runtime');
      assert.equal(text(await host.call(again.id, 'run')), SEED);
      const spansAfter = host.trace.spans().map((s) => s.id).filter((id) => !spansBefore.includes(id) && id !== ended?.id);
      assert.equal(spansAfter.length, 2);
      assert.ok(Math.min(...spansAfter) > Math.max(...spansBefore, ended?.id ?? 0), 'span ids go on too');
    });
  }

  it('childProcess: a runtime killed by SIGKILL mid-call fails the call, ends its spans, and is replaced', async () => {
    const host = startHost({ callTimeoutMs: 0 }, transports.childProcess);
    const seen = stops(host);
    const looping = await host.register('loop');
    const stuck = host.call(looping.id, 'spin');
    // killed once the call runs (its span is open), however long a loaded machine takes to start it
    for (let waited = 0; host.trace.runningSpans().length === 0 && waited < 3000; waited += 20) await sleep(20);
    process.kill(runtimePid(), 'SIGKILL');
    await rejects(stuck, 'HostError', /the plugin runtime stopped \(killed by SIGKILL; the system may have run out of memory\)/);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].requested, false);
    assert.equal(host.trace.runningSpans().length, 0);
    assert.match(host.trace.spans()[0].error ?? '', /^runtime stopped \(killed by SIGKILL/);
    assert.equal(host.plugins().length, 0);
    const run = await host.register('run');
    assert.equal(run.id, 2);
    assert.equal(text(await host.call(run.id, 'run')), SEED);
  });

  it('childProcess: a runtime that exits names its exit code', async () => {
    const host = startHost({}, { kind: 'child-process', entry: runtimeEntry, maxHeapMb: 64 });
    const seen = stops(host);
    await host.register('echo');
    process.kill(runtimePid(), 'SIGTERM');
    await host.register('echo').catch(() => undefined);
    while (!seen.length) await sleep(20);
    assert.equal(seen[0].cause, 'killed by SIGTERM');
  });

  it('childProcess: a runtime entry that cannot start is a clear error, not a hang', async () => {
    const host = startHost({}, { kind: 'child-process', entry: `${runtimeEntry}.missing` });
    await rejects(host.register('echo'), 'HostError', /the plugin runtime stopped \(exit code 1: .*Cannot find module/);
  });
});
