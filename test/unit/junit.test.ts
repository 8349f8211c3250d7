import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { junitXml, xmlText } from '../../src/core';
import { cli, root } from './helpers';

interface XmlNode {
  name: string;
  attrs: Map<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);

function unescape(s: string): string {
  assert.ok(!/[<]/.test(s), `a raw < in text: ${s}`);
  return s.replace(/&([a-z]+);|&/g, (m, name?: string) => {
    assert.ok(name && ENTITIES.has(name), `a bare or unknown entity: ${m}`);
    return ENTITIES.get(name!)!;
  });
}

/** A small check of well-formed XML 1.0 (elements, attributes, text; no DTD), parsed into a tree. */
function parseXml(xml: string): XmlNode {
  assert.ok(!/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml), 'only characters XML 1.0 allows');
  let i = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  const root: XmlNode = { name: '#document', attrs: new Map(), children: [], text: '' };
  const stack: XmlNode[] = [root];
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textPart = xml.slice(i, lt < 0 ? xml.length : lt);
    stack[stack.length - 1].text += unescape(textPart);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    assert.ok(gt > 0, 'a tag is closed');
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop()!;
      assert.equal(tag.slice(1), open.name, 'tags nest');
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"]*")*)\s*\/?$/.exec(tag);
    assert.ok(m, `a well-formed tag: <${tag}>`);
    const node: XmlNode = { name: m[1], attrs: new Map(), children: [], text: '' };
    for (const a of m[2].matchAll(/([\w-]+)="([^"]*)"/g)) {
      assert.ok(!node.attrs.has(a[1]), 'attributes are unique');
      node.attrs.set(a[1], unescape(a[2]));
    }
    stack[stack.length - 1].children.push(node);
    if (!selfClosing) stack.push(node);
  }
  assert.equal(stack.length, 1, 'every element is closed');
  assert.equal(root.children.length, 1, 'one root element');
  return root.children[0];
}

describe('JUnit XML', () => {
  it('xmlText escapes markup and drops what XML 1.0 forbids', () => {
    assert.equal(xmlText('a<b>&"\'\u0000\u0007\u001b[31m\uD800x\uFFFE\t\n'), "a&lt;b&gt;&amp;&quot;&apos;[31mx\t\n");
    assert.equal(xmlText('😀 é'), '😀 é', 'surrogate pairs and other text stay');
  });

  it('extism-ipc test --junit writes a suite per file, nested per group, a case per call with its time, failures with the diff, the trace as system-out', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-junit-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.extism-calls.json'), JSON.stringify({
        calls: [
          { name: 'ok <&>', plugin: 'echo', function: 'echo', input: 'x', expect: { output: 'x' } },
          { name: 'wrong', plugin: 'echo', function: 'echo', input: 'a\u0001b', expect: { output: 'ab' } },
          { name: 'bad', plugin: 'echo', function: 'echo', expect: { output: 3 } },
        ],
        groups: [{ name: 'chain', calls: [{ name: 'three', plugin: 'chain_a', function: 'step', input: 'x', expect: { contains: '|c' } }] }],
      }));
      fs.writeFileSync(path.join(dir, 'b.extism-calls.json'), '{ not json');
      const report = path.join(dir, 'out', 'report.xml');
      fs.mkdirSync(path.dirname(report));
      const r = spawnSync(process.execPath, [cli, 'test', '--junit', report, dir], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      const doc = parseXml(fs.readFileSync(report, 'utf8'));
      assert.equal(doc.name, 'testsuites');
      assert.equal(doc.attrs.get('tests'), '5');
      assert.equal(doc.attrs.get('failures'), '1');
      assert.equal(doc.attrs.get('errors'), '2');
      const [a, b] = doc.children;
      assert.match(a.attrs.get('name')!, /a\.extism-calls\.json$/);
      const cases = a.children.filter((c) => c.name === 'testcase');
      assert.deepEqual(cases.map((c) => c.attrs.get('name')), ['ok <&>', 'wrong', 'bad']);
      for (const c of cases) assert.match(c.attrs.get('time')!, /^\d+\.\d{3}$/);
      const failure = cases[1].children.find((c) => c.name === 'failure')!;
      assert.equal(failure.attrs.get('message'), 'the output differs');
      assert.match(failure.text, /expected: ab\nactual: {3}ab/, 'the control character is dropped, the rest kept');
      assert.match(cases[0].children.find((c) => c.name === 'system-out')!.text, /a\.extism-calls\.json › ok <&> -> #\d+ echo\.echo/);
      assert.match(cases[2].children.find((c) => c.name === 'error')!.attrs.get('message')!, /calls\[2\]\.expect\.output must be a string/);
      const group = a.children.find((c) => c.name === 'testsuite')!;
      assert.match(group.attrs.get('name')!, /› chain$/);
      assert.equal(group.children[0].attrs.get('name'), 'three');
      assert.match(group.children[0].children.find((c) => c.name === 'system-out')!.text, /chain_b\.step/);
      assert.equal(b.children[0].children[0].name, 'error');
      assert.match(b.children[0].children[0].attrs.get('message')!, /is not valid JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('junitXml counts what it holds', () => {
    const doc = parseXml(junitXml([{ name: 'f', cases: [{ name: 'c', durationMs: 1500, passed: true, spans: [] }], problems: ['"x" is not a field'] }]));
    assert.equal(doc.attrs.get('tests'), '2');
    assert.equal(doc.attrs.get('failures'), '1');
    assert.equal(doc.children[0].children[1].attrs.get('time'), '1.500');
  });
});
