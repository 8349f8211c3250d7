// Text a plugin chose reaches each sink only through that sink's escaper: generated hostile text
// through every escaper, the CLI end to end on a plugin whose names, logs and error carry escape
// sequences, and a check of the sources that no call site writes to a sink around its escaper.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { iconLabelText, markdownCode, markdownText, notificationText, preview, terminalText, visibleText } from '../../src/core';
import { cli, root } from './helpers';
import { prng } from './hostileInput';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

// markdown-it is in package-lock.json (through @vscode/vsce); it has no types of its own here
interface Token {
  type: string;
  content: string;
  children: Token[] | null;
}
interface MarkdownIt {
  parseInline(src: string, env: object): Token[];
  render(src: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const markdownIt = require('markdown-it') as (options: object) => MarkdownIt;
// the strictest reading: raw HTML on, bare URLs and e-mail addresses linked
const md = markdownIt({ html: true, linkify: true });

/** What a plugin may put in a name or message to take a sink over. */
const PIECES = [
  '![img](http://x)', '[x](command:workbench.action.x?%5B%5D)', '[x](file:///etc/passwd "t")', '<img src=x>', '<script>alert(1)</script>',
  '$(gear)', '\\$(gear)', '$(sync~spin)', '`', '``', '```', '` `', '*', '**', '_', '~~', '#', '# h', '> q', '- ', '1. ', '|a|b|', '&lt;', '&#x41;',
  '\\', '\\`', '](', ']', '[', '(', ')', '<http://a.b>', 'http://a.b/c', 'www.a.b', 'a@b.cd', '\n', '\r\n', '\t', ' ', '  ', 'text', 'é', '😀', '👨\u200d👩\u200d👧',
  '\x1b]0;title\x07', '\x1b]52;c;aGVsbG8=\x07', '\x1b[2J', '\x1b[31m', '\x1bP', '\x1b\\', '\x07', '\x00', '\x08', '\x0b', '\x0c', '\x7f',
  '\u0085', '\u009b31m', '\u009d0;t\u009c', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200b', '\u200e', '\u200f',
  '\u2028', '\u2029', '\ufeff', '\u00ad', '\u061c', '\u{e0041}', '\u3164', '\ud800', '\udfff', '\udc00\ud800',
];

function generated(seed: number, count = 400): string[] {
  const random = prng(seed);
  const out: string[] = [...PIECES];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = 1 + Math.floor(random() * 8);
    for (let j = 0; j < n; j++) {
      s += random() < 0.8 ? PIECES[Math.floor(random() * PIECES.length)] : String.fromCharCode(Math.floor(random() * 0x10000));
    }
    out.push(s);
  }
  return out;
}

const CASES = generated(0x5eed);

/** A character no sink may show raw: written out here, not taken from the escapers' own pattern. */
function isHidden(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || code === 0xad || code === 0x61c || code === 0x180e ||
    (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e) || (code >= 0x2060 && code <= 0x2069) || code === 0xfeff ||
    (code >= 0xd800 && code <= 0xdfff) || (code >= 0xe0000 && code <= 0xe007f) || code === 0x3164
  );
}

function hidden(text: string, newlines: boolean): string[] {
  const found: string[] = [];
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    if (isHidden(code) || (!newlines && code === 0x0a)) found.push(`U+${code.toString(16)}`);
  }
  return found;
}

function inlineTokens(src: string): Token[] {
  const blocks = md.parseInline(src, {});
  assert.equal(blocks.length, 1);
  // markdown-it may leave an empty text token after a closing delimiter
  return (blocks[0].children ?? []).filter((t) => !(t.type === 'text' && t.content === ''));
}

describe('text sinks: one escaper per sink', () => {
  it('visibleText shows every control and invisible character as an escape, the same way twice', () => {
    assert.equal(visibleText('a\x1b[2Jb\u009bc\u202ed\ud800e\n\t'), 'a\\x1b[2Jb\\x9bc\\u{202e}d\\u{d800}e\\n\t');
    assert.equal(visibleText('a\nb\r\n', true), 'a\nb\\r\n');
    assert.equal(visibleText('😀 é \\x1b'), '😀 é \\x1b', 'printable text and backslashes stay as they are');
    for (const s of CASES) {
      const one = visibleText(s);
      assert.deepEqual(hidden(one, false), [], JSON.stringify(s));
      assert.equal(visibleText(one), one, 'idempotent');
      const lines = visibleText(s, true);
      assert.deepEqual(hidden(lines, true), [], JSON.stringify(s));
      assert.equal(lines.split('\n').length, s.split('\n').length, 'newlines stay where the sink has lines');
    }
  });

  it('terminalText leaves no byte that starts an escape sequence, rings the bell or moves the cursor back', () => {
    for (const s of CASES) {
      const out = terminalText(s);
      const bytes = Buffer.from(out, 'utf8');
      for (const b of bytes) assert.ok(b >= 0x20 ? b !== 0x7f : b === 0x0a || b === 0x09, `byte 0x${b.toString(16)} in ${JSON.stringify(out)}`);
      assert.deepEqual([...bytes.toString('utf8')].filter((c) => /[\u0080-\u009f]/.test(c)), [], 'no C1 control');
      if (s.includes('\x1b')) assert.ok(out.includes('\\x1b'), 'ESC is shown');
    }
  });

  it('markdownText parses as one run of text equal to the visible input: no link, image, HTML, code or emphasis', () => {
    for (const s of CASES) {
      const src = markdownText(s);
      const tokens = inlineTokens(src);
      assert.ok(tokens.every((t) => t.type === 'text'), `${JSON.stringify(s)} -> ${tokens.map((t) => t.type).join(',')}`);
      assert.equal(tokens.map((t) => t.content).join(''), visibleText(s), JSON.stringify(s));
      assert.doesNotMatch(md.render(`x ${src}`), /<(a|img|code|em|strong|s|script|h\d)\b/, JSON.stringify(s));
      assert.doesNotMatch(src, /(?<!\\)\$\(/, 'no theme icon');
    }
  });

  it('markdownCode is one code span holding the visible input, whatever backtick runs it has', () => {
    assert.equal(markdownCode('a`b'), '``a`b``');
    assert.equal(markdownCode('`'), '`` ` ``');
    assert.equal(markdownCode(''), '');
    for (const s of CASES) {
      if (!visibleText(s)) continue;
      const tokens = inlineTokens(`see ${markdownCode(s)} and ${markdownText(s)}.`);
      assert.deepEqual(tokens.map((t) => t.type), ['text', 'code_inline', 'text'], JSON.stringify(s));
      assert.equal(tokens[1].content, visibleText(s), JSON.stringify(s));
      assert.equal(tokens[2].content, ` and ${visibleText(s)}.`, JSON.stringify(s));
    }
  });

  it('notificationText forms no [label](link) that VS Code would render, and shows where one was', () => {
    assert.equal(notificationText('see [x](command:a?%5B%5D)'), 'see [x]\\(command:a?%5B%5D)');
    // VS Code's notifications link `[label](https://...)`, `(command:...)` and `(file:...)`; every such link needs a "]("
    const link = /\[[^\]]+\]\((?:https?:\/\/|command:|file:)[^)\s]+/i;
    for (const s of CASES) {
      const out = notificationText(s);
      assert.doesNotMatch(out, /\]\(/, JSON.stringify(s));
      assert.doesNotMatch(out, link);
      assert.deepEqual(hidden(out, false), [], JSON.stringify(s));
      assert.equal(notificationText(out), out, 'idempotent');
      if (!s.includes(']\\(')) assert.equal(out.replace(/\]\\\(/g, ']('), visibleText(s), 'nothing else changes');
    }
  });

  it('iconLabelText forms no $(icon)', () => {
    assert.equal(iconLabelText('$(gear) x'), '\\$(gear) x');
    for (const s of CASES) {
      const out = iconLabelText(s);
      assert.doesNotMatch(out, /(?<!\\)\$\(/, JSON.stringify(s));
      assert.deepEqual(hidden(out, false), [], JSON.stringify(s));
      assert.equal(iconLabelText(out), out, 'idempotent');
    }
  });

  it('a preview shows bidi and C1 characters as escapes', () => {
    const bytes = Buffer.from('abc\u202edef\u009b1m\tx');
    assert.equal(preview(bytes, bytes.length), 'abc\\u{202e}def\\x9b1m\\tx');
  });
});

/** Bytes of a WAT string literal. */
function watString(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
}

const EXPORT = 'run\x1b]0;retitled\x07\u202e';
const LOG_INFO = 'clip \x1b]52;c;aGVsbG8=\x07 clear \x1b[2J';
const LOG_WARN = 'c1 \u009b31m bidi \u202egnp.exe\nforged [info] line';
const ERROR = 'boom \x1b]0;t\x07 [x](command:workbench.action.x?%5B%5D) \u007f\r';

/** A plugin whose export name, logs and error carry escape sequences, C1, bidi and a command link. */
async function hostilePlugin(): Promise<string> {
  const strings = [LOG_INFO, LOG_WARN, ERROR];
  let offset = 0;
  const data = strings.map((s) => {
    const at = offset;
    offset += Buffer.byteLength(s);
    return { at, length: Buffer.byteLength(s), text: s };
  });
  const wat = `(module ${ENV_IMPORTS}
    (memory 1)
    (data (i32.const 0) "${strings.map(watString).join('')}")
    (func $block (param $at i32) (param $n i32) (result i64) (local $p i64) (local $i i32)
      (local.set $p (call $alloc (i64.extend_i32_u (local.get $n))))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $p) (i64.extend_i32_u (local.get $i))) (i32.load8_u (i32.add (local.get $at) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $p))
    (func (export "${watString(EXPORT)}") (result i32)
      (call $log_info (call $block (i32.const ${data[0].at}) (i32.const ${data[0].length})))
      (call $log_warn (call $block (i32.const ${data[1].at}) (i32.const ${data[1].length})))
      (call $error_set (call $block (i32.const ${data[2].at}) (i32.const ${data[2].length})))
      (i32.const 1)))`;
  return writeModule('hostile_text', await assemble(wat));
}

describe('text sinks: the CLI end to end', () => {
  it('a plugin\'s export name, logs and error reach the terminal with every escape sequence shown, not run', async () => {
    const file = await hostilePlugin();
    try {
      const r = spawnSync(process.execPath, [cli, 'call', file, EXPORT, '--trace', '--log-level', 'info'], { cwd: root });
      const stderr = r.stderr;
      assert.equal(r.status, 1, stderr.toString());
      for (const b of stderr) assert.ok(b >= 0x20 ? b !== 0x7f : b === 0x0a || b === 0x09, `byte 0x${b.toString(16)} on stderr:\n${stderr}`);
      const text = stderr.toString('utf8');
      assert.deepEqual([...text].filter((c) => /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/.test(c)), [], 'no C1 or bidi character');
      const lines = text.split('\n');
      assert.ok(lines.some((l) => l.startsWith('[info] #1 hostile_text: clip \\x1b]52;c;aGVsbG8=\\x07 clear \\x1b[2J')), text);
      assert.ok(lines.some((l) => l.startsWith('[warn] #1 hostile_text: c1 \\x9b31m bidi \\u{202e}gnp.exe\\nforged [info] line')), 'a log entry stays on one line');
      assert.ok(!lines.some((l) => l.startsWith('forged')), text);
      assert.ok(lines.some((l) => l.startsWith('cli -> #1 hostile_text.run\\x1b]0;retitled\\x07\\u{202e}') && l.includes('ERROR: ')), `the trace tree:\n${text}`);
      assert.ok(lines.some((l) => l.startsWith('extism-ipc: PluginError: ') && l.includes('boom \\x1b]0;t\\x07 [x](command:workbench.action.x?%5B%5D) \\x7f\\r')), `the error line:\n${text}`);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

/** Every source file of a face, relative to the repository root. */
function faceSources(): string[] {
  const vscodeDir = path.join(root, 'src', 'vscode');
  return [
    ...fs.readdirSync(vscodeDir).filter((f) => f.endsWith('.ts')).map((f) => `src/vscode/${f}`),
    ...fs.readdirSync(path.join(root, 'src')).filter((f) => /^(cli\w*|extension)\.ts$/.test(f)).map((f) => `src/${f}`),
  ];
}

/** Writes to a sink, and the one file allowed to make them (or a test a line making one must pass). */
const SINK_RULES: { what: string; pattern: RegExp; only: string; line?: RegExp }[] = [
  { what: 'a notification', pattern: /\bshow(Error|Warning|Information)Message\s*\(|ProgressLocation\.Notification/, only: 'src/vscode/notify.ts' },
  { what: 'Markdown', pattern: /\bMarkdownString\s*\(|\.append(Markdown|Text|Codeblock)\s*\(|\b(isTrusted|supportHtml|supportThemeIcons)\s*=(?!=)/, only: 'src/vscode/markdown.ts' },
  { what: 'the log channel', pattern: /\bcreateOutputChannel\s*\(|\.appendLine\s*\(/, only: 'src/vscode/log.ts' },
  { what: 'the terminal', pattern: /\bprocess\.(stdout|stderr)\.write\s*\(|\bconsole\.(log|error|warn|info|debug)\s*\(/, only: 'src/cliText.ts' },
  { what: 'a quick pick', pattern: /\bshowQuickPick\s*\(|\bcreateQuickPick\s*\(/, only: 'src/vscode/pickers.ts' },
  { what: 'a test run\'s output', pattern: /\.appendOutput\s*\(/, only: 'src/vscode/callFileTests.ts', line: /terminalText\(/ },
  { what: 'a test message', pattern: /\bTestMessage(\.diff)?\s*\(/, only: 'src/vscode/callFileTests.ts', line: /visibleText\(/ },
];

describe('text sinks: no call site writes around its escaper', () => {
  it('each sink is written from one place, through its escaper', () => {
    const broken: string[] = [];
    const seen = new Set<string>();
    for (const file of faceSources()) {
      fs.readFileSync(path.join(root, file), 'utf8').split('\n').forEach((text, i) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(text)) return;
        for (const rule of SINK_RULES) {
          if (!rule.pattern.test(text)) continue;
          seen.add(rule.what);
          if (file !== rule.only) broken.push(`${file}:${i + 1} writes ${rule.what}; only ${rule.only} may (through its escaper)`);
          else if (rule.line && !rule.line.test(text)) broken.push(`${file}:${i + 1} writes ${rule.what} without ${rule.line.source}`);
        }
      });
    }
    assert.deepEqual(broken, []);
    assert.deepEqual([...seen].sort(), SINK_RULES.map((r) => r.what).sort(), 'every rule still finds its sink');
  });
});
