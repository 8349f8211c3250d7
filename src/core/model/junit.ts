// JUnit XML for CI systems: a testsuite per call file (a nested one per group), a testcase per call.
import type { Span } from '../../shared/traceRecords';
import { formatTraceTree } from './trace';

/** One call as the report needs it. */
export interface JunitCase {
  name: string;
  /** Its group's name, when it is in one. */
  group?: string;
  durationMs: number;
  passed: boolean;
  /** It is not a call (a bad field): an error rather than a failure. */
  invalid?: boolean;
  reason?: string;
  /** What was expected and what came, or a diff. */
  detail?: string;
  spans: readonly Span[];
  skipped?: string;
}

/** One call file: its cases, or the reason it is not a call file. */
export interface JunitFile {
  name: string;
  cases: JunitCase[];
  /** Problems of the file's own fields, each a failed case. */
  problems: string[];
  /** It is not a call file at all. */
  error?: string;
}

/** Text as XML 1.0 may hold it: characters it forbids (controls, lone surrogates, U+FFFE/FFFF) dropped, markup escaped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(c: JunitCase, classname: string): string {
  const head = `<testcase name="${xmlText(c.name)}" classname="${xmlText(classname)}" time="${seconds(c.durationMs)}"`;
  const body: string[] = [];
  if (c.skipped !== undefined) body.push(`<skipped message="${xmlText(c.skipped)}"/>`);
  else if (c.invalid) body.push(`<error message="${xmlText(c.reason ?? 'is not a call')}" type="invalid call">${xmlText(c.reason ?? '')}</error>`);
  else if (!c.passed) body.push(`<failure message="${xmlText(c.reason ?? 'failed')}" type="expect">${xmlText([c.reason ?? 'failed', c.detail ?? ''].filter(Boolean).join('\n'))}</failure>`);
  if (c.spans.length) body.push(`<system-out>${xmlText(formatTraceTree(c.spans))}</system-out>`);
  return body.length ? `${head}>\n      ${body.join('\n      ')}\n    </testcase>` : `${head}/>`;
}

function suite(name: string, cases: JunitCase[], extra: string[], indent: string, nested: string[] = []): string {
  const all = [...cases];
  const failures = cases.filter((c) => !c.passed && !c.invalid && c.skipped === undefined).length + extra.length;
  const errors = cases.filter((c) => c.invalid).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const time = all.reduce((t, c) => t + c.durationMs, 0);
  const lines = [
    ...extra.map((m) => `<testcase name="the file" classname="${xmlText(name)}" time="0.000">\n      <failure message="${xmlText(m)}" type="call file">${xmlText(m)}</failure>\n    </testcase>`),
    ...cases.map((c) => testcase(c, name)),
    ...nested,
  ];
  return `${indent}<testsuite name="${xmlText(name)}" tests="${cases.length + extra.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(time)}">\n${lines.map((l) => `${indent}  ${l}`).join('\n')}\n${indent}</testsuite>`;
}

/** The JUnit XML report of a run of call files. */
export function junitXml(files: readonly JunitFile[]): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let time = 0;
  const suites = files.map((f) => {
    if (f.error !== undefined) {
      tests++;
      errors++;
      return `  <testsuite name="${xmlText(f.name)}" tests="1" failures="0" errors="1" skipped="0" time="0.000">\n    <testcase name="the file" classname="${xmlText(f.name)}" time="0.000">\n      <error message="${xmlText(f.error)}" type="call file">${xmlText(f.error)}</error>\n    </testcase>\n  </testsuite>`;
    }
    const own = f.cases.filter((c) => c.group === undefined);
    const groupNames = [...new Set(f.cases.filter((c) => c.group !== undefined).map((c) => c.group!))];
    const nested = groupNames.map((g) => suite(`${f.name} › ${g}`, f.cases.filter((c) => c.group === g), [], '').replace(/^/gm, '  ').trimStart());
    tests += f.cases.length + f.problems.length;
    failures += f.cases.filter((c) => !c.passed && !c.invalid && c.skipped === undefined).length + f.problems.length;
    errors += f.cases.filter((c) => c.invalid).length;
    time += f.cases.reduce((t, c) => t + c.durationMs, 0);
    return suite(f.name, own, f.problems, '  ', nested);
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="extism-ipc test" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds(time)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
