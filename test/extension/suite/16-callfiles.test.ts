import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CallOutcome } from '../../../src/core';
import { closeEditors, cmd, hooks, reset, waitFor } from './helpers';

function folderUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test window has a folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

function childrenOf(item: vscode.TestItem): vscode.TestItem[] {
  const list: vscode.TestItem[] = [];
  item.children.forEach((c) => list.push(c));
  return list;
}

suite('call files as a test framework', () => {
  test('one bad call: a diagnostic at its place and an errored test item; the other calls keep their lenses and still run', async () => {
    const api = await reset();
    const uri = folderUri('mixed.extism-calls.json');
    const text = JSON.stringify({
      calls: [
        { name: 'good one', plugin: 'echo', function: 'echo', input: 'a', expect: { output: 'a' } },
        { name: 'bad one', plugin: 'echo', function: 'echo', expect: { output: 42 } },
        { name: 'good two', plugin: 'count_vowels', function: 'count_vowels', input: 'aei', expect: { json: { count: 3 } } },
      ],
    }, null, 2);
    fs.writeFileSync(uri.fsPath, text);
    try {
      const tests = hooks(api).callTests;
      const file = await waitFor('the call file in the Test Explorer', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 3 ? item : undefined;
      }, 15_000);
      const bad = childrenOf(file).find((c) => c.label === 'bad one');
      assert.ok(bad?.error, 'the bad call is an item with its error');
      assert.equal(file.error, undefined, 'the file itself is fine');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lenses = await cmd<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      assert.equal(lenses.length, 13, 'Run All, and Call, Call with Trace, Debug and Profile above each of the three calls');
      assert.equal(lenses[0].command?.title, '$(run-all) Run All');
      const diagnostics = await waitFor('a diagnostic', () => {
        // the JSON schema may report the same field too: ours are the ones from extism-calls
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'extism-calls');
        return d.length ? d : undefined;
      });
      assert.equal(diagnostics.length, 1);
      assert.match(diagnostics[0].message, /calls\[1\]\.expect\.output must be a string/);
      const badLine = text.split('\n').findIndex((l) => l.includes('42'));
      assert.equal(diagnostics[0].range.start.line, badLine, 'at the field');
      const reports: CallOutcome[] = [];
      const sub = tests.onDidReport(({ outcome }) => reports.push(outcome));
      try {
        const first = lenses[0].command!;
        assert.equal(await cmd(first.command, ...(first.arguments ?? [])), false, 'Run All runs the file: one call failed');
      } finally {
        sub.dispose();
      }
      assert.deepEqual(reports.map((o) => `${o.call.name}: ${o.passed}${o.invalid ? ' (errored)' : ''}`), ['good one: true', 'bad one: false (errored)', 'good two: true']);
      const notJson = folderUri('broken.extism-calls.json');
      fs.writeFileSync(notJson.fsPath, '{ "calls": [');
      try {
        const broken = await waitFor('the broken file', () => tests.items.get(notJson.toString())?.error);
        assert.match(typeof broken === 'string' ? broken : broken.value, /is not valid JSON/);
      } finally {
        fs.rmSync(notJson.fsPath, { force: true });
      }
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
      await closeEditors();
    }
  });

  test('groups are a tree in the Test Explorer, each run on fresh plugins', async () => {
    const api = await reset();
    const uri = folderUri('groups.extism-calls.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({
      calls: [{ name: 'top', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } }],
      groups: [
        { name: 'alpha', calls: [{ name: 'a1', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } }, { name: 'a2', plugin: 'config_counter', function: 'count', expect: { output: 'counter=2' } }] },
        { name: 'beta', calls: [{ name: 'b1', plugin: 'config_counter', function: 'count', expect: { output: 'counter=1' } }] },
      ],
    }, null, 2));
    try {
      const tests = hooks(api).callTests;
      const file = await waitFor('the call file', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 3 ? item : undefined;
      }, 15_000);
      const tree = childrenOf(file).map((c) => `${c.label}${c.children.size ? ` [${childrenOf(c).map((g) => g.label).join(', ')}]` : ''}`).sort();
      assert.deepEqual(tree, ['alpha [a1, a2]', 'beta [b1]', 'top']);
      const reports: CallOutcome[] = [];
      const sub = tests.onDidReport(({ outcome }) => reports.push(outcome));
      try {
        assert.equal(await tests.runFile(uri), true);
      } finally {
        sub.dispose();
      }
      assert.deepEqual(reports.map((o) => `${o.call.name}: ${o.passed}`), ['top: true', 'a1: true', 'a2: true', 'b1: true']);
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
    }
  });

  test('a snapshot that differs fails with the diff; Update Snapshot writes the new one and the test passes', async () => {
    const api = await reset();
    const uri = folderUri('snap.extism-calls.json');
    const snap = folderUri('snap.extism-calls.snap.json');
    fs.writeFileSync(uri.fsPath, JSON.stringify({ calls: [{ name: 'echoed', plugin: 'echo', function: 'echo', input: 'new\ntext', expect: { snapshot: true } }] }));
    fs.writeFileSync(snap.fsPath, JSON.stringify({ echoed: { output: 'old\ntext' } }));
    try {
      const tests = hooks(api).callTests;
      const file = await waitFor('the call file', () => {
        const item = tests.items.get(uri.toString());
        return item && item.children.size === 1 ? item : undefined;
      }, 15_000);
      const reports: CallOutcome[] = [];
      const sub = tests.onDidReport(({ outcome }) => reports.push(outcome));
      try {
        assert.equal(await tests.runFile(uri), false);
        assert.equal(reports[0].passed, false);
        assert.match(reports[0].reason ?? '', /the output differs from its snapshot/);
        assert.equal(reports[0].checks[0].snapshot, true, 'its message offers Update Snapshot');
        assert.equal(reports[0].checks[0].diff, '- old\n+ new\n  text');
        const item = childrenOf(file)[0];
        assert.equal(await cmd('extismIpc.updateSnapshot', { test: item }), true);
        assert.deepEqual(reports[1].notes, ['snapshot updated']);
        assert.deepEqual(JSON.parse(fs.readFileSync(snap.fsPath, 'utf8')), { echoed: { output: 'new\ntext' } });
        assert.equal(await tests.runFile(uri), true);
      } finally {
        sub.dispose();
      }
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
      fs.rmSync(snap.fsPath, { force: true });
    }
  });

  test('completion offers plugin names in "plugin" and the plugin\'s own exports in "function"', async () => {
    await reset();
    const uri = folderUri('complete.extism-calls.json');
    const text = '{\n  "calls": [\n    { "plugin": "cou", "function": "" }\n  ]\n}\n';
    fs.writeFileSync(uri.fsPath, text);
    try {
      const document = await vscode.workspace.openTextDocument(uri);
      const line = 2;
      const pluginAt = new vscode.Position(line, document.lineAt(line).text.indexOf('"cou"') + 4);
      const plugins = await cmd<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, pluginAt);
      const names = plugins.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      assert.ok(names.includes('count_vowels'), names.join(', '));
      assert.ok(names.includes('kv_counter'));
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, new vscode.Range(line, 0, line, document.lineAt(line).text.length), '    { "plugin": "count_vowels", "function": "" }');
      await vscode.workspace.applyEdit(edit);
      const funcAt = new vscode.Position(line, document.lineAt(line).text.lastIndexOf('""') + 1);
      const funcs = await cmd<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, funcAt);
      const exports = funcs.items.filter((i) => i.kind === vscode.CompletionItemKind.Function).map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      assert.deepEqual(exports, ['count_vowels']);
    } finally {
      await closeEditors();
      fs.rmSync(uri.fsPath, { force: true });
    }
  });
});
