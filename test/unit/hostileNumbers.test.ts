import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizePolicy, PluginHost, PolicyOptions } from '../../src/core';
import { parseManifest } from '../../src/core/model/manifest';
import { cli, closeHosts, rejects, root, startHost, text } from './helpers';
import { removeTempDirs, tempDir } from './hostileInput';

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, timeout: 10_000 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

describe('hostile numbers: every limit is a whole number in its range', () => {
  afterEach(async () => {
    await closeHosts();
    removeTempDirs();
  });

  it('a call timeout above 2^31-1 ms is refused by name, from the policy, a manifest and load options', async () => {
    assert.throws(() => normalizePolicy({ callTimeoutMs: 2 ** 31 }), /^PolicyError: policy: callTimeoutMs must be a whole number in \[0, 2147483647\], got 2147483648$/);
    const dir = tempDir();
    const manifest = path.join(dir, 'slow.json');
    fs.writeFileSync(manifest, JSON.stringify({ wasm: [{ path: path.join(root, 'plugins', 'echo.wasm') }], timeout_ms: 2 ** 31 }));
    const host = startHost();
    await rejects(host.register(manifest), 'PluginError', /slow\.json: timeout_ms must be a whole number in \[0, 2147483647\], got 2147483648$/);
    await rejects(host.register('echo', { timeoutMs: 2 ** 40 }), 'PolicyError', /load options: timeoutMs must be a whole number in \[0, 2147483647\]/);
    // the largest timeout there is still works
    const echo = await host.register('echo', { timeoutMs: 2 ** 31 - 1 });
    assert.equal(text(await host.call(echo.id, 'echo', 'hi')), 'hi');
    await host.configure({ callTimeoutMs: 2 ** 31 - 1 });
    assert.equal(text(await host.call(echo.id, 'echo', 'again')), 'again');
  });

  it('the trace limit is a whole number in its range too, at construction and on configure', async () => {
    for (const bad of [0, -5, 2.5, NaN, 1e12, '100']) {
      assert.throws(() => new PluginHost({ maxTraceRecords: bad as number }), /^PolicyError: maxTraceRecords must be a whole number in \[1, 10000000\], got /);
    }
    const host = startHost({ maxTraceRecords: 5 });
    await assert.rejects(host.configure({ maxTraceRecords: -1 }), /maxTraceRecords must be a whole number/);
    const echo = await host.register('echo');
    for (let i = 0; i < 8; i++) await host.call(echo.id, 'echo', String(i));
    assert.equal(host.trace.spans().length, 5, 'the limit that was refused did not replace the one in force');
  });

  it('negative, fractional, NaN, Infinity, string and null numbers are refused in the policy', () => {
    const fields: (keyof PolicyOptions)[] = ['maxPlugins', 'maxCallDepth', 'callTimeoutMs', 'memoryMaxPages', 'maxMessageBytes', 'maxSpawnPerPlugin', 'maxVarBytes', 'maxHttpResponseBytes', 'maxModuleBytes'];
    let cases = 0;
    for (const field of fields) {
      for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, '10', null, true, {}, [], 2 ** 53]) {
        assert.throws(() => normalizePolicy({ [field]: bad } as PolicyOptions), new RegExp(`^PolicyError: policy: ${field} must be a whole number in \\[`), `${field} = ${String(bad)}`);
        cases++;
      }
    }
    assert.equal(cases, fields.length * 11);
    assert.equal(normalizePolicy({ memoryMaxPages: 100_000 }).memoryMaxPages, 65536, 'clamped, as documented');
    assert.equal(normalizePolicy({ maxModuleBytes: 2 ** 30 }).maxModuleBytes, 2 ** 30);
    assert.throws(() => normalizePolicy({ maxModuleBytes: 2 ** 30 + 1 }), /maxModuleBytes must be a whole number in \[1, 1073741824\]/);
  });

  it('manifest memory limits and timeout_ms: refused when not whole numbers in range', () => {
    const wasm = [{ data: 'AGFzbQEAAAA=' }];
    const bad: [string, object, RegExp][] = [
      ['timeout_ms -1', { timeout_ms: -1 }, /timeout_ms must be a whole number in \[0, 2147483647\], got -1/],
      ['timeout_ms "5"', { timeout_ms: '5' }, /timeout_ms must be a whole number .* got "5"/],
      ['max_pages 1.5', { memory: { max_pages: 1.5 } }, /memory\.max_pages must be a whole number in \[0, 4294967295\], got 1\.5/],
      ['max_pages 2^32', { memory: { max_pages: 2 ** 32 } }, /memory\.max_pages .* got 4294967296/],
      ['max_var_bytes 1e300', { memory: { max_var_bytes: 1e300 } }, /memory\.max_var_bytes must be a whole number/],
      ['max_http_response_bytes []', { memory: { max_http_response_bytes: [] } }, /memory\.max_http_response_bytes .* got \[\]/],
    ];
    for (const [what, fields, message] of bad) {
      assert.throws(() => parseManifest('/m.json', JSON.stringify({ wasm, ...fields })), (e: Error) => e.name === 'PluginError' && message.test(e.message) && e.message.startsWith('manifest /m.json: '), what);
    }
    // 1e21 in JSON is a whole number too big for a timer
    assert.throws(() => parseManifest('/m.json', `{"wasm": [{"data": "AGFzbQEAAAA="}], "timeout_ms": 1e21}`), /timeout_ms must be a whole number in \[0, 2147483647\], got 1e\+21/);
  });

  it('inline data over maxModuleBytes names the field', () => {
    const data = Buffer.alloc(3000).toString('base64');
    assert.throws(() => parseManifest('/m.json', JSON.stringify({ wasm: [{ data }] }), 2048), /^PluginError: manifest \/m\.json: wasm\[0\]\.data is 2\.9 KiB, over the limit of 2 KiB \(maxModuleBytes\)$/);
  });

  it('cli: numeric flags take digits only, within the range of what they set', () => {
    const cases: [string[], RegExp][] = [
      [['--timeout', '2147483648'], /--timeout must be a whole number in \[0, 2147483647\], got 2147483648/],
      [['--timeout-ms=-5'], /--timeout-ms must be a whole number .* got "-5"/],
      [['--timeout', ''], /--timeout must be a whole number .* got ""/],
      [['--max-depth', '1e3'], /--max-depth must be a whole number in \[1, 1000\], got "1e3"/],
      [['--max-plugins', '0x10'], /--max-plugins must be a whole number .* got "0x10"/],
      [['--memory-max', '1.5'], /--memory-max must be a whole number .* got "1\.5"/],
      [['--max-module-bytes', '0'], /--max-module-bytes must be a whole number in \[1, 1073741824\], got 0/],
      [['--loop', '0'], /--loop must be a whole number in \[1, 1000000\], got 0/],
    ];
    for (const [flags, message] of cases) {
      const r = runCli(['call', 'echo', 'echo', 'x', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /RangeError|TypeError/);
    }
    const ok = runCli(['call', 'echo', 'echo', 'x', '--timeout', '2147483647', '--max-module-bytes', '1073741824']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'x');
  });

  it('cli: --input-file refuses a FIFO, a device and a directory before reading', () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [file, why] of [
      [fifo, /--input-file .*in\.fifo: is not a regular file/],
      ['/dev/zero', /--input-file \/dev\/zero: is not a regular file/],
      [dir, /is not a regular file/],
    ] as const) {
      const started = Date.now();
      const r = runCli(['call', 'echo', 'echo', '--input-file', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.ok(Date.now() - started < 5000);
    }
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, 'from a file');
    assert.equal(runCli(['call', 'echo', 'echo', '--input-file', input]).stdout, 'from a file');
  });

  it('cli: --max-module-bytes refuses a module over it, naming the file and the limit', () => {
    const r = runCli(['call', 'count_vowels', 'count_vowels', 'a', '--max-module-bytes', '100']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /count_vowels\.wasm is .* KiB, over the limit of 100 bytes \(maxModuleBytes\)/);
  });
});
