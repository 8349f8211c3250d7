import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { SEED_OUTPUT, cmd, getApi, hooks, nextMessage, postedSpans, showPanel, treeShape, waitFor } from './helpers';

suite('the seed scenario: run spawns and calls count_vowels', () => {
  test('Register Plugin + Call Plugin give the seed output, the process tree and the spans', async () => {
    const api = await getApi();
    await showPanel(api);
    const id = await cmd<number>('extismIpc.registerPlugin', 'run');
    assert.equal(id, 1, 'the first plugin of the session is #1');
    const output = await cmd<string>('extismIpc.callPlugin', id, 'run', '');
    assert.equal(output, SEED_OUTPUT);

    // The tree: #1 run with #2 count_vowels under it, then run's export.
    const shape = await waitFor('the tree to show the spawned child', () => {
      const s = treeShape(api);
      return s.length === 1 && s[0].children.length === 2 && s[0].description === '1 call' ? s : undefined;
    });
    assert.equal(shape[0].label, '#1 run');
    assert.equal(shape[0].id, 'plugin:1');
    const [child, runExport] = shape[0].children;
    assert.equal(child.label, '#2 count_vowels');
    assert.equal(child.id, 'plugin:2');
    assert.equal(child.description, '1 call');
    assert.deepEqual(child.children.map((c) => c.label), ['count_vowels']);
    assert.equal(runExport.label, 'run');
    assert.equal(runExport.id, 'export:1:run');
    const tree = hooks(api).tree;
    const childNode = tree.getChildren(tree.getChildren()[0])[0];
    assert.deepEqual(tree.getParent(childNode), { kind: 'plugin', id: 1 });
    const item = tree.getTreeItem(childNode);
    assert.equal(item.contextValue, 'plugin.spawned');
    const tooltip = item.tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /count_vowels\.wasm/);
    assert.match(tooltip.value, /exports: `count_vowels`/);
    assert.match(tooltip.value, /imports: .*extism:host\/env/);

    // The spans the trace panel received, nested by caller, and what it rendered.
    await waitFor('the panel to render two spans', async () => {
      const spans = [...postedSpans(api).values()].filter((s) => s.status !== 'running');
      return spans.length >= 2 ? spans : undefined;
    });
    const spans = [...postedSpans(api).values()];
    const top = spans.find((s) => s.calleeName === 'run');
    const nested = spans.find((s) => s.calleeName === 'count_vowels');
    assert.ok(top && nested, JSON.stringify(spans));
    assert.equal(top.caller, 'command');
    assert.equal(top.func, 'run');
    assert.equal(top.status, 'ok');
    assert.equal(top.outputBytes, SEED_OUTPUT.length);
    assert.equal(nested.parentId, top.id);
    assert.equal(nested.caller, '#1 run');
    assert.equal(nested.func, 'count_vowels');
    assert.equal(nested.inputPreview, 'Hello, World!');
    assert.equal(nested.inputBytes, 13);
    assert.equal(nested.outputPreview, SEED_OUTPUT);
    assert.ok(nested.durationMs <= top.durationMs);
    const rendered = await waitFor('a render with both spans', () => {
      const last = [...hooks(api).messages.received].reverse().find((m) => m.type === 'rendered');
      return last && last.type === 'rendered' && last.spans >= 2 ? last : undefined;
    });
    assert.equal(rendered.type === 'rendered' && rendered.errors, 0);
  });

  test('the panel replays its snapshot when it is hidden and shown again', async () => {
    const api = await getApi();
    await cmd('workbench.action.closePanel');
    await waitFor('the panel to be hidden', () => !hooks(api).panel.isVisible);
    const ready = nextMessage(api, (m) => m.type === 'ready', 20_000);
    await cmd('extismIpc.showTrace');
    await ready;
    const snapshot = await waitFor('a snapshot', () => {
      const last = hooks(api).messages.posted[hooks(api).messages.posted.length - 1];
      return last?.type === 'snapshot' ? last : undefined;
    });
    const names = snapshot.records.flatMap((r) => (r.kind === 'call' ? [`${r.calleeName}.${r.func}`] : []));
    assert.deepEqual(names, ['count_vowels.count_vowels', 'run.run']);
    await waitFor('a render of the replay', () => {
      const last = [...hooks(api).messages.received].reverse().find((m) => m.type === 'rendered');
      return last?.type === 'rendered' && last.spans === 2;
    });
  });

  test('the API sees the same plugins and spans, and fires events', async () => {
    const api = await getApi();
    assert.deepEqual(api.plugins().map((p) => [p.id, p.name, p.parentId]), [[1, 'run', null], [2, 'count_vowels', 1]]);
    const changes: string[] = [];
    const records: string[] = [];
    const subs = [
      api.onDidChangePlugins((e) => changes.push(e.kind === 'reset' ? 'reset' : `${e.kind} #${e.plugin.id}`)),
      api.onDidRecord((r) => records.push(r.kind === 'call' ? `${r.status} ${r.calleeName}.${r.func}` : `${r.kind} ${r.name}`)),
    ];
    try {
      const echo = await api.register('echo');
      const out = await api.call(echo.id, 'echo', 'hi');
      assert.equal(new TextDecoder().decode(out), 'hi');
      await api.unregister(echo.id);
      await waitFor('events', () => changes.includes(`removed #${echo.id}`));
      assert.ok(changes.includes(`added #${echo.id}`));
      assert.ok(records.includes('ok echo.echo'), records.join());
      assert.ok(records.includes('spawn echo') && records.includes('unregister echo'), records.join());
      assert.ok(api.spans().some((s) => s.calleeName === 'echo' && s.caller === 'api'));
    } finally {
      subs.forEach((s) => s.dispose());
    }
  });
});
