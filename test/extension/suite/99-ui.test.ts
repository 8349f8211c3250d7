// End to end through the UI itself: the command palette, our quick picks, the tree and the panel,
// with screenshots of the tree and the panel in test/screenshots/ (gitignored).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { REPO, SEED_OUTPUT, closeEditors, cmd, hooks, rejects, reset, showPanel, sleep, treeShape, waitFor } from './helpers';

const shot = require(path.join(REPO, 'test', 'extension', 'runner', 'shot.js')) as (file: string) => Promise<string | null>;
const SHOTS = path.join(REPO, 'test', 'screenshots');

/** Runs a palette command by its title, as a person would: Ctrl+Shift+P, type, Enter. */
async function palette(title: string): Promise<void> {
  await cmd('workbench.action.quickOpen', `>${title}`);
  await sleep(600);
  void cmd('workbench.action.acceptSelectedQuickOpenItem');
  await sleep(800);
}

suite('end to end through the UI', function () {
  this.timeout(120_000);

  test('palette -> Register Plugin… -> Call Plugin… -> tree and panel, with screenshots', async () => {
    const api = await reset();
    fs.mkdirSync(SHOTS, { recursive: true });
    await closeEditors();
    await cmd('workbench.action.closeAuxiliaryBar');
    await cmd('extismIpc.livePlugins.focus');
    await waitFor('the tree view', () => hooks(api).treeView.visible);

    // Register Plugin…: the bundled sample "run", the first the quick pick offers.
    await palette('Extism: Register Plugin…');
    await sleep(300);
    await shot(path.join(SHOTS, 'register-pick.png'));
    await cmd('quickInput.accept');
    const run = await waitFor('run to be registered', () => api.plugins().find((p) => p.name === 'run'));

    // Call Plugin…: the only live plugin, its only export, typed input (the default text), Enter.
    await palette('Extism: Call Plugin…');
    await cmd('quickInput.accept'); // the plugin
    await sleep(500);
    await cmd('quickInput.accept'); // "Type the input…"
    await sleep(500);
    await cmd('quickInput.accept'); // the input box: "Hello, World!"
    const editor = await waitFor('the output editor', () => {
      const e = vscode.window.activeTextEditor;
      return e?.document.uri.scheme === 'extism-output' && e.document.getText() === JSON.stringify(JSON.parse(SEED_OUTPUT), null, 2) ? e : undefined;
    });
    assert.equal(editor.document.languageId, 'json');
    assert.equal(editor.document.isDirty, false);

    // More traffic for the panel: a failing call and a three-level chain.
    const trap = await cmd<number>('extismIpc.registerPlugin', 'trap');
    await rejects(cmd('extismIpc.callPlugin', trap, 'fail', 'boom'), /deliberate failure/);
    const chain = await cmd<number>('extismIpc.registerPlugin', 'chain_a');
    assert.equal(await cmd('extismIpc.callPlugin', chain, 'step', 'x'), 'X|A|B|c');

    // The tree: run with its spawned count_vowels, expanded to show the exports.
    const shape = await waitFor('the process tree', () => {
      const s = treeShape(api);
      const r = s.find((n) => n.label === `#${run.id} run`);
      return r && r.children.some((c) => c.label === `#${run.id + 1} count_vowels`) && s.length >= 3 ? s : undefined;
    });
    assert.ok(shape.find((n) => n.label === `#${chain} chain_a`)?.children.some((c) => /chain_b/.test(c.label)));
    const tree = hooks(api).tree;
    await hooks(api).treeView.reveal(tree.pluginNode(run.id + 1), { select: true, focus: true, expand: true });
    await hooks(api).treeView.reveal(tree.pluginNode(chain + 2), { select: false, focus: false, expand: false });
    await hooks(api).treeView.reveal(tree.pluginNode(run.id + 1), { select: true, focus: true, expand: true });

    // The panel, showing every call as a tree and the chain's timeline.
    await showPanel(api);
    await waitFor('the panel to render the calls', () => {
      const last = [...hooks(api).messages.received].reverse().find((m) => m.type === 'rendered');
      return last?.type === 'rendered' && last.spans >= 6 && last.errors === 1;
    }, 20_000);
    await sleep(500);
    const treeShot = await shot(path.join(SHOTS, 'tree.png'));
    await cmd('workbench.action.toggleMaximizedPanel');
    await sleep(800);
    const panelShot = await shot(path.join(SHOTS, 'panel.png'));
    await cmd('workbench.action.toggleMaximizedPanel');
    for (const f of [treeShot, panelShot]) if (f) assert.ok(fs.statSync(f).size > 10_000, `${f} is too small`);
  });
});
