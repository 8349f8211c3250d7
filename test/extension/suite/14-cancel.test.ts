// Cancel stops one call, not the runtime; Restart Plugin Runtime asks first. Driven as a person
// does: the palette, the progress notification's Cancel, the modal dialog's buttons.
import * as assert from 'node:assert/strict';
import { cmd, hooks, reset, setSetting, sleep, waitFor } from './helpers';
import {
  canAct, clearNotifications, clickNotificationButton, notifications, palette, pickItem, pickerTitled, pressKey, quickPick, settled, typeInQuickPick, waitForScreen,
} from './workbench';

suite('cancel one call; restart asks first', function () {
  this.timeout(120_000);

  suiteSetup(function () {
    if (!canAct()) this.skip(); // the runner of run.sh performs the clicks
  });

  teardown(async () => {
    await setSetting('limits.callTimeoutMs', undefined);
    await clearNotifications();
  });

  test('Cancel on the progress of a looping call stops it alone: the other plugin keeps its state', async () => {
    const api = await reset();
    await clearNotifications();
    await setSetting('limits.callTimeoutMs', 600_000);
    await waitFor('a long time limit', () => hooks(api).policy().callTimeoutMs === 600_000);
    const counter = await cmd<number>('extismIpc.registerPlugin', 'config_counter');
    assert.equal(await cmd('extismIpc.callPlugin', counter, 'count', ''), 'counter=1');
    const loop = await cmd<number>('extismIpc.registerPlugin', 'loop');
    await waitFor('both plugins', () => api.plugins().length === 2);
    await sleep(300); // extismIpc.hasPlugins shows the command in the palette

    await palette('Extism: Call Plugin…');
    await pickerTitled('Extism: Call Plugin');
    await typeInQuickPick('loop');
    await waitForScreen('loop alone', quickPick, (q) => q?.items.length === 1 && q.items[0].label.includes('loop'));
    await pressKey('Enter');
    await pickerTitled(`Extism: Call #${loop} loop`);
    await typeInQuickPick('spin');
    await waitForScreen('the export "spin" alone', quickPick, (q) => q?.items.length === 1 && q.items[0].label === 'spin');
    await pressKey('Enter');
    await pickerTitled(`Extism: input for #${loop} loop.spin`);
    await pickItem('Empty input', 'Empty');

    const progress = await waitForScreen('the progress notification', notifications, (n) => n.some((x) => /calling #\d+ loop\.spin/.test(x.message)));
    const note = progress.find((x) => /calling #\d+ loop\.spin/.test(x.message));
    assert.ok(note);
    assert.doesNotMatch(note.message, /restart/i, 'Cancel no longer restarts the runtime');
    assert.ok(note.buttons.includes('Cancel'), JSON.stringify(note));
    await sleep(300);
    const t0 = Date.now();
    await clickNotificationButton(/calling #\d+ loop\.spin/, 'Cancel');

    await waitFor('the spin span ended', () => api.spans().some((s) => s.func === 'spin' && s.status === 'error'));
    const took = Date.now() - t0;
    const span = api.spans().find((s) => s.func === 'spin');
    assert.match(span?.error ?? '', /^call to plugin #\d+ \(loop\)\.spin was cancelled$/);
    assert.deepEqual(api.plugins().map((p) => p.name), ['config_counter', 'loop'], 'every plugin is still live');
    assert.equal(await cmd('extismIpc.callPlugin', counter, 'count', ''), 'counter=2', 'the other plugin kept its vars');
    assert.equal(await cmd('extismIpc.callPlugin', loop, 'ok', ''), 'ok', 'the cancelled plugin serves again');
    const after = await settled();
    assert.deepEqual(after.notes.filter((n) => n.severity === 'error'), [], 'a cancel is not a failure');
    assert.deepEqual(after.dialogs, []);
    console.log(`cancel to span end, as the test sees it: ${took} ms`);
  });

  test('Restart Plugin Runtime from the palette asks first, naming how many plugins go; from code it does not', async () => {
    const api = await reset();
    await cmd<number>('extismIpc.registerPlugin', 'echo');
    const last = await cmd<number>('extismIpc.registerPlugin', 'loop');
    await waitFor('both plugins', () => api.plugins().length === 2);
    await sleep(300);

    // the smoke-test driver that run.sh needs refuses modal dialogs (they answer as if dismissed):
    // the question is read where every notification's text is kept, and dismissing keeps every plugin
    const shown = hooks(api).notifications;
    const before = shown.length;
    await palette('Extism: Restart Plugin Runtime');
    await waitFor('the confirmation', () => shown.slice(before).includes('Restart the plugin runtime? 2 plugins will be unloaded.'));
    assert.ok(shown.slice(before).some((t) => /Cancel on its progress notification/.test(t)), JSON.stringify(shown.slice(before)));
    await sleep(500);
    assert.equal(api.plugins().length, 2, 'an unanswered confirmation restarts nothing');

    const records: string[] = [];
    const sub = api.onDidRecord((r) => {
      if (r.kind === 'restart') records.push(r.reason ?? '');
    });
    try {
      await cmd('extismIpc.restartRuntime', { confirm: false });
      await waitFor('every plugin unloaded', () => api.plugins().length === 0);
      await waitFor('the restart in the trace', () => records.length === 1);
    } finally {
      sub.dispose();
    }
    assert.equal(records[0], 'restarted; 2 plugins unloaded');
    const id = await cmd<number>('extismIpc.registerPlugin', 'echo');
    assert.ok(id > last, `id ${id} after ${last}: ids go on`);
  });
});
