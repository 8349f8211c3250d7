// Call files and host-function modules as hostile input: patterns that backtrack for ever, input
// files that are FIFOs or devices, JSON nested a million deep, module top levels that never end,
// and host functions that throw values no one can read.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseCallFile, PluginError, readCallFile, runCallFile } from '../../src/core';
import type { HostOptions, PluginHost, Span } from '../../src/core';
import { ERROR_MATCH_TIMEOUT_MS, matchesWithin } from '../../src/core/errorPatternMatch';
import { MAX_JSON_DEPTH } from '../../src/core/model/jsonDepth';
import { parseManifest } from '../../src/core/model/manifest';
import { globMatches } from '../../src/core/model/policy';
import { thrownText } from '../../src/core/model/userHostFunctions';
import { cli, closeHosts, pluginsDir, rejects, root, startHost, text, transports } from './helpers';
import { probeModule, TempDir, transformModule } from './hostFunctionFixtures';

let tmp: TempDir;

/** `[` n deep around `inner`, as JSON text. */
const nested = (n: number, inner = '1'): string => '['.repeat(n) + inner + ']'.repeat(n);

/** Resolves with ms taken, failing past `ms`. */
async function within<T>(ms: number, what: string, job: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await job();
  const took = performance.now() - t0;
  assert.ok(took < ms, `${what}: took ${took.toFixed(0)} ms, over ${ms}`);
  return { value, ms: took };
}

// Patterns that backtrack exponentially or polynomially, each with a subject that makes them.
const CATASTROPHIC: [string, string][] = [
  ['(a+)+$', `${'a'.repeat(40)}!`],
  ['(a|aa)+$', `${'a'.repeat(60)}!`],
  ['(a|a?)+$', `${'a'.repeat(40)}!`],
  ['(a*)*$', `${'a'.repeat(40)}!`],
  ['(\\w+\\s?)*$', `${'a'.repeat(40)}!`],
  ['(.*a){30}!', `${'a'.repeat(60)}`],
  ['([a-z]+)+[0-9]$', `${'abc'.repeat(20)}!`],
  ['(x+x+)+y', 'x'.repeat(50)],
];

describe('hostile call input: expect.error patterns', () => {
  it('a catastrophic pattern is stopped within its limit and reported, never hangs', () => {
    for (const [pattern, subject] of CATASTROPHIC) {
      assert.equal(matchesWithin(pattern, subject, 200), 'too slow', `/${pattern}/ on ${subject.length} chars`);
    }
    // fast ones still answer
    assert.equal(matchesWithin('deliberate', 'it failed: deliberate', 200), true);
    assert.equal(matchesWithin('^nope$', 'it failed', 200), false);
  });

  it('each stop takes about the limit', () => {
    for (const [pattern, subject] of CATASTROPHIC.slice(0, 3)) {
      const t0 = performance.now();
      assert.equal(matchesWithin(pattern, subject, 100), 'too slow');
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `/${pattern}/ stopped after ${ms.toFixed(0)} ms`);
    }
  });

  it('permission and host globs match in linear time, however many stars', () => {
    const value = 'a'.repeat(20000);
    const pattern = `${'*a'.repeat(200)}*b`;
    const t0 = performance.now();
    assert.equal(globMatches(pattern, value), false);
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(globMatches('chain_*', 'chain_2'), true);
    assert.equal(globMatches('*.example.com', 'api.example.com'), true);
    assert.equal(globMatches('*.example.com', 'example.com'), false);
    assert.equal(globMatches('a*b*c', 'abc'), true);
    assert.equal(globMatches('a*b*c', 'acb'), false);
    assert.equal(globMatches('**', ''), true);
  });
});

describe('hostile call input: call files end to end', () => {
  before(async () => {
    tmp = new TempDir();
  });
  after(() => tmp.remove());
  afterEach(closeHosts);

  it('a catastrophic expect.error fails that call naming the pattern; the other calls run', async () => {
    const missing = `${'a'.repeat(40)}!`;
    const file = tmp.write('re.extism-calls.json', JSON.stringify({
      calls: [
        ...CATASTROPHIC.slice(0, 4).map(([pattern], i) => ({ name: `slow ${i}`, plugin: 'echo', function: missing, expect: { error: pattern } })),
        { name: 'fine', plugin: 'echo', function: missing, expect: { error: 'has no export' } },
      ],
    }));
    const host = startHost({ pluginDirs: [pluginsDir] });
    const { value: outcomes } = await within(4 * ERROR_MATCH_TIMEOUT_MS + 5000, 'the file', () => runCallFile(readCallFile(file), host));
    assert.deepEqual(outcomes.map((o) => o.passed), [false, false, false, false, true]);
    for (const [i, o] of outcomes.slice(0, 4).entries()) {
      assert.ok(o.reason?.includes(`/${CATASTROPHIC[i][0]}/`), o.reason);
      assert.match(o.reason ?? '', new RegExp(`took longer than ${ERROR_MATCH_TIMEOUT_MS} ms`));
    }
  });

  it('input files: a FIFO, devices, a directory, a socket, symlinks to them and a too-large file fail their call; a regular one works', async () => {
    const dir = tmp.write('inputs/keep', '');
    const base = path.dirname(dir);
    execFileSync('mkfifo', [path.join(base, 'in.fifo')]);
    fs.symlinkSync('/dev/zero', path.join(base, 'zero-link'));
    fs.symlinkSync(path.join(base, 'in.fifo'), path.join(base, 'fifo-link'));
    fs.mkdirSync(path.join(base, 'folder'));
    fs.writeFileSync(path.join(base, 'big.bin'), Buffer.alloc(4096, 1));
    fs.writeFileSync(path.join(base, 'ok.txt'), 'from a file');
    const sock = path.join(base, 'in.sock');
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      const cases: [string, RegExp][] = [
        ['in.fifo', /is not a regular file \(a FIFO\)/],
        ['fifo-link', /is not a regular file \(a FIFO\)/],
        ['/dev/zero', /is not a regular file \(a character device\)/],
        ['zero-link', /is not a regular file \(a character device\)/],
        ['folder', /is not a regular file \(a directory\)/],
        ['in.sock', /cannot be read \(ENXIO\)|is not a regular file \(a socket\)/],
        ['big.bin', /is 4 KiB, over the limit of 1 KiB \(maxMessageBytes\)/],
        ['missing.txt', /not found/],
      ];
      const file = tmp.write('inputs/in.extism-calls.json', JSON.stringify({
        calls: [
          ...cases.map(([input], i) => ({ name: `bad ${i}`, plugin: 'echo', function: 'echo', input: { file: input }, expect: { error: '.' } })),
          { name: 'good', plugin: 'echo', function: 'echo', input: { file: 'ok.txt' }, expect: { output: 'from a file' } },
        ],
      }));
      const host = startHost({ pluginDirs: [pluginsDir], maxMessageBytes: 1024 });
      const { value: outcomes } = await within(5000, 'the file', () => runCallFile(readCallFile(file), host));
      cases.forEach(([input, why], i) => {
        const o = outcomes[i];
        assert.equal(o.passed, false, `${input}: an input that cannot be read fails the call, whatever it expects`);
        assert.match(o.reason ?? '', new RegExp(`^calls\\[${i}\\]\\.input\\.file `), o.reason);
        assert.match(o.reason ?? '', why, `${input}: ${o.reason}`);
      });
      assert.equal(outcomes[cases.length].passed, true, outcomes[cases.length].reason);
    } finally {
      server.close();
    }
  });

  it('a call file that is a FIFO or a device is refused, not read', () => {
    const fifo = path.join(tmp.dir, 'calls.extism-calls.json');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readCallFile(fifo), /calls\.extism-calls\.json: is not a regular file \(a FIFO\)/);
    assert.throws(() => readCallFile('/dev/zero'), /is not a regular file \(a character device\)/);
    fs.rmSync(fifo);
  });

  for (const depth of [10, 1e3, 1e5, 1e6]) {
    it(`nesting ${depth} deep: input.json, expect.json and manifests are taken or refused cleanly`, async () => {
      const deep = nested(depth);
      await within(10000, `depth ${depth}`, async () => {
        for (const field of ['input', 'expect']) {
          const body = `{"json":${deep}}`;
          const callText = `{"calls":[{"plugin":"echo","function":"echo",${field === 'input' ? `"input":${body}` : `"input":"x","expect":${body}`}}]}`;
          // the file's own levels: the file, "calls", the call, the field
          if (depth + 4 <= MAX_JSON_DEPTH) {
            parseCallFile('/d/x.extism-calls.json', callText);
          } else {
            assert.throws(() => parseCallFile('/d/x.extism-calls.json', callText), (e: Error) => e.message === `/d/x.extism-calls.json: the file is nested deeper than ${MAX_JSON_DEPTH} levels (a call file's JSON may nest ${MAX_JSON_DEPTH} deep)`);
          }
        }
        const manifest = `{"wasm":[{"path":"a.wasm"}],"config":{"k":${deep}}}`;
        assert.throws(() => parseManifest('/d/m.json', manifest), (e: Error) => e instanceof PluginError && (depth + 2 > MAX_JSON_DEPTH ? /is nested deeper than 1000 levels/ : /config/).test(e.message));
      });
    });
  }

  it('a plugin output nested a hundred thousand deep is compared and shown without running out of stack', async () => {
    const depth = 100_000;
    const input = nested(depth);
    const file = tmp.write('deep.extism-calls.json', JSON.stringify({
      calls: [
        { name: 'deep differs', plugin: 'echo', function: 'echo', input, expect: { json: [[2]] } },
        { name: 'deep prefix', plugin: 'echo', function: 'echo', input: nested(500), expect: { json: JSON.parse(nested(500)) } },
        { name: 'input json', plugin: 'echo', function: 'echo', input: { json: JSON.parse(nested(900)) }, expect: { output: nested(900) } },
      ],
    }));
    const host = startHost({ pluginDirs: [pluginsDir] });
    const outcomes = await runCallFile(readCallFile(file), host);
    assert.equal(outcomes[0].passed, false);
    assert.match(outcomes[0].reason ?? '', /does not contain the expected fields/);
    assert.equal(outcomes[0].actual, input, 'too deep to indent: shown as it came');
    assert.equal(outcomes[1].passed, true, outcomes[1].reason);
    assert.equal(outcomes[2].passed, true, outcomes[2].reason);
  });

  it('cli: extism-ipc test exits non-zero in bounded time, with the reasons, for a catastrophic pattern and a FIFO input', () => {
    const dir = path.join(tmp.dir, 'cli');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'in.fifo')]);
    fs.writeFileSync(path.join(dir, 'bad.extism-calls.json'), JSON.stringify({
      calls: [
        { name: 'slow pattern', plugin: 'echo', function: `${'a'.repeat(40)}!`, expect: { error: '(a+)+$' } },
        { name: 'fifo input', plugin: 'echo', function: 'echo', input: { file: 'in.fifo' } },
        { name: 'fine', plugin: 'echo', function: 'echo', input: 'x', expect: { output: 'x' } },
      ],
    }));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cli, 'test', dir], { cwd: root, encoding: 'utf8', timeout: 30000 });
    assert.ok(Date.now() - t0 < 20000, `took ${Date.now() - t0} ms`);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /✗ slow pattern: the pattern \/\(a\+\)\+\$\/ took longer than 1000 ms/);
    assert.match(r.stdout, /✗ fifo input: calls\[1\]\.input\.file .*in\.fifo: is not a regular file \(a FIFO\)/);
    assert.match(r.stdout, /✓ fine/);
    assert.match(r.stdout, /1 passed, 2 failed/);
  });
});

/** Hostile values a host function may throw, as JS source. */
const THROWN: [string, string, RegExp][] = [
  ['a Proxy whose every trap throws', `new Proxy({}, Object.fromEntries(['get', 'getPrototypeOf', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'apply', 'set', 'defineProperty'].map((t) => [t, () => { throw new Error('trap ' + t); }])))`, /failed: \(a value that cannot be read\)$/],
  ['a Proxy of an Error whose traps throw', `new Proxy(new Error('x'), { get() { throw 1; }, getPrototypeOf() { throw 2; } })`, /failed: \(a value that cannot be read\)$/],
  ['a revoked Proxy', `(() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })()`, /failed: \(a value that cannot be read\)$/],
  ['an object whose getters throw', `Object.defineProperties({}, Object.fromEntries(['message', 'name', 'stack', 'toString', 'valueOf', Symbol.toPrimitive].map((k) => [k, { get() { throw new Error('no'); } }])))`, /failed: a value with no text of its own \(\[object Object\]\)$/],
  ['an Error whose message getter throws', `Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('no'); } })`, /failed: \(a value that cannot be read\)$/],
  ['an object whose toString throws', `({ toString() { throw new Error('no'); } })`, /failed: a value with no text of its own \(\[object Object\]\)$/],
  ['an object whose toString returns an object', `({ toString() { return {}; }, valueOf() { return {}; } })`, /failed: a value with no text of its own \(\[object Object\]\)$/],
  ['an object without a prototype', 'Object.create(null)', /failed: a value with no text of its own \(\[object Object\]\)$/],
  ['a Symbol', `Symbol('s')`, /failed: Symbol\(s\)$/],
  ['a BigInt', '12345678901234567890n', /failed: 12345678901234567890$/],
  ['null', 'null', /failed: null$/],
  ['undefined', 'undefined', /failed: undefined$/],
  // cut where it is described, and again (with its own note) where a reply crosses a transport
  ['a huge string', `'x'.repeat(20 * 1024 * 1024)`, /failed: x{60000,}… \(\d+ more characters\)$/],
  ['an Error', `new Error('plain')`, /failed: plain$/],
];

describe('hostile host functions: thrown values', () => {
  let probe: string;
  before(async () => {
    tmp = new TempDir();
    probe = tmp.write('probe.wasm', await probeModule());
  });
  after(() => tmp.remove());
  afterEach(closeHosts);

  it('thrownText never throws and cuts what is long', () => {
    for (const [what, source] of THROWN) {
      const value = (0, eval)(source) as unknown;
      const text = thrownText(value);
      assert.equal(typeof text, 'string', what);
      assert.ok(text.length < 70_000, what);
    }
  });

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: each is that function's failure, its span ends, and the runtime goes on`, async () => {
      const files = THROWN.map(([, source], i) => tmp.write(`throw-${name}-${i}.cjs`, transformModule('cjs', `{ throw ${source}; }`)));
      for (const [i, [what, , why]] of THROWN.entries()) {
        const host = startHost({ hostFunctions: [files[i]], pluginDirs: [pluginsDir] }, transports[name]);
        const p = await host.register(probe);
        const error = await rejects(host.call(p.id, 'run', 'x'), 'PluginError', /host function extism:host\/user\.transform failed: /);
        assert.match(error.message, why, what);
        const span = host.trace.spans().find((s: Span) => s.host === 'extism:host/user.transform');
        assert.ok(span && span.status === 'error', `${what}: the host function's span ended`);
        assert.equal(text(await host.call((await host.register('echo')).id, 'echo', 'still here')), 'still here');
        await host.dispose();
      }
    });
  }

  it('a result no one can read fails as that function\'s problem', async () => {
    const hostile = `new Proxy({}, { get() { throw 1; }, getPrototypeOf() { throw 2; } })`;
    const file = tmp.write('returns.cjs', transformModule('cjs', hostile));
    const host = startHost({ hostFunctions: [file], pluginDirs: [pluginsDir] });
    const p = await host.register(probe);
    await rejects(host.call(p.id, 'run', 'x'), 'PluginError', /host function extism:host\/user\.transform returned a value that cannot be read$/);
    assert.equal(text(await host.call((await host.register('echo')).id, 'echo', 'ok')), 'ok');
  });
});

describe('hostile host-function modules: a top level that never ends', () => {
  let probe: string;
  before(async () => {
    tmp = new TempDir();
    probe = tmp.write('probe.wasm', await probeModule());
  });
  after(() => tmp.remove());
  afterEach(closeHosts);

  const LIMIT = 500;
  const hostOf = (files: string[], transport: keyof typeof transports, options: HostOptions = {}): PluginHost =>
    startHost({ hostFunctions: files, pluginDirs: [pluginsDir, tmp.dir], callTimeoutMs: LIMIT, ...options }, transports[transport]);

  function loopers(prefix: string): Record<string, string> {
    tmp.write(`${prefix}/esm/package.json`, '{"type":"module"}');
    tmp.write(`${prefix}/plain/package.json`, '{"type":"commonjs"}');
    return {
      cjs: tmp.write(`${prefix}/loop.cjs`, 'while (true) {}\nmodule.exports = {};\n'),
      jsCjs: tmp.write(`${prefix}/plain/loop.js`, 'while (true) {}\nmodule.exports = {};\n'),
      jsEsm: tmp.write(`${prefix}/esm/loop.js`, 'while (true) {}\nexport default {};\n'),
      mjs: tmp.write(`${prefix}/loop.mjs`, 'while (true) {}\nexport default {};\n'),
      tla: tmp.write(`${prefix}/await.mjs`, 'await new Promise(() => {});\nexport default {};\n'),
      lateLoop: tmp.write(`${prefix}/late.mjs`, 'await new Promise((r) => setTimeout(r, 10));\nwhile (true) {}\nexport default {};\n'),
    };
  }

  for (const transport of ['inProcess', 'childProcess'] as const) {
    it(`${transport}: .cjs, .js (CJS and ESM), .mjs and top-level await are stopped at the limit and reported; the runtime goes on`, async () => {
      const loops = loopers(transport);
      const good = tmp.write(`${transport}/good.cjs`, transformModule('cjs', `ctx.store('served')`));
      const host = hostOf([...Object.values(loops), good], transport);
      const { value: error } = await within(Object.keys(loops).length * (LIMIT + 1500) + 3000, 'the load', () =>
        rejects(host.hostFunctions(), 'PluginError', /did not load/));
      const lines = error.message.split('\n');
      assert.equal(lines.length, Object.keys(loops).length, error.message);
      for (const [i, file] of Object.values(loops).entries()) {
        assert.equal(lines[i], `host functions ${file} did not load: its top level did not finish within ${LIMIT} ms (callTimeoutMs) and was stopped; it is not run again until the file changes (save it again to retry)`);
      }
      const p = await host.register(probe);
      assert.equal(text(await host.call(p.id, 'run', 'x')), 'served', 'the module that loads serves');
      assert.equal(text(await host.call((await host.register('echo')).id, 'echo', 'ok')), 'ok');

      // a restart (or a configure) does not run them again: each is refused at once
      await host.restart();
      const { value: again } = await within(LIMIT + 2000, 'after restart', () => rejects(host.hostFunctions(), 'PluginError', /did not load/));
      for (const line of again.message.split('\n')) assert.match(line, /was not run: its top level did not finish in time when this version was loaded before; it runs again when the file changes/);
      await host.configure({ hostFunctions: [loops.cjs, good], pluginDirs: [pluginsDir, tmp.dir], callTimeoutMs: LIMIT });
      await rejects(host.hostFunctions(), 'PluginError', /was not run/);

      // a changed file runs again; asked, a held one runs again too
      fs.writeFileSync(loops.cjs, transformModule('cjs', `ctx.store('fixed')`));
      await host.configure({ hostFunctions: [good, loops.cjs], pluginDirs: [pluginsDir, tmp.dir], callTimeoutMs: LIMIT });
      assert.deepEqual((await host.hostFunctions()).map((s) => s.file), [loops.cjs]);
      await host.configure({ hostFunctions: [loops.mjs], pluginDirs: [pluginsDir, tmp.dir], callTimeoutMs: LIMIT });
      await rejects(host.hostFunctions(), 'PluginError', /was not run/);
      await within(LIMIT + 3000, 'retry', () => rejects(host.retryHostFunctions(), 'PluginError', /did not finish within 500 ms/));
    });
  }
});
