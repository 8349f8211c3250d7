import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cmd, hooks, reset, waitFor } from './helpers';

/** An export name that would be a command link, an image fetched on hover, HTML and an icon, were it Markdown. */
const NAME = '[x](command:workbench.action.quit) ![i](http://127.0.0.1:9/x.png) `a` $(gear) <b>b</b>';
/** An error message with a command link beside the real Show Log button, an escape sequence and a bidi override. */
const MESSAGE = 'boom [Run](command:workbench.action.quit) \x1b[2J \u202eexe.txt';

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const name = (s: string): number[] => {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** A module whose one export, named `exportName`, fails with `error_set(message)`. */
function failingPlugin(exportName: string, message: string): Uint8Array {
  const I64 = 0x7e;
  const I32 = 0x7f;
  const types = vec([
    [0x60, 1, I64, 1, I64], // alloc
    [0x60, 2, I64, I32, 0], // store_u8
    [0x60, 1, I64, 0], // error_set
    [0x60, 0, 1, I32], // the export
  ]);
  const env = 'extism:host/env';
  const imports = vec([
    [...name(env), ...name('alloc'), 0x00, 0],
    [...name(env), ...name('store_u8'), 0x00, 1],
    [...name(env), ...name('error_set'), 0x00, 2],
  ]);
  const bytes = [...Buffer.from(message, 'utf8')];
  const body = [
    ...[1, 1, I64], // one i64 local: the block
    ...[0x42, ...sleb(bytes.length), 0x10, 0, 0x21, 0], // local.set 0 (alloc n)
    ...bytes.flatMap((b, i) => [0x20, 0, 0x42, ...sleb(i), 0x7c, 0x41, ...sleb(b), 0x10, 1]), // store_u8(p + i, b)
    ...[0x20, 0, 0x10, 2, 0x41, 1, 0x0b], // error_set(p); 1
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, vec([[3]])),
    ...section(7, vec([[...name(exportName), 0x00, 3]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

suite('text a plugin chose stays text', () => {
  test('the tooltip is untrusted Markdown with the name in a code span; a failed call\'s toast forms no link', async () => {
    const api = await reset();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-text-'));
    try {
      const file = path.join(dir, 'hostile_text.wasm');
      fs.writeFileSync(file, failingPlugin(NAME, MESSAGE));
      const id = await cmd<number>('extismIpc.registerPlugin', vscode.Uri.file(file));
      const tree = hooks(api).tree;
      const item = tree.getTreeItem(tree.pluginNode(id));
      const tooltip = item.tooltip;
      assert.ok(tooltip instanceof vscode.MarkdownString, 'a MarkdownString');
      assert.equal(tooltip.isTrusted, false);
      assert.equal(tooltip.supportHtml, false);
      assert.equal(tooltip.supportThemeIcons, false);
      // the name inside a code span whose fence (two backticks) no run of it can close
      assert.ok(tooltip.value.includes(`exports: \`\`${NAME}\`\``), tooltip.value);
      const outsideCode = tooltip.value.replace(`\`\`${NAME}\`\``, '');
      assert.doesNotMatch(outsideCode, /\]\(|<b>|\$\(gear\)/, tooltip.value);
      const exportNode = tree.getChildren(tree.pluginNode(id)).find((n) => n.kind === 'export');
      assert.ok(exportNode);
      assert.equal(tree.getTreeItem(exportNode).label, NAME, 'a tree label is plain text');

      // a person calls it from the tree: the call fails, and the toast says why without a link
      // from a tree node it is a person's command: one notification, and no rejection
      assert.equal(await cmd('extismIpc.callPlugin', exportNode, NAME, ''), undefined);
      const toast = await waitFor('the error toast', () => hooks(api).notifications.find((n) => n.includes('boom')));
      assert.doesNotMatch(toast, /\[[^\]]+\]\((?:https?:\/\/|command:|file:)/i, toast);
      assert.ok(toast.includes('boom [Run]\\(command:workbench.action.quit)'), toast);
      assert.ok(toast.includes('\\x1b[2J \\u{202e}exe.txt'), toast);
      assert.doesNotMatch(toast, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control or bidi character');
    } finally {
      await cmd('extismIpc.unregisterAll');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
