import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostOptions, PluginHost } from '../../src/core';
import { cli, closeHosts, pluginsDir, rejects, root, startHost, text, transports } from './helpers';
import { probeModule, TempDir, transformModule } from './hostFunctionFixtures';
import { assemble, ENV_IMPORTS } from './wat';

const KV = path.join(pluginsDir, 'host-functions', 'kv.mjs');

let tmp: TempDir;
let probe: string;

/** The probe plugin, in a temporary directory of the suite's own. */
function fixtures(): void {
  before(async () => {
    tmp = new TempDir();
    probe = tmp.write('probe.wasm', await probeModule());
  });
  after(() => tmp.remove());
}

/** A host of these modules; its first register waits for them to load (whether they did or not). */
function hostOf(files: string[], options: HostOptions = {}): PluginHost {
  return startHost({ hostFunctions: files, pluginDirs: [pluginsDir, tmp.dir], ...options });
}

/** The error host.hostFunctions() rejects with. */
async function loadError(host: PluginHost): Promise<string> {
  const error = await rejects(host.hostFunctions(), 'PluginError', /did not load/);
  return error.message;
}

/** A plugin importing `example:load.<name>` (i64) -> i64 for each name; export `<name>` outputs what it returns. */
async function importing(names: string[]): Promise<string> {
  const imports = names.map((n) => `(import "example:load" "${n}" (func $${n} (param i64) (result i64)))`).join('\n');
  const exports = names
    .map((n) => `(func (export "${n}") (result i32) (local $b i64) (local.set $b (call $${n} (i64.const 0)))
        (call $output_set (local.get $b) (call $length (local.get $b))) (i32.const 0))`)
    .join('\n');
  return tmp.write(`loads-${names.join('-')}.wasm`, await assemble(`(module ${ENV_IMPORTS} ${imports} (memory (export "memory") 1) ${exports})`));
}

/** A module supplying `example:load.<name>`, which stores `value`. */
const loadFunction = (name: string, value: string) => `{ 'example:load': { ${name}: (ctx) => ctx.store(${JSON.stringify(value)}) } }`;

describe('host-function modules: loading', () => {
  fixtures();
  afterEach(closeHosts);

  it('loads .cjs, .mjs, .js as ESM (type module), .js as CJS, and a compiled CJS default export', async () => {
    const files = [
      tmp.write('kinds/a.cjs', `module.exports = ${loadFunction('cjs', 'from .cjs')};\n`),
      tmp.write('kinds/b.mjs', `export default ${loadFunction('mjs', 'from .mjs')};\n`),
      tmp.write('kinds/esm/package.json', '{"type":"module"}'),
      tmp.write('kinds/esm/c.js', `export default ${loadFunction('esmjs', 'from .js ESM')};\n`),
      tmp.write('kinds/plain/package.json', '{"type":"commonjs"}'),
      tmp.write('kinds/plain/d.js', `module.exports = ${loadFunction('cjsjs', 'from .js CJS')};\n`),
      tmp.write('kinds/plain/e.js', `Object.defineProperty(exports, '__esModule', { value: true });\nexports.default = ${loadFunction('compiled', 'from tsc')};\n`),
    ].filter((f) => !f.endsWith('.json'));
    const host = hostOf(files);
    const served = await host.hostFunctions();
    assert.deepEqual(served.map((s) => `${s.import} ${path.relative(tmp.dir, s.file)}`), [
      'example:load.cjs kinds/a.cjs',
      'example:load.mjs kinds/b.mjs',
      'example:load.esmjs kinds/esm/c.js',
      'example:load.cjsjs kinds/plain/d.js',
      'example:load.compiled kinds/plain/e.js',
    ]);
    const names = ['cjs', 'mjs', 'esmjs', 'cjsjs', 'compiled'];
    const p = await host.register(await importing(names));
    const outputs = await Promise.all(names.map(async (n) => text(await host.call(p.id, n))));
    assert.deepEqual(outputs, ['from .cjs', 'from .mjs', 'from .js ESM', 'from .js CJS', 'from tsc']);
  });

  it('names each file that did not load and why, and still loads the others', async () => {
    const good = tmp.write('bad/good.cjs', transformModule('cjs', `ctx.store('still served')`));
    const bad = {
      syntax: tmp.write('bad/syntax.cjs', 'module.exports = { oops: \n'),
      missing: path.join(tmp.dir, 'bad', 'missing.mjs'),
      number: tmp.write('bad/number.cjs', 'module.exports = 42;\n'),
      entry: tmp.write('bad/entry.mjs', `export default { 'example:x': { f: 'not a function' } };\n`),
      env: tmp.write('bad/env.cjs', `module.exports = { 'extism:host/env': { var_get: () => 0n } };\n`),
      own: tmp.write('bad/own.mjs', `export default { 'extism:host/user': { call_plugin: () => 0n } };\n`),
      throws: tmp.write('bad/throws.cjs', `throw new Error('cannot start: no database');\n`),
      noText: tmp.write('bad/notext.cjs', `throw Object.create(null);\n`),
      noDefault: tmp.write('bad/nodefault.mjs', `export const functions = {};\n`),
      extension: tmp.write('bad/module.ts', 'export default {};\n'),
    };
    const host = hostOf([good, ...Object.values(bad), 'relative.cjs']);
    const lines = (await loadError(host)).split('\n');
    const reasons: [string, RegExp][] = [
      [bad.syntax, /SyntaxError: /],
      [bad.missing, /^does not exist$/],
      [bad.number, /^its export is a number, not an object of the form \{ "<module>": \{ "<name>": \(callContext, \.\.\.params\) => result \} \} \(the SDK's createPlugin functions\)$/],
      [bad.entry, /^"example:x"\."f" is a string, not a function$/],
      [bad.env, /^"extism:host\/env"\."var_get": extism:host\/env is Extism's own \(memory, config, vars, logs, HTTP\) and cannot be overridden$/],
      [bad.own, /^"extism:host\/user"\."call_plugin": call_plugin is this host's own \(plugins spawn and call plugins through it\) and cannot be overridden$/],
      [bad.throws, /^Error: cannot start: no database$/],
      [bad.noText, /^it threw a value with no text of its own \(\[object Object\]\)$/],
      [bad.noDefault, /^has no default export/],
      [bad.extension, /^is not a \.js, \.mjs or \.cjs module$/],
      ['relative.cjs', /^is not an absolute path$/],
    ];
    assert.equal(lines.length, reasons.length, lines.join('\n'));
    reasons.forEach(([file, reason], i) => {
      const prefix = `host functions ${file} did not load: `;
      assert.ok(lines[i].startsWith(prefix), `line ${i}: ${lines[i]}`);
      assert.match(lines[i].slice(prefix.length), reason);
    });
    const p = await host.register(probe);
    assert.equal(text(await host.call(p.id, 'run', 'x')), 'still served');
    assert.deepEqual(p.hostFunctions, [{ import: 'extism:host/user.transform', file: good }]);
  });

  it('lets later files override earlier ones name by name', async () => {
    const first = tmp.write('override/first.cjs', transformModule('cjs', `ctx.store('first')`, `'example:load': { keep: (ctx) => ctx.store('kept from first'), cjs: (ctx) => ctx.store('first cjs') }`));
    const second = tmp.write('override/second.mjs', `export default ${loadFunction('cjs', 'second cjs')};\n`);
    const third = tmp.write('override/third.cjs', transformModule('cjs', `ctx.store('third')`));
    const host = hostOf([first, second, third]);
    const served = await host.hostFunctions();
    assert.deepEqual(served.map((s) => `${s.import} ${path.basename(s.file)}`).sort(), [
      'example:load.cjs second.mjs',
      'example:load.keep first.cjs',
      'extism:host/user.transform third.cjs',
    ]);
    const p = await host.register(probe);
    assert.equal(text(await host.call(p.id, 'run', 'x')), 'third');
    const l = await host.register(await importing(['keep', 'cjs']));
    assert.equal(text(await host.call(l.id, 'keep')), 'kept from first');
    assert.equal(text(await host.call(l.id, 'cjs')), 'second cjs');
  });

  for (const kind of ['cjs', 'esm'] as const) {
    it(`${kind}: loads a changed file again on configure, live plugins seeing it at their next call; an unchanged one keeps its state`, async () => {
      const file = path.join(tmp.dir, 'reload', `counter.${kind === 'cjs' ? 'cjs' : 'mjs'}`);
      const version = (v: string) => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, 'let n = 0;\n' + transformModule(kind, `ctx.store(${JSON.stringify(v)} + ' ' + ++n)`));
      };
      version('v1');
      const options = { hostFunctions: [file], pluginDirs: [pluginsDir] };
      const host = startHost(options);
      const p = await host.register(probe);
      assert.equal(text(await host.call(p.id, 'run', 'x')), 'v1 1');
      await host.configure(options);
      assert.equal(text(await host.call(p.id, 'run', 'x')), 'v1 2', 'an unchanged module is not evaluated again');
      version('v2 (changed)');
      await host.configure(options);
      assert.deepEqual(await host.hostFunctions(), [{ import: 'extism:host/user.transform', file }]);
      assert.equal(text(await host.call(p.id, 'run', 'x')), 'v2 (changed) 1', 'the live plugin calls the new function');
      await host.configure({ ...options, hostFunctions: [] });
      await rejects(
        host.call(p.id, 'run', 'x'),
        'PluginError',
        new RegExp(`^plugin #1 \\(probe\\)\\.run: host function extism:host/user\\.transform is no longer supplied by any host-function module \\(it was in ${file.replace(/[.()]/g, '\\$&')}\\)$`),
      );
      assert.deepEqual(host.plugins()[0].hostFunctions, [], 'the plugin no longer lists it');
    });
  }

  it('fails the load of a plugin whose imports no one supplies, saying where they come from and what did not load', async () => {
    const host = startHost({ pluginDirs: [pluginsDir] });
    await rejects(
      host.register(probe),
      'PluginError',
      /^register: "probe" imports the function "extism:host\/user"\."transform" \(i64\) -> i64, which no linked module, host function or binding supplies; give a module that supplies host functions \(HostOptions\.hostFunctions\), or bind the import to another plugin$/,
    );
    const broken = tmp.write('missing/kv-broken.mjs', 'export default {\n');
    const other = startHost({ hostFunctions: [broken], pluginDirs: [pluginsDir], hostFunctionsHint: 'add it to the list' });
    const error = await rejects(other.register('kv_counter'), 'PluginError', /^register: "kv_counter" imports functions no linked module, host function or binding supplies: /);
    for (const imp of ['"extism:host/user"."kv_read" (i64) -> i64', '"extism:host/user"."kv_write" (i64, i64) -> ()', '"example:math"."mult" (i64, i64) -> i64', '"example:math"."scale" (f64, i32) -> f64']) {
      assert.ok(error.message.includes(imp), `${imp} in ${error.message}`);
    }
    assert.ok(error.message.includes(`; add it to the list; host functions that did not load: ${broken} (SyntaxError: `), error.message);
    assert.deepEqual(other.plugins(), []);
    const echo = await other.register('echo');
    assert.equal(text(await other.call(echo.id, 'echo', 'usable')), 'usable');
  });

  it('gives two runtimes of one process each their own instance of a module (its state)', async () => {
    const a = startHost({ hostFunctions: [KV], pluginDirs: [pluginsDir] });
    const kvA = await a.register('kv_counter');
    await a.call(kvA.id, 'count_vowels', 'aaaaaaaaaa');
    const b = startHost({ hostFunctions: [KV], pluginDirs: [pluginsDir] });
    const kvB = await b.register('kv_counter');
    assert.equal(text(await b.call(kvB.id, 'count_vowels', 'Hello, World!')), '{"count":3,"total":3}');
    await a.restart();
    const again = await a.register('kv_counter');
    assert.equal(text(await a.call(again.id, 'count_vowels', 'Hello, World!')), '{"count":3,"total":3}', 'a restarted runtime starts afresh');
  });
});

describe('host-function modules: spawned plugins and the CLI', () => {
  fixtures();
  afterEach(closeHosts);

  for (const name of ['inProcess', 'childProcess'] as const) {
    it(`${name}: a plugin spawned by name gets the same host functions, and lists what serves its imports`, async () => {
      const context = tmp.write(`spawned/context-${name}.cjs`, transformModule('cjs', `ctx.store(JSON.stringify(ctx.hostContext()))`));
      const host = startHost({ hostFunctions: [KV, context], pluginDirs: [pluginsDir, tmp.dir], bindings: { kv_counter: { 'extism:host/user.kv_read': 'echo.echo' } } }, transports[name]);
      const launcher = await host.register('launcher');
      assert.deepEqual(launcher.hostFunctions, [], 'a plugin that imports none lists none');
      assert.equal(text(await host.call(launcher.id, 'spawn_call', 'kv_counter:arith:6 7')), '42 42.0');
      const spawned = host.plugins().find((p) => p.name === 'kv_counter');
      assert.equal(spawned?.parentId, launcher.id);
      assert.deepEqual(spawned?.hostFunctions.map((h) => `${h.import} ${h.file}`).sort(), [
        `example:math.mult ${KV}`,
        `example:math.scale ${KV}`,
        `extism:host/user.kv_write ${KV}`,
      ], 'kv_read is bound, so a binding serves it, not the module');
      const nested = await host.call(launcher.id, 'spawn_call', 'probe:run:x', 'api', { who: 'the top-level caller' });
      assert.equal(text(nested), '{"who":"the top-level caller"}', 'a nested call sees the host context of the call it is part of');
    });
  }

  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

  it('cli: --host-functions serves a call, repeatable with later files overriding; a bad file is exit 1 naming it', () => {
    const ok = run(['call', 'kv_counter', 'count_vowels', 'Hello, World!', '--host-functions', KV, '--trace']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, '{"count":3,"total":3}');
    assert.match(ok.stderr, /├─ #1 kv_counter -> host extism:host\/user\.kv_read {2}in 5 B, out 0 B, .*, ok\n└─ #1 kv_counter -> host extism:host\/user\.kv_write {2}in 6 B, out 0 B, .*, ok\n$/);
    const plus = tmp.write('cli/plus-one.cjs', `module.exports = { 'example:math': { mult: (_c, a, b) => a * b + 1n } };\n`);
    const both = run(['call', 'kv_counter', 'arith', '6 7', '--host-functions', path.relative(root, KV), '--host-functions', plus]);
    assert.equal(both.status, 0, both.stderr);
    assert.equal(both.stdout, '43 42.0');
    const broken = tmp.write('cli/broken.cjs', 'module.exports = 1;\n');
    const bad = run(['call', 'kv_counter', 'arith', '6 7', '--host-functions', KV, '--host-functions', broken]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, new RegExp(`^extism-ipc: PluginError: host functions ${broken.replace(/\./g, '\\.')} did not load: its export is a number, not an object`));
    assert.equal(bad.stderr.split('\n').filter(Boolean).length, 1, bad.stderr);
    const usage = run(['call', 'kv_counter', 'arith', '--host-functions', 'kv.ts']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--host-functions takes a \.js, \.mjs or \.cjs module, got "kv\.ts"/);
  });

  it('cli: extism-ipc test runs a call file whose "hostFunctions" serve its plugins', () => {
    const file = tmp.write('calls/kv.extism-calls.json', JSON.stringify({
      plugins: [path.relative(path.join(tmp.dir, 'calls'), pluginsDir)],
      hostFunctions: [path.relative(path.join(tmp.dir, 'calls'), KV)],
      calls: [
        { name: 'first', plugin: 'kv_counter', function: 'count_vowels', input: 'Hello, World!', expect: { json: { count: 3, total: 3 } } },
        { name: 'the store carries over', plugin: 'kv_counter', function: 'count_vowels', input: 'aeiou', expect: { json: { count: 5, total: 8 } } },
        { name: 'numbers', plugin: 'kv_counter', function: 'arith', input: '6 7', expect: { output: '42 42.0' } },
      ],
    }));
    const r = run(['test', file]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ first .*\n✓ the store carries over .*\n✓ numbers .*\n3 passed, 0 failed\n$/);
    const without = tmp.write('calls/none.extism-calls.json', JSON.stringify({ plugins: [pluginsDir], calls: [{ name: 'no modules', plugin: 'kv_counter', function: 'arith', input: '6 7' }] }));
    const refused = run(['test', without]);
    assert.equal(refused.status, 1);
    assert.match(refused.stdout, /✗ no modules: .*list a module that supplies host functions in the call file's "hostFunctions"/);
  });
});
