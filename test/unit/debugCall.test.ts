import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as os from 'node:os';
import { closeHosts, rejects, startHost, text, transports } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('debug calls', () => {
  afterEach(closeHosts);

  it('the runtime process opens its inspector on request only, on a loopback port, and keeps its plugins', async () => {
    const host = startHost({}, transports.childProcess);
    const echo = await host.register('echo');
    const address = await host.openInspector();
    assert.equal(address.host, '127.0.0.1');
    assert.ok(address.port > 0);
    assert.match(address.url, new RegExp(`^ws://127\\.0\\.0\\.1:${address.port}/`));
    const list = (await (await fetch(`http://127.0.0.1:${address.port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    assert.equal(list[0].webSocketDebuggerUrl, address.url);
    // on no other interface of this machine
    const others = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    for (const other of others) assert.equal(await accepts(other!.address, address.port), false, `listening on ${other!.address}`);
    assert.equal(text(await host.call(echo.id, 'echo', 'still live')), 'still live');
    await host.closeInspector();
    assert.equal(await accepts('127.0.0.1', address.port), false, 'closed');
  });

  it('a runtime in the caller process or a worker thread is not debugged', async () => {
    await rejects(startHost().openInspector(), 'HostError', /only a plugin runtime in a child process of its own can be debugged/);
    await rejects(startHost({}, transports.worker).openInspector(), 'HostError', /only a plugin runtime in a child process of its own can be debugged/);
  });

  it('a debugged call runs past callTimeoutMs, stops when its session ends, and the runtime goes on', async () => {
    const host = startHost({ callTimeoutMs: 200 }, transports.childProcess);
    const loop = await host.register('loop');
    await host.openInspector();
    const t0 = Date.now();
    const spinning = host.debugCall(loop.id, 'spin', '', { everyEntry: true });
    await sleep(700);
    assert.equal(host.interruptDebugCall(), true);
    await rejects(spinning, 'HostError', /debug session ended: the call was stopped/);
    assert.ok(Date.now() - t0 >= 700, 'ran past its time limit');
    assert.equal(host.plugin(loop.id)?.name, 'loop', 'still live');
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok');
    // deadlines apply again to ordinary calls
    await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /timed out after 200 ms/);
    // nothing to stop now: no SIGINT is sent
    assert.equal(host.interruptDebugCall(), false);
    await host.closeInspector();
  });

  it('a debugged call from plugin to plugin gives the ordinary output when no debugger is attached', async () => {
    const host = startHost({}, transports.childProcess);
    const run = await host.register('run');
    await host.openInspector();
    const out = JSON.parse(text(await host.debugCall(run.id, 'run', '', { everyEntry: true }))) as { count: number };
    assert.equal(out.count, 3);
    assert.equal(text(await host.call(run.id, 'run', '')).includes('"count":3'), true);
    const spans = host.trace.spans().filter((s) => s.func === 'count_vowels');
    assert.equal(spans.length, 2, 'the debugged call is traced like any other');
  });
});
