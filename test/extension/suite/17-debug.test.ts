// Debug Call…: VS Code's JavaScript debugger attached to the runtime process, pausing in wasm frames.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cmd, getApi, REPO, sleep, waitFor } from './helpers';

const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');

interface Frame {
  id: number;
  name: string;
  source?: { name?: string; path?: string; sourceReference?: number };
  line: number;
  column: number;
}

/** The stopped events of Extism debug sessions, as the debug adapter sent them. */
const stops: { session: vscode.DebugSession; threadId: number; reason: string }[] = [];
/** What the sessions said and were asked, for the failure message. */
const seen: string[] = [];

/** Waits for the session to stop in a plugin's wasm frame (past the entry step); its frames, top first. */
async function wasmStop(what: string): Promise<{ session: vscode.DebugSession; threadId: number; frames: Frame[] }> {
  return waitFor(`a stop in ${what}`, async () => {
    const stop = stops[stops.length - 1];
    if (!stop) return undefined;
    try {
      const { stackFrames } = (await stop.session.customRequest('stackTrace', { threadId: stop.threadId, startFrame: 0, levels: 30 })) as { stackFrames: Frame[] };
      const top = stackFrames[0];
      if (!top || top.source?.name?.endsWith('extism-plugin-entry.js')) return undefined;
      return { ...stop, frames: stackFrames };
    } catch {
      return undefined;
    }
  }, 30_000).catch((error: Error) => {
    throw new Error(`${error.message}; the sessions:\n${seen.slice(-60).join('\n')}`);
  });
}

async function resume(stop: { session: vscode.DebugSession; threadId: number }): Promise<void> {
  stops.length = 0;
  await stop.session.customRequest('continue', { threadId: stop.threadId });
}

function describe(frames: Frame[]): string {
  return frames.map((f) => `${f.name} @ ${f.source?.name ?? '?'}:${f.line}:${f.column}`).join(' < ');
}

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

suite('Debug Call: the JavaScript debugger in the runtime process, from plugin to plugin', function () {
  this.timeout(120_000);
  let tracker: vscode.Disposable;
  let terminations: vscode.Disposable;
  const terminated: string[] = [];
  let runId: number;

  suiteSetup(async () => {
    await getApi();
    tracker = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      createDebugAdapterTracker: (session) => {
        // js-debug debugs the process in a child of the session it was asked to start
        if (!(session.parentSession ?? session).name.startsWith('Extism: debug')) return undefined;
        return {
          onWillReceiveMessage: (m: unknown) => seen.push(`${session.name} -> ${JSON.stringify(m).slice(0, 300)}`),
          onError: (e: Error) => seen.push(`error ${e.message}`),
          onExit: (code: number | undefined, signal: string | undefined) => seen.push(`exit ${code} ${signal}`),
          onDidSendMessage: (m: { type?: string; event?: string; body?: { threadId?: number; reason?: string } }) => {
            seen.push(`${session.name} <- ${JSON.stringify(m).slice(0, 300)}`);
            if (m.type === 'event' && m.event === 'stopped' && m.body?.threadId !== undefined) stops.push({ session, threadId: m.body.threadId, reason: m.body.reason ?? '' });
          },
        };
      },
    });
    terminations = vscode.debug.onDidTerminateDebugSession((s) => terminated.push(s.name));
    await cmd('extismIpc.unregisterAll');
    runId = await cmd<number>('extismIpc.registerPlugin', 'run');
  });

  suiteTeardown(async () => {
    tracker.dispose();
    terminations.dispose();
    await vscode.workspace.getConfiguration('extismIpc').update('limits.callTimeoutMs', undefined, vscode.ConfigurationTarget.Global);
  });

  test('stops first in the caller export, Continue stops in the callee, and the call ends with its output', async () => {
    stops.length = 0;
    const t0 = Date.now();
    const output = cmd<string>('extismIpc.debugCall', runId, 'run', '');
    let failed: unknown;
    output.then(undefined, (e) => (failed = e));
    const first = await wasmStop('run');
    const attachMs = Date.now() - t0;
    console.log(`  first stop after ${attachMs} ms: ${describe(first.frames)}`);
    assert.equal(failed, undefined);
    const session = first.session.parentSession ?? first.session;
    assert.equal(session.configuration.address, '127.0.0.1');
    assert.match(session.name, /^Extism: debug #\d+ run\.run$/);
    assert.match(first.frames[0].name, /run/);
    assert.doesNotMatch(first.frames[0].name, /count_vowels/);
    // a wasm frame: no file on disk, its disassembly from the adapter
    assert.ok(!first.frames[0].source?.path || /wasm/.test(first.frames[0].source.path), describe(first.frames));

    // the inspector listens on loopback only
    const port = Number(session.configuration.port);
    assert.ok(port > 0);
    assert.equal(await accepts('127.0.0.1', port), true);
    const others = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
    for (const other of others) assert.equal(await accepts(other!.address, port), false, `the inspector answers on ${other!.address}`);

    if (fs.existsSync(path.dirname(SHOTS))) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await cmd('workbench.view.debug');
      await sleep(1500);
      await shot(path.join(SHOTS, 'debug-paused.png'));
    }

    await resume(first);
    const second = await wasmStop('count_vowels');
    console.log(`  second stop: ${describe(second.frames)}`);
    assert.match(second.frames[0].name, /count_vowels/);
    assert.ok(second.frames.slice(1).some((f) => /run/.test(f.name)), `the caller below the callee: ${describe(second.frames)}`);
    // the runtime's own JavaScript is there, but skipped: no frame of it is on top
    await resume(second);
    // count_vowels' running total goes on from earlier calls in this window
    assert.match(await output, /^\{"count":3,"total":\d+,"vowels":"aeiouAEIOU"\}$/);
    await waitFor('the session to end with the call', () => terminated.includes(session.name), 20_000);
  });

  test('a pause longer than callTimeoutMs does not fail the call', async () => {
    await vscode.workspace.getConfiguration('extismIpc').update('limits.callTimeoutMs', 300, vscode.ConfigurationTarget.Global);
    await waitFor('the time limit to apply', async () => (await getApi()).testing?.policy().callTimeoutMs === 300);
    stops.length = 0;
    const output = cmd<string>('extismIpc.debugCall', runId, 'run', '');
    const first = await wasmStop('run');
    await sleep(1500);
    await resume(first);
    const second = await wasmStop('count_vowels');
    await sleep(800);
    await resume(second);
    assert.match(await output, /"count":3/);
    await vscode.workspace.getConfiguration('extismIpc').update('limits.callTimeoutMs', undefined, vscode.ConfigurationTarget.Global);
  });

  test('stopping the session fails the call cleanly, and the next ordinary call works', async () => {
    stops.length = 0;
    const output = cmd<string>('extismIpc.debugCall', runId, 'run', '');
    const first = await wasmStop('run');
    await vscode.debug.stopDebugging(first.session.parentSession ?? first.session);
    await assert.rejects(Promise.resolve(output), /debug session ended: the call was stopped/);
    const again = await cmd<string>('extismIpc.callPlugin', runId, 'run', '');
    assert.match(again, /"count":3/);
  });
});
