import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeEditors, cmd, reset, waitFor } from './helpers';

suite('output and export', () => {
  test('Call Plugin opens text output in an editor, binary output as a hex dump', async () => {
    await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'echo');
    const text = await cmd<string>('extismIpc.callPlugin', id, 'echo', 'héllo', { showOutput: true });
    assert.equal(text, 'héllo');
    await waitFor('the text editor', () => vscode.window.activeTextEditor?.document.getText() === 'héllo');
    const bytes = new Uint8Array([0, 1, 2, 0xff, 0x41]);
    const decoded = await cmd<string>('extismIpc.callPlugin', id, 'echo', bytes, { showOutput: true });
    assert.equal(decoded, new TextDecoder().decode(bytes));
    const dump = await waitFor('the hex editor', () => {
      const t = vscode.window.activeTextEditor?.document.getText();
      return t?.startsWith('00000000') ? t : undefined;
    });
    assert.match(dump, /^00000000 {2}00 01 02 ff 41 +\.\.\.\.A$/);
    assert.equal(await cmd('extismIpc.callPlugin', id, 'length', 'four'), '4');
    await closeEditors();
  });

  test('Export Trace writes Chrome Trace JSON; Clear Trace empties it', async () => {
    const api = await reset();
    const id = await cmd<number>('extismIpc.registerPlugin', 'relay');
    assert.equal(await cmd('extismIpc.callPlugin', id, 'relay', 'ping'), 'ping');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'extism-trace-')), 'trace.json');
    const uri = await cmd<vscode.Uri>('extismIpc.exportTrace', file);
    assert.equal(uri.fsPath, file);
    const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: { name: string; ph: string; args?: { caller?: string } }[] };
    const calls = trace.traceEvents.filter((e) => e.ph === 'X').map((e) => `${e.args?.caller} -> ${e.name}`);
    assert.deepEqual(calls.sort(), ['#' + id + ' relay -> echo.echo', 'command -> relay.relay'].sort());
    assert.ok(trace.traceEvents.some((e) => e.ph === 'i' && e.name.startsWith('spawn')));
    await cmd('extismIpc.clearTrace');
    assert.equal(api.spans().length, 0);
  });
});
