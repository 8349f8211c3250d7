// Debug Call…: VS Code's JavaScript debugger attached to the runtime process, pausing in wasm frames.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cmd, getApi, hooks, postedSpans, REPO, showPanel, sleep, waitFor } from './helpers';
import { canAct, clearNotifications, clickNotificationButton, notifications, texts, waitForScreen } from './workbench';
import { accepts } from '../../tcpProbe';

const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');

interface Frame {
  id: number;
  name: string;
  source?: { name?: string; path?: string; sourceReference?: number; presentationHint?: string; origin?: string };
  line: number;
  column: number;
  presentationHint?: string;
}

/** How a debug call ended: its output, or its error; caught at once, so no rejection goes unhandled. */
type Ended = { output: string } | { error: unknown };
function ending(call: Thenable<string>): Promise<Ended> {
  return Promise.resolve(call).then((output) => ({ output }), (error: unknown) => ({ error }));
}
async function outputOf(ended: Promise<Ended>): Promise<string> {
  const e = await ended;
  if ('error' in e) throw e.error;
  return e.output;
}

/** The stopped events of Extism debug sessions, as the debug adapter sent them. */
const stops: { session: vscode.DebugSession; threadId: number; reason: string }[] = [];
/** What the sessions said and were asked, for the failure message. */
const seen: string[] = [];

/** Waits for the session to stop in a plugin's wasm frame (the session steps on past the entry step, the kernel and skipped code); its frames, top first. */
async function wasmStop(what: string, until: (frames: Frame[]) => boolean = () => true): Promise<{ session: vscode.DebugSession; threadId: number; frames: Frame[] }> {
  return waitFor(`a stop in ${what}`, async () => {
    const stop = stops[stops.length - 1];
    if (!stop) return undefined;
    try {
      const { stackFrames } = (await stop.session.customRequest('stackTrace', { threadId: stop.threadId, startFrame: 0, levels: 30 })) as { stackFrames: Frame[] };
      const top = stackFrames[0];
      // the entry step and the kernel's wasm: the session steps on from there by itself
      const kernel = (f: Frame | undefined) => f !== undefined && /extism:kernel\/|\$extism:host\/env\./.test(f.name);
      const skipped = (f: Frame) => (f.presentationHint ?? f.source?.presentationHint) === 'deemphasize';
      if (!top || top.source?.name?.endsWith('extism-plugin-entry.js') || kernel(top) || kernel(stackFrames[1]) || (stop.reason === 'step' && skipped(top))) return undefined;
      return until(stackFrames) ? { ...stop, frames: stackFrames } : undefined;
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
    const spansBefore = Math.max(0, ...(await getApi()).spans().map((sp) => sp.id));
    const t0 = Date.now();
    let settled: Ended | undefined;
    const ended = ending(cmd<string>('extismIpc.debugCall', runId, 'run', ''));
    void ended.then((e) => (settled = e));
    const first = await wasmStop('run');
    const attachMs = Date.now() - t0;
    console.log(`  first stop after ${attachMs} ms: ${describe(first.frames)}`);
    assert.equal(settled, undefined, 'the call waits in the debugger');
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
    assert.match(await outputOf(ended), /^\{"count":3,"total":\d+,"vowels":"aeiouAEIOU"\}$/);
    await waitFor('the session to end with the call', () => terminated.includes(session.name), 20_000);
    assert.equal(await accepts('127.0.0.1', port), false, 'the inspector closes with the call');
    // the trace panel shows the debugged call like any other: run's span, count_vowels' under it
    const api = await getApi();
    await showPanel(api);
    const traced = await waitFor('the debugged call in the panel', () => {
      const spans = [...postedSpans(api).values()].filter((sp) => sp.id > spansBefore && sp.status === 'ok');
      const top = spans.find((sp) => sp.calleeName === 'run' && sp.func === 'run');
      const nested = top && spans.find((sp) => sp.parentId === top.id && sp.func === 'count_vowels');
      return top && nested ? { top, nested } : undefined;
    }, 15_000);
    assert.ok(traced.top.durationMs > 0);
  });

  test('a pause longer than callTimeoutMs does not fail the call', async () => {
    await vscode.workspace.getConfiguration('extismIpc').update('limits.callTimeoutMs', 300, vscode.ConfigurationTarget.Global);
    await waitFor('the time limit to apply', async () => (await getApi()).testing?.policy().callTimeoutMs === 300);
    stops.length = 0;
    const ended = ending(cmd<string>('extismIpc.debugCall', runId, 'run', ''));
    const first = await wasmStop('run');
    await sleep(1500);
    await resume(first);
    const second = await wasmStop('count_vowels');
    await sleep(800);
    await resume(second);
    assert.match(await outputOf(ended), /"count":3/);
    await vscode.workspace.getConfiguration('extismIpc').update('limits.callTimeoutMs', undefined, vscode.ConfigurationTarget.Global);
  });

  test('stopping the session fails the call cleanly, and the next ordinary call works', async () => {
    stops.length = 0;
    const ended = ending(cmd<string>('extismIpc.debugCall', runId, 'run', ''));
    const first = await wasmStop('run');
    await vscode.debug.stopDebugging(first.session.parentSession ?? first.session);
    const e = await ended;
    assert.ok('error' in e && e.error instanceof Error, `the call failed: ${JSON.stringify(e)}`);
    assert.match(e.error.message, /debug session ended: the call was stopped/);
    const again = await cmd<string>('extismIpc.callPlugin', runId, 'run', '');
    assert.match(again, /"count":3/);
  });

  /**
   * From the first stop in a debugged call: Step Over its instructions, Step Into those that match
   * `into` (a call of its own function on the way), up to its call of call_plugin (read from its
   * disassembly), then Step Into that. The stop after it (in a frame `until` accepts), and the steps.
   */
  async function stepIntoTheHostCall(
    call: [target: unknown, func: string, input: string | Uint8Array],
    until: (frames: Frame[]) => boolean,
    into = /^$/,
  ): Promise<{ at: { session: vscode.DebugSession; threadId: number; frames: Frame[] }; walked: string[]; ended: Promise<Ended> }> {
    stops.length = 0;
    const ended = ending(cmd<string>('extismIpc.debugCall', ...call));
    let at = await wasmStop(call[1]);
    const texts = new Map<number, string[]>();
    const lineOf = async (frame: Frame): Promise<string> => {
      const ref = frame.source?.sourceReference ?? 0;
      if (!texts.has(ref)) {
        const { content } = (await at.session.customRequest('source', { source: frame.source, sourceReference: ref })) as { content: string };
        texts.set(ref, content.split('\n'));
      }
      return texts.get(ref)![frame.line - 1] ?? '';
    };
    const walked: string[] = [];
    for (let i = 0; i < 100; i++) {
      const line = await lineOf(at.frames[0]);
      walked.push(`${at.frames[0].name}:${at.frames[0].line} ${line.trim()}`);
      const hostCall = /call \$(env\.)?call_plugin\b/.test(line);
      stops.length = 0;
      await at.session.customRequest(hostCall || into.test(line) ? 'stepIn' : 'next', { threadId: at.threadId });
      at = await wasmStop(`the step after ${walked.join(' | ')}`, hostCall ? until : undefined);
      if (hostCall) break;
    }
    console.log(`  stepped ${walked.length} times, the last: ${walked.slice(-2).join(' | ')}; then at ${describe(at.frames.slice(0, 3))}`);
    assert.match(walked[walked.length - 1], /call_plugin/, `reached the call of call_plugin: ${walked.join(' | ')}`);
    return { at, walked, ended };
  }

  const inCountVowels = (frames: Frame[]) => /count_vowels/.test(frames[0].name);

  test('Step Into on the host call lands in the callee; the runtime\'s JavaScript and the kernel are skipped', async () => {
    const { at, ended } = await stepIntoTheHostCall([runId, 'run', ''], inCountVowels);
    assert.match(at.frames[0].name, /count_vowels/, `Step Into landed in the callee: ${describe(at.frames)}`);
    assert.ok(at.frames.slice(1).some((f) => /run/.test(f.name)), `the caller below: ${describe(at.frames)}`);
    // between them, the runtime's own JavaScript: there, but skipped
    const runtimeFrames = at.frames.filter((f) => f.source?.path?.includes(`${path.sep}dist${path.sep}`));
    assert.ok(runtimeFrames.length > 0, `the runtime's frames are on the stack: ${describe(at.frames)}`);
    for (const f of runtimeFrames) assert.equal(f.presentationHint ?? f.source?.presentationHint, 'deemphasize', `skipped: ${JSON.stringify(f)}`);
    // Continue: the call ends (the step cut short in run by the callee's entry does not stop it again)
    await resume(at);
    assert.match(await outputOf(ended), /"count":3/);
  });

  test('with breakOnPluginEntry off, Continue does not pause in the callee, and Step Into on the host call still lands in it', async () => {
    await vscode.workspace.getConfiguration('extismIpc').update('debug.breakOnPluginEntry', false, vscode.ConfigurationTarget.Global);
    try {
      const { at, ended } = await stepIntoTheHostCall([runId, 'run', ''], inCountVowels);
      assert.match(at.frames[0].name, /count_vowels/, `Step Into landed in the callee: ${describe(at.frames)}`);
      await resume(at);
      assert.match(await outputOf(ended), /"count":3/, 'the call ends after one Continue');
      // a plain Continue from the first stop: no pause in the callee
      stops.length = 0;
      const again = ending(cmd<string>('extismIpc.debugCall', runId, 'run', ''));
      const first = await wasmStop('run');
      await resume(first);
      assert.match(await outputOf(again), /"count":3/);
      assert.ok(!stops.some((st) => st.reason !== 'pause'), `no stop in the callee: ${JSON.stringify(stops.map((st) => st.reason))}`);
    } finally {
      await vscode.workspace.getConfiguration('extismIpc').update('debug.breakOnPluginEntry', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  // merged where V8 has multi-memory (its DWARF kept), and with a kernel of its own: a plugin with a
  // linked module keeps its kernel apart
  for (const kernel of ['merged in', 'of its own'] as const) {
    test(`a C plugin with DWARF, its kernel ${kernel}: Step Into on its host call lands in the callee`, async () => {
      const build = path.join(REPO, 'test', 'fixtures', 'c', 'build');
      assert.ok(fs.existsSync(path.join(build, 'caller.wasm')), `${build}: npm run build builds the C plugins`);
      let target: string | vscode.Uri = path.join(build, 'caller.wasm');
      if (kernel === 'of its own') {
        const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-debug-')), 'caller_linked.json');
        fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(REPO, 'plugins', 'math_lib.wasm'), name: 'math' }, { path: path.join(build, 'caller.wasm'), name: 'main' }] }));
        target = vscode.Uri.file(manifest);
      }
      const caller = await cmd<number>('extismIpc.registerPlugin', target);
      const echo = await cmd<number>('extismIpc.registerPlugin', 'echo');
      const input = Buffer.alloc(12);
      input.writeBigUInt64LE(BigInt(echo), 0);
      input.write('echo', 8, 'latin1');
      const inEcho = (frames: Frame[]) => /echo/.test(frames[0].name);
      const { at, ended } = await stepIntoTheHostCall([caller, 'relay', new Uint8Array(input)], inEcho, /call \$forward\b/);
      assert.match(at.frames[0].name, /echo/, `Step Into landed in the callee: ${describe(at.frames)}`);
      assert.ok(at.frames.slice(1).some((f) => /forward/.test(f.name)), `the caller's function below: ${describe(at.frames)}`);
      await resume(at);
      assert.equal(await outputOf(ended), 'x');
    });
  }

  test('debugCall registers a name or a path, takes bytes, gives UTF-8, rejects with the call\'s error; DWARF offered once, or the PDK\'s flag named', async () => {
    const api = await getApi();
    // the person presses Continue at every pause
    const going = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      createDebugAdapterTracker: (session) => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { threadId?: number } }) => {
          if (m.type === 'event' && m.event === 'stopped' && m.body?.threadId !== undefined) void Promise.resolve(session.customRequest('continue', { threadId: m.body.threadId })).catch(() => undefined);
        },
      }),
    });
    const callee = path.join(REPO, 'test', 'fixtures', 'c', 'build', 'callee.wasm');
    assert.ok(fs.existsSync(callee), `${callee}: npm run build builds it`);
    if (canAct()) await clearNotifications();
    const before = hooks(api).notifications.length;
    const shownSince = () => hooks(api).notifications.slice(before);
    try {
      // a plugin name is registered first; bytes in, the output as UTF-8
      assert.equal(await cmd('extismIpc.debugCall', 'echo', 'echo', new TextEncoder().encode('héllo ✓')), 'héllo ✓');
      assert.ok(api.plugins().some((p) => p.name === 'echo'), 'echo registered');
      await waitFor('the no-DWARF note', () => shownSince().some((n) => /echo has no DWARF debug info/.test(n)));
      assert.match(shownSince().find((n) => /echo has no DWARF/.test(n))!, /so the debugger shows its disassembly\. Build it with its compiler's debug-info flag/);
      // a path; a module with DWARF, whose call fails: the call's own error
      const ended = await ending(cmd<string>('extismIpc.debugCall', callee, 'boom', 'short'));
      assert.ok('error' in ended && ended.error instanceof Error, `the trap rejects: ${JSON.stringify(ended)}`);
      assert.match(ended.error.message, /unreachable/i);
      assert.equal(await cmd('extismIpc.debugCall', callee, 'boom', 'long enough input'), 'ok');
      await waitFor('the DWARF offer', () => shownSince().some((n) => /callee has DWARF debug info/.test(n)));
      await sleep(500);
      assert.equal(shownSince().filter((n) => /callee has DWARF debug info/.test(n)).length, 1, `offered once: ${JSON.stringify(shownSince())}`);
      assert.equal(shownSince().filter((n) => /has no DWARF/.test(n)).length, 1, 'the note once too');
      assert.match(shownSince().find((n) => /callee has DWARF/.test(n))!, /WebAssembly DWARF Debugging extension/);
      if (canAct()) {
        const [offer] = await waitForScreen('the offer on screen', notifications, (n) => n.some((x) => /callee has DWARF/.test(x.message)));
        console.log(`  on screen: ${JSON.stringify(offer)}`);
        const shown = (await notifications()).find((x) => /callee has DWARF/.test(x.message))!;
        assert.deepEqual(shown.buttons, ['Show the DWARF Extension']);
        await clickNotificationButton(/callee has DWARF/, 'Show the DWARF Extension');
        const search = await waitForScreen('the Extensions view searching for it', () => texts('.extensions-viewlet .suggest-input-container'), (t) => t.some((x) => x.includes('ms-vscode.wasm-dwarf-debugging')), 15_000);
        console.log(`  the Extensions view: ${JSON.stringify(search)}`);
      }
    } finally {
      going.dispose();
      if (canAct()) await clearNotifications();
    }
  });
});
