import * as assert from 'node:assert/strict';
import { formatTraceTree, preview, Span, toChromeTrace } from '../../src/core';
import { closeHosts, rejects, startHost, transports } from './helpers';

describe('trace', () => {
  afterEach(closeHosts);

  it('records a span per call, nested by caller, with sizes and durations', async () => {
    const host = startHost();
    const run = await host.register('run');
    await host.call(run.id, 'run', '', 'command');
    const spans = host.trace.spans();
    assert.equal(spans.length, 2);
    const outer = spans.find((s) => s.calleeName === 'run') as Span;
    const inner = spans.find((s) => s.calleeName === 'count_vowels') as Span;
    assert.equal(outer.parentId, null);
    assert.equal(outer.caller, 'command');
    assert.equal(inner.parentId, outer.id);
    assert.equal(inner.caller, run.id);
    assert.equal(inner.callerName, 'run');
    assert.equal(inner.inputBytes, 13);
    assert.equal(preview(inner.inputHead, inner.inputBytes), 'Hello, World!');
    assert.equal(inner.outputBytes, outer.outputBytes);
    assert.ok(inner.start >= outer.start);
    assert.ok(inner.durationMs > 0 && inner.durationMs <= outer.durationMs);
    assert.deepEqual([outer.status, inner.status], ['ok', 'ok']);
  });

  it('marks failed calls with their error', async () => {
    const host = startHost();
    const trap = await host.register('trap');
    await rejects(host.call(trap.id, 'fail'), 'PluginError', /deliberate failure/);
    const [span] = host.trace.spans();
    assert.equal(span.status, 'error');
    assert.match(span.error ?? '', /deliberate failure/);
  });

  it('prints the call tree', async () => {
    const host = startHost();
    const a = await host.register('chain_a');
    await host.call(a.id, 'step', 'x', 'cli');
    const lines = formatTraceTree(host.trace.all()).split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^cli -> #1 chain_a\.step {2}in 1 B, out 7 B, .*, ok$/);
    assert.match(lines[1], /^└─ #1 chain_a -> #2 chain_b\.step {2}in 3 B, out 7 B, .*, ok$/);
    assert.match(lines[2], /^ {3}└─ #2 chain_b -> #3 chain_c\.step {2}in 5 B, out 7 B, .*, ok$/);
  });

  it('exports Chrome Trace Event JSON that parses back', async () => {
    const host = startHost();
    const run = await host.register('run');
    await host.call(run.id, 'run');
    const parsed = JSON.parse(JSON.stringify(toChromeTrace(host.trace.all())));
    const complete = parsed.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
    assert.deepEqual(complete.map((e: { name: string }) => e.name).sort(), ['count_vowels.count_vowels', 'run.run']);
    for (const e of complete) {
      assert.equal(typeof e.ts, 'number');
      assert.ok(e.dur >= 0);
      assert.equal(e.pid, 1);
    }
    const inner = complete.find((e: { name: string }) => e.name === 'count_vowels.count_vowels');
    const outer = complete.find((e: { name: string }) => e.name === 'run.run');
    assert.equal(inner.args.parentSpan, outer.args.span);
    assert.ok(inner.ts >= outer.ts && inner.ts + inner.dur <= outer.ts + outer.dur + 1);
    assert.equal(parsed.traceEvents.filter((e: { ph: string }) => e.ph === 'i').length, 2, 'two spawn events');
  });

  it('can be turned off', async () => {
    const host = startHost({ tracing: false });
    const run = await host.register('run');
    await host.call(run.id, 'run');
    assert.equal(host.trace.spans().length, 0);
    assert.equal(host.plugins()[1].calls, 1, 'call counts still arrive');
  });
});

describe('trace while a call runs', () => {
  afterEach(closeHosts);

  it('shows a top-level call as running before it ends, even one that never calls back', async () => {
    const host = startHost({ callTimeoutMs: 2000 }, transports.childProcess);
    const loop = await host.register('loop');
    const seen: string[] = [];
    host.trace.onRecord((r) => {
      if (r.kind === 'call') seen.push(`${r.func}:${r.status}`);
    });
    const call = host.call(loop.id, 'spin');
    // on a loaded machine the runtime may take a while to start the call: wait for its first record
    for (let waited = 0; !seen.length && waited < 1500; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ['spin:running']);
    assert.equal(host.trace.runningSpans().length, 1);
    await rejects(call, 'TimeoutError', /timed out/);
    assert.deepEqual(seen, ['spin:running', 'spin:error']);
    assert.equal(host.trace.runningSpans().length, 0);
  });
});
