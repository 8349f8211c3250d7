import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHosts, pluginsDir, rejects, startHost, text, transports } from './helpers';
import { assemble, writeModule } from './wat';

/**
 * A plugin whose `_initialize` makes an HTTP request (it waits at most what is left of its time
 * limit) and keeps the response body in the var "body"; `body` outputs it.
 */
async function httpAtStartUp(url: string): Promise<string> {
  const request = JSON.stringify({ url, method: 'GET' });
  return writeModule('http_init', await assemble(`(module
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "length" (func $length (param i64) (result i64)))
    (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
    (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
    (import "extism:host/env" "http_request" (func $http (param i64 i64) (result i64)))
    (memory (export "memory") 1)
    (data (i32.const 0) "body")
    (data (i32.const 16) "${request.replace(/"/g, '\\"')}")
    (func $block (param $at i32) (param $n i32) (result i64) (local $p i64) (local $i i32)
      (local.set $p (call $alloc (i64.extend_i32_u (local.get $n))))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $p) (i64.extend_i32_u (local.get $i))) (i32.load8_u (i32.add (local.get $at) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $p))
    (func (export "_initialize")
      (call $var_set (call $block (i32.const 0) (i32.const 4)) (call $http (call $block (i32.const 16) (i32.const ${request.length})) (i64.const 0))))
    (func (export "body") (result i32) (local $p i64)
      (local.set $p (call $var_get (call $block (i32.const 0) (i32.const 4))))
      (call $output_set (local.get $p) (call $length (local.get $p)))
      (i32.const 0)))`));
}

describe('start-up gets a time limit of its own', () => {
  let server: http.Server;
  let url: string;
  let requests = 0;
  before(async () => {
    // answers after 100 ms: a request with 1 ms left cannot get its answer
    server = http.createServer((_req, res) => {
      requests++;
      setTimeout(() => res.end('hello from the server'), 100);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());
  afterEach(closeHosts);

  // the first request starts the helper thread, which can take a second on a busy machine: each
  // test makes one under a generous limit, then narrows the limit
  const options = { allowedHosts: ['127.0.0.1'], pluginDirs: [pluginsDir] };

  it('a plugin registered after a call that timed out makes HTTP in its _initialize under a fresh limit', async () => {
    // the server answers on this thread, which an in-process runtime would block while it waits
    const host = startHost({ ...options, callTimeoutMs: 20_000 }, transports.worker);
    const file = await httpAtStartUp(url);
    await host.register(file);
    await host.configure({ ...options, callTimeoutMs: 1000 });
    const loop = await host.register('loop');
    await rejects(host.call(loop.id, 'spin'), 'TimeoutError', /timed out after 1000 ms/);
    const before = requests;
    const p = await host.register(file);
    assert.equal(requests, before + 1);
    assert.equal(text(await host.call(p.id, 'body')), 'hello from the server');
  });

  it('so does one registered or reloaded after a call that succeeded, long after its deadline passed', async () => {
    const host = startHost({ ...options, callTimeoutMs: 20_000 }, transports.worker);
    const file = await httpAtStartUp(url);
    await host.register(file);
    await host.configure({ ...options, callTimeoutMs: 1000 });
    const loop = await host.register('loop');
    assert.equal(text(await host.call(loop.id, 'ok')), 'ok');
    await new Promise((r) => setTimeout(r, 1100));
    const p = await host.register(file);
    assert.equal(text(await host.call(p.id, 'body')), 'hello from the server');
    await new Promise((r) => setTimeout(r, 1100));
    await host.reload(p.id);
    assert.equal(text(await host.call(p.id, 'body')), 'hello from the server');
  });

  it('a start-up whose HTTP outlasts its own limit fails register as a timeout of its start-up', async () => {
    const host = startHost({ ...options, callTimeoutMs: 50 }, transports.worker);
    await rejects(host.register(await httpAtStartUp(url)), 'TimeoutError', /^register: plugin #1 \(http_init\) did not finish starting within 50 ms \(callTimeoutMs\)$/);
  });
});
