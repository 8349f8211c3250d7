// Assertions on what a call asked of other plugins and of the host, read from its spans: what
// really crossed, in the order it started.
import type { Span } from '../../shared/traceRecords';
import type { CallCheck } from './callFile';

/** A nested call as the checks see it: its callee (`plugin.function`, or `module.name` for a host function) and, when asked for, its bytes. */
export interface CrossedCall {
  callee: string;
  spanId: number;
  input?: Uint8Array;
  output?: Uint8Array;
  /** Why its bytes cannot be compared (not kept, or kept only in part), when they cannot. */
  bytesMissing?: string;
}

/** The callee of a span as `expect.calls` and `expect.hostCalls` name it. */
export function calleeOf(s: Span): string {
  return s.host ?? `${s.calleeName}.${s.func}`;
}

/** The outermost of a call's spans: the call itself. */
export function outermostSpan(spans: readonly Span[]): Span | undefined {
  return spans.reduce<Span | undefined>((top, s) => (!top || s.depth < top.depth ? s : top), undefined);
}

/** The spans under `rootId` (not itself), depth first in the order they started; host function calls or plugin calls. */
export function nestedSpans(spans: readonly Span[], rootId: number, host: boolean): Span[] {
  const children = new Map<number, Span[]>();
  for (const s of spans) {
    if (s.parentId === null) continue;
    const list = children.get(s.parentId) ?? [];
    list.push(s);
    children.set(s.parentId, list);
  }
  const out: Span[] = [];
  const stack: Span[] = [...(children.get(rootId) ?? [])].sort((a, b) => b.start - a.start || b.id - a.id);
  while (stack.length) {
    const s = stack.pop()!;
    if ((s.host !== undefined) === host) out.push(s);
    stack.push(...[...(children.get(s.id) ?? [])].sort((a, b) => b.start - a.start || b.id - a.id));
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Whether the calls made hold the expected ones in order: each expected entry takes the next calls
 * that match it (others may come between entries); with `count`, exactly that many in a row.
 */
export function matchCalls(
  expected: readonly CallCheck[],
  actual: readonly CrossedCall[],
  bytesOf: (check: CallCheck, field: 'input' | 'output') => Uint8Array,
): { passed: boolean; reason?: string; expected: string; actual: string } {
  const matches = (e: CallCheck, c: CrossedCall | undefined): boolean => {
    if (!c || c.callee !== e.callee) return false;
    for (const field of ['input', 'output'] as const) {
      if (e[field] === undefined) continue;
      const got = c[field];
      if (got === undefined || c.bytesMissing !== undefined || !sameBytes(got, bytesOf(e, field))) return false;
    }
    return true;
  };
  const shownExpected = expected.map((e) => `${e.callee}${e.count !== undefined ? ` ×${e.count}` : ''}${e.input !== undefined ? ' (input given)' : ''}${e.output !== undefined ? ' (output given)' : ''}`).join('\n');
  const shownActual = actual.map((c) => c.callee).join('\n');
  const result = (reason?: string) => ({ passed: reason === undefined, ...(reason === undefined ? {} : { reason }), expected: shownExpected, actual: shownActual });
  let at = 0;
  for (const e of expected) {
    let k = at;
    while (k < actual.length && !matches(e, actual[k])) k++;
    if (k === actual.length) {
      const sameCallee = actual.slice(at).find((c) => c.callee === e.callee);
      const why = sameCallee?.bytesMissing ?? (sameCallee ? 'it was called, but not with that input and output' : actual.length ? 'it was not called there' : 'it made no such calls');
      return result(`expected a call of ${e.callee}${at ? ` after call ${at}` : ''}: ${why}`);
    }
    const want = e.count ?? 1;
    let run = 0;
    while (run < want && matches(e, actual[k + run])) run++;
    if (run < want || (e.count !== undefined && matches(e, actual[k + run]))) {
      let all = run;
      while (matches(e, actual[k + all])) all++;
      return result(`expected ${want} call${want > 1 ? 's' : ''} of ${e.callee} in a row, got ${all}`);
    }
    at = k + run;
  }
  return result();
}
