// A call file's Debug and Profile lenses, and Record Calls: calls made from the editor's commands
// appended to a call file that then replays green.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CallReport, ReportedResult } from '../../../src/vscode/callFileTests';
import { closeEditors, cmd, hooks, reset, sleep, waitFor } from './helpers';

function folderUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test window has a folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

suite('call file lenses and Record Calls', () => {
  test('each call has Call, Call with Trace, Debug and Profile lenses; Profile writes a .cpuprofile', async () => {
    await reset();
    const uri = folderUri('lenses.extism-calls.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({
      calls: [
        { name: 'echo it', plugin: 'echo', function: 'echo', input: 'hi', expect: { output: 'hi' } },
        { name: 'vowels', plugin: 'count_vowels', function: 'count_vowels', input: 'aei', expect: { json: { count: 3 } } },
      ],
    }, null, 2));
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lenses = await waitFor('the lenses', async () => {
        const l = await cmd<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l.length === 9 ? l : undefined;
      });
      const titles = lenses.map((l) => l.command?.title);
      assert.deepEqual(titles.filter((t) => t === '$(debug-alt) Debug').length, 2, 'a Debug lens above each call');
      assert.deepEqual(titles.filter((t) => t === '$(flame) Profile').length, 2, 'a Profile lens above each call');
      const profile = lenses.filter((l) => l.command?.title === '$(flame) Profile')[1].command!;
      const file = await cmd<string>(profile.command, ...(profile.arguments ?? []));
      assert.ok(file && file.endsWith('.cpuprofile'), `a profile file: ${file}`);
      assert.match(file, /count_vowels\.count_vowels-/, 'the second call\'s plugin and function');
      const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes?: unknown[]; samples?: unknown[] };
      assert.ok(Array.isArray(written.nodes) && written.nodes.length > 0, 'a CPU profile with nodes');
    } finally {
      await closeEditors();
      fs.rmSync(uri.fsPath, { force: true });
    }
  });

  test('Record Calls appends Call Plugin\'s and the Call lens\'s calls with their outputs; the file replays green', async () => {
    await reset();
    const recorded = folderUri('recorded-here.extism-calls.json');
    const source = folderUri('source.extism-calls.json');
    fs.rmSync(recorded.fsPath, { force: true });
    fs.writeFileSync(source.fsPath, JSON.stringify({ calls: [{ name: 'vowels', plugin: 'count_vowels', function: 'count_vowels', input: 'hello world' }] }, null, 2));
    try {
      assert.equal(await cmd('extismIpc.toggleRecordCalls', recorded.fsPath), recorded.fsPath, 'recording to the given file');
      const id = await cmd<number>('extismIpc.registerPlugin', 'echo');
      assert.equal(await cmd('extismIpc.callPlugin', id, 'echo', 'recorded input', { showOutput: false }), 'recorded input');
      assert.equal(await cmd('extismIpc.runCallFromFile', source, 0, false), true, 'the Call lens\'s call');
      assert.equal(await cmd('extismIpc.toggleRecordCalls'), undefined, 'toggled off');
      // after stopping, calls are not recorded
      await cmd('extismIpc.callPlugin', id, 'echo', 'not recorded', { showOutput: false });
      const file = JSON.parse(fs.readFileSync(recorded.fsPath, 'utf8')) as { calls: { name: string; plugin: string; function: string; input: unknown; expect: { output?: string } }[] };
      assert.equal(file.calls.length, 2, JSON.stringify(file));
      assert.deepEqual([file.calls[0].plugin, file.calls[0].function, file.calls[0].input, file.calls[0].expect.output], ['echo', 'echo', 'recorded input', 'recorded input']);
      assert.equal(file.calls[1].plugin, 'count_vowels');
      assert.match(file.calls[1].expect.output ?? '', /"count":\s*3/);
      // the recorded file as tests: every call passes against what it gave
      const passed = await cmd<boolean | undefined>('extismIpc.runCallFile', recorded);
      assert.equal(passed, true, 'the recorded file replays green');
      // a file whose expect is changed fails: the replay judges
      file.calls[0].expect.output = 'something else';
      fs.writeFileSync(recorded.fsPath, JSON.stringify(file, null, 2));
      assert.equal(await cmd('extismIpc.runCallFile', recorded), false, 'a changed expect fails');
    } finally {
      await closeEditors();
      fs.rmSync(recorded.fsPath, { force: true });
      fs.rmSync(source.fsPath, { force: true });
    }
  });

  test('the Debug lens debugs the call to its output; the Test Explorer\'s Debug profile judges each call\'s expects as Run does', async function () {
    this.timeout(180_000);
    const api = await reset();
    // a debug session that an earlier test left ending would end this one's call
    await vscode.debug.stopDebugging();
    await sleep(1500);
    const uri = folderUri('debug-lens.extism-calls.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({
      calls: [
        { name: 'echo it', plugin: 'echo', function: 'echo', input: 'debugged', expect: { output: 'debugged' } },
        { name: 'no such export', plugin: 'echo', function: 'nope', input: 'x', expect: { output: 'x' } },
        { name: 'wrong output', plugin: 'echo', function: 'echo', input: 'given', expect: [{ name: 'says hello', output: 'hello' }, { contains: 'giv' }] },
        { name: 'json fields', plugin: 'count_vowels', function: 'count_vowels', input: 'aei', expect: { json: { count: 3 } } },
        { name: 'fails as expected', plugin: 'echo', function: 'nope', input: 'x', expect: { error: 'nope' } },
      ],
    }, null, 2));
    // whenever a debugged call stops (at its export's entry), it goes on: the test is the person pressing Continue
    const stopped: string[] = [];
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      createDebugAdapterTracker: (session) => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { threadId?: number; reason?: string } }) => {
          if (m.type !== 'event' || m.event !== 'stopped' || m.body?.threadId === undefined) return;
          stopped.push(`${(session.parentSession ?? session).name}: ${m.body.reason ?? ''}`);
          void Promise.resolve(session.customRequest('continue', { threadId: m.body.threadId })).catch(() => undefined);
        },
      }),
    });
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lenses = await waitFor('the lenses', async () => {
        const l = await cmd<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return l.length === 21 ? l : undefined;
      });
      const debug = lenses.find((l) => l.command?.title === '$(debug-alt) Debug')!.command!;
      assert.equal(await cmd(debug.command, ...(debug.arguments ?? []), false), 'debugged', 'the debugged call\'s output');
      assert.ok(stopped.length > 0, 'the call stopped in the debugger');
      const tests = hooks(api).callTests;
      const file = await waitFor('the call file\'s tests', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 5 ? item : undefined;
      }, 15_000);
      const reports: CallReport[] = [];
      const source = new vscode.CancellationTokenSource();
      const sub = tests.onDidReport((r) => reports.push(r));
      try {
        assert.equal(await tests.runFile(uri), false, 'Run: two calls fail');
        stopped.length = 0;
        assert.equal(await tests.debugRun(new vscode.TestRunRequest([file]), source.token), false, 'Debug: the same two fail');
      } finally {
        sub.dispose();
        source.dispose();
      }
      const ran = reports.filter((r) => !r.debugged);
      const debugged = reports.filter((r) => r.debugged);
      assert.deepEqual(debugged.map((r) => `${r.item.label}: ${r.result.state}`), ['echo it: passed', 'no such export: failed', 'wrong output: failed', 'json fields: passed', 'fails as expected: passed']);
      // every debugged call stopped in the debugger on its way (the failing export before it runs: not)
      for (const name of ['echo it', 'wrong output', 'json fields']) assert.ok(stopped.some((s) => s.includes(`${name}: #`)), `${name} was debugged: ${stopped.join(', ')}`);
      // the expectation's own message, at the same place, as Run reports it
      const wrong = debugged[2].result.messages;
      assert.equal(wrong.length, 1, 'one failed expect, one message');
      assert.equal(wrong[0].message, 'says hello: the output differs');
      assert.deepEqual([wrong[0].expectedOutput, wrong[0].actualOutput], ['hello', 'given']);
      assert.equal(wrong[0].location?.uri.toString(), uri.toString());
      assert.match(String(debugged[1].result.messages[0].message), /nope/);
      assert.deepEqual(debugged.map((r) => shown(r.result)), ran.map((r) => shown(r.result)), 'Debug reports what Run reports');
    } finally {
      tracker.dispose();
      await closeEditors();
      fs.rmSync(uri.fsPath, { force: true });
    }
  });

  test('cancelling a Debug run ends the session of the call under way, and debugs no more: those calls are skipped', async function () {
    this.timeout(120_000);
    const api = await reset();
    await vscode.debug.stopDebugging();
    await sleep(1500);
    const uri = folderUri('debug-cancel.extism-calls.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({
      calls: [
        { name: 'first', plugin: 'echo', function: 'echo', input: 'a', expect: { output: 'a' } },
        { name: 'second', plugin: 'echo', function: 'echo', input: 'b', expect: { output: 'b' } },
      ],
    }, null, 2));
    const source = new vscode.CancellationTokenSource();
    const started: string[] = [];
    const starts = vscode.debug.onDidStartDebugSession((s) => started.push(s.name));
    // the person cancels the run while its first call waits in the debugger
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('*', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string }) => {
          if (m.type === 'event' && m.event === 'stopped') source.cancel();
        },
      }),
    });
    const tests = hooks(api).callTests;
    const reports: CallReport[] = [];
    const sub = tests.onDidReport((r) => reports.push(r));
    try {
      const file = await waitFor('the call file\'s tests', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 2 ? item : undefined;
      }, 15_000);
      assert.equal(await tests.debugRun(new vscode.TestRunRequest([file]), source.token), false);
      assert.deepEqual(reports.map((r) => `${r.item.label}: ${r.result.state}`), ['first: skipped', 'second: skipped']);
      assert.match(reports[0].outcome.error ?? '', /debug session ended: the call was stopped/);
      assert.deepEqual(started.filter((n) => /^Extism: debug/.test(n)), ['Extism: debug first: #1 echo.echo'], 'one session: the second call was not debugged');
    } finally {
      sub.dispose();
      starts.dispose();
      tracker.dispose();
      source.dispose();
      fs.rmSync(uri.fsPath, { force: true });
    }
  });
});

/** A reported result as comparable data: state, and each message's text, diff and place. */
function shown(result: ReportedResult): unknown {
  return {
    state: result.state,
    messages: result.messages.map((m) => ({
      message: typeof m.message === 'string' ? m.message : m.message.value,
      expected: m.expectedOutput,
      actual: m.actualOutput,
      contextValue: m.contextValue,
      at: m.location ? `${m.location.uri.toString()}:${m.location.range.start.line}:${m.location.range.start.character}` : undefined,
    })),
  };
}
