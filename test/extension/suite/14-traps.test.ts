// Inside a plugin: a trap shows at its source line in the Problems view while the plugin is live,
// and a failed call's stack in the trace panel's detail; Profile Call writes a .cpuprofile.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtismIpcApi } from '../../../src/vscode/api';
import type { CallDetail, FromWebview } from '../../../src/shared/protocol';
import { REPO, cmd, hooks, rejects, reset, showPanel, waitFor } from './helpers';

const C_DIR = path.join(REPO, 'test', 'fixtures', 'c');
const wasm = (name: string) => path.join(C_DIR, 'build', `${name}.wasm`);

function lineOf(file: string, text: string): number {
  return fs.readFileSync(path.join(C_DIR, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

function relayInput(calleeId: number, func: string): Uint8Array {
  const input = Buffer.alloc(8 + func.length);
  input.writeBigUInt64LE(BigInt(calleeId), 0);
  input.write(func, 8, 'latin1');
  return new Uint8Array(input);
}

function trapProblems(): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(vscode.Uri.file(path.join(C_DIR, 'callee.c'))).filter((d) => d.source === 'Extism');
}

function postedDetail(api: ExtismIpcApi, spanId: number): CallDetail | undefined {
  for (const m of [...hooks(api).messages.posted].reverse()) if (m.type === 'detail' && m.detail.spanId === spanId) return m.detail;
  return undefined;
}

type Rendered = Extract<FromWebview, { type: 'rendered' }>;
function lastRendered(api: ExtismIpcApi): Rendered | undefined {
  const m = [...hooks(api).messages.received].reverse().find((r) => r.type === 'rendered');
  return m?.type === 'rendered' ? m : undefined;
}

suite('inside a plugin: traps at their line, profiles', function () {
  this.timeout(60_000);

  test('a nested trap is a problem at its line while the plugin is live; the panel shows the stack', async () => {
    const api = await reset();
    const callee = await cmd<number>('extismIpc.registerPlugin', wasm('callee'));
    const caller = await cmd<number>('extismIpc.registerPlugin', wasm('caller'));
    await rejects(cmd('extismIpc.callPlugin', caller, 'relay', relayInput(callee, 'boom')), /trapped: unreachable/);

    const trapLine = lineOf('callee.c', '__builtin_trap');
    const [problem] = await waitFor('the problem at the trap', () => (trapProblems().length ? trapProblems() : undefined));
    assert.equal(problem.range.start.line, trapLine - 1);
    assert.equal(problem.severity, vscode.DiagnosticSeverity.Error);
    assert.match(problem.message, /plugin #\d+ \(callee\)\.boom trapped: unreachable at check_invariant \(.*callee\.c:\d+:5\)/);
    const related = (problem.relatedInformation ?? []).map((r) => [path.basename(r.location.uri.fsPath), r.location.range.start.line + 1, r.message]);
    assert.deepEqual(related.map((r) => r[2]).map((m) => String(m).replace(/plugin #\d+ /, '')), ['(callee): boom', '(caller): forward', '(caller): relay']);
    assert.deepEqual(related[1].slice(0, 2), ['caller.c', lineOf('caller.c', 'return call_plugin')]);

    // the failed call's detail in the panel: the stack, a frame a line, the crossing among them
    await showPanel(api);
    const failed = api.spans().find((s) => s.calleeId === caller && s.status === 'error');
    assert.ok(failed, 'the failed call is in the trace');
    hooks(api).panel.revealCall(failed.id);
    await waitFor('its detail', () => lastRendered(api)?.detail === failed.id && postedDetail(api, failed.id)?.frames, 20_000);
    const frames = postedDetail(api, failed.id)!.frames!;
    assert.deepEqual(
      frames.map((f) => f.text.replace(/ \(.*\/([^/]+)\)$/, ' ($1)')),
      [
        `check_invariant (callee.c:${trapLine}:5)`,
        `boom (callee.c:${lineOf('callee.c', 'int checked = check_invariant')}:17)`,
        `call_plugin from plugin #${caller} (caller)`,
        `forward (caller.c:${lineOf('caller.c', 'return call_plugin')}:10)`,
        `relay (caller.c:${lineOf('caller.c', 'u64 out = forward')}:13)`,
      ],
    );
    assert.deepEqual(frames.map((f) => f.crossing), [false, false, true, false, false]);

    // the problem goes with the plugin
    await cmd('extismIpc.unregisterPlugin', callee);
    await waitFor('the problem cleared', () => trapProblems().length === 0);
  });

  test('Profile Call writes a .cpuprofile whose hottest frame is the hot function', async () => {
    await reset();
    const hot = await cmd<number>('extismIpc.registerPlugin', wasm('hot'));
    const file = await cmd<string>('extismIpc.profileCall', hot, 'work', 'x', { open: false });
    assert.ok(file && file.endsWith('.cpuprofile'));
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string } }[] };
    const hottest = profile.nodes.reduce((a, b) => ((b.hitCount ?? 0) > (a.hitCount ?? 0) ? b : a));
    assert.equal(hottest.callFrame.functionName, 'spin');
    assert.equal(path.basename(hottest.callFrame.url), 'hot.c');
  });
});
