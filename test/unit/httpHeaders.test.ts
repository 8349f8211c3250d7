import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import createPlugin from '@extism/extism';
import type { HostOptions, LoadOptions } from '../../src/core';
import { cli, closeHosts, rejects, startHost, text, transports, wasm } from './helpers';

/** http_get's `headers` export: the response headers http_headers gives it, or "none". */
describe('http_headers: response headers reach a plugin only when enabled, as in Extism', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    server = http.createServer((_req, res) => {
      res.sendDate = false; // the same headers for every request, so two hosts can be compared
      res.setHeader('x-reply', 'yes');
      res.setHeader('content-type', 'text/plain');
      res.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());
  afterEach(closeHosts);

  // the server answers on this thread, which an in-process runtime blocks while it waits
  async function ours(options: HostOptions, load: LoadOptions = {}): Promise<string> {
    const host = startHost({ allowedHosts: ['127.0.0.1'], ...options }, transports.worker);
    const p = await host.register('http_get', load);
    return text(await host.call(p.id, 'headers', url));
  }

  async function reference(allowHttpResponseHeaders: boolean): Promise<string> {
    const manifest = { wasm: [{ data: fs.readFileSync(wasm('http_get')) }] };
    const sdk = await createPlugin(manifest, { useWasi: false, runInWorker: true, allowedHosts: ['127.0.0.1'], allowHttpResponseHeaders });
    try {
      return (await sdk.call('headers', url))?.text() ?? '';
    } finally {
      await sdk.close();
    }
  }

  it('gives none by default, the same bytes as @extism/extism', async () => {
    const expected = await reference(false);
    assert.equal(expected, 'none');
    assert.equal(await ours({}), expected);
  });

  it('gives the headers when the policy or the load options enable them, the same bytes as @extism/extism', async () => {
    const expected = await reference(true);
    assert.equal(JSON.parse(expected)['x-reply'], 'yes');
    assert.equal(await ours({ httpResponseHeaders: true }), expected);
    assert.equal(await ours({}, { httpResponseHeaders: true }), expected);
  });

  it('shows the grant in the plugin info, and refuses an option that is not true or false', async () => {
    const host = startHost({ allowedHosts: ['127.0.0.1'] });
    assert.equal((await host.register('http_get')).grants.httpResponseHeaders, false);
    assert.equal((await host.register('http_get', { httpResponseHeaders: true })).grants.httpResponseHeaders, true);
    await rejects(host.register('http_get', { httpResponseHeaders: 'yes' as unknown as boolean }), 'PolicyError', /^load options: httpResponseHeaders must be true or false, got "yes"$/);
    assert.throws(() => startHost({ httpResponseHeaders: 1 as unknown as boolean }), { name: 'PolicyError', message: 'policy: httpResponseHeaders must be true or false, got 1' });
  });

  it('CLI: --enable-http-response-headers turns them on, as in extism call', async () => {
    const run = (...flags: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        // spawnSync would block this thread, where the server answers: run the CLI asynchronously
        const child = spawn(process.execPath, [cli, 'call', wasm('http_get'), 'headers', url, '--allow-host', '127.0.0.1', ...flags]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c));
        child.stderr.on('data', (c: Buffer) => (stderr += c));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const off = await run();
    assert.equal(off.status, 0, off.stderr);
    assert.equal(off.stdout, 'none');
    const on = await run('--enable-http-response-headers');
    assert.equal(on.status, 0, on.stderr);
    assert.equal(JSON.parse(on.stdout)['x-reply'], 'yes');
  });
});
