import * as assert from 'node:assert/strict';
import type { LogEntry } from '../../src/core';
import { closeHosts, startHost, text } from './helpers';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

/**
 * A plugin that logs without end must not flood the host: a message is cut at 64 KiB with a note,
 * a top-level call logs at most 1 MiB and then one line says how much was dropped; WASI stdout and
 * stderr go the same way, and a line that never ends is cut too.
 */
const MiB = 1024 * 1024;
const KiB = 1024;

const WAT = `(module
  ${ENV_IMPORTS}
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 40)
  ;; one Extism block of n bytes of "x", logged count times (count and n from the input: two u64s)
  (func (export "flood") (result i32) (local $n i64) (local $count i64) (local $p i64) (local $i i64)
    (local.set $count (call $input_load_u64 (i64.const 0)))
    (local.set $n (call $input_load_u64 (i64.const 8)))
    (local.set $p (call $alloc (local.get $n)))
    (block $done (loop $fill
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $p) (local.get $i)) (i32.const 0x78))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $fill)))
    (local.set $i (i64.const 0))
    (block $done (loop $log
      (br_if $done (i64.ge_u (local.get $i) (local.get $count)))
      (call $log_warn (local.get $p))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $log)))
    (i32.const 0))
  ;; stdout: count writes of n bytes of "x" (its own memory, from 1024), no newline until the last
  (func (export "stdout_flood") (result i32) (local $n i32) (local $count i32) (local $i i32)
    (local.set $count (i32.wrap_i64 (call $input_load_u64 (i64.const 0))))
    (local.set $n (i32.wrap_i64 (call $input_load_u64 (i64.const 8))))
    (block $done (loop $fill
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (i32.const 0x78))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $fill)))
    (local.set $i (i32.const 0))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (local.get $n))
    (block $done (loop $write
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $write)))
    (i32.store8 (i32.const 1024) (i32.const 10))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.const 0))
  ;; fd_write with an iovec pointing past its memory: the errno, as one byte of output
  (func (export "stdout_bad_iovec") (result i32) (local $p i64)
    (i32.store (i32.const 0) (i32.const 0xfffffff0))
    (i32.store (i32.const 4) (i32.const 64))
    (local.set $p (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $p) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $output_set (local.get $p) (i64.const 1))
    (i32.const 0))
)`;

function args(count: number, bytes: number): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(count), 0);
  b.writeBigUInt64LE(BigInt(bytes), 8);
  return b;
}

describe('log floods', () => {
  let file: string;
  before(async () => {
    file = writeModule('flood', await assemble(WAT));
  });
  afterEach(closeHosts);

  async function run(func: string, input: Uint8Array): Promise<{ logs: LogEntry[]; output: Uint8Array }> {
    const host = startHost({ logLevel: 'info' });
    const logs: LogEntry[] = [];
    host.onLog((e) => logs.push(e));
    const p = await host.register(file, { wasi: true });
    const output = await host.call(p.id, func, input);
    await host.plugins(); // one more round trip: the call's events are in
    return { logs, output };
  }

  it('cuts a 4 MiB message at 64 KiB with a note, and stops a call at 1 MiB of logs with one line saying how much was dropped', async () => {
    const { logs } = await run('flood', args(40, 4 * MiB));
    const total = logs.reduce((n, e) => n + e.message.length, 0);
    assert.ok(total <= MiB + 1024, `logged ${total} characters`);
    const cut = logs.filter((e) => e.message.startsWith('x'));
    for (const e of cut) {
      assert.equal(e.message.indexOf('…'), 64 * KiB);
      assert.match(e.message, new RegExp(`… \\(${4 * MiB - 64 * KiB} more bytes cut; a log message is limited to 64 KiB\\)$`));
    }
    const summary = logs.filter((e) => !e.message.startsWith('x'));
    assert.equal(summary.length, 1, 'one line about what was dropped');
    assert.match(summary[0].message, new RegExp(`^${40 - cut.length} log messages \\(\\d+ characters\\) dropped: a call may log 1 MiB$`));
    assert.equal(summary[0].level, 'warn');
    assert.ok(cut.length >= 10 && cut.length < 40);
  });

  it('gives each top-level call its own budget', async () => {
    const host = startHost({ logLevel: 'info' });
    const logs: LogEntry[] = [];
    host.onLog((e) => logs.push(e));
    const p = await host.register(file, { wasi: true });
    await host.call(p.id, 'flood', args(40, 64 * KiB));
    await host.call(p.id, 'flood', args(3, 10));
    await host.plugins();
    assert.deepEqual(logs.slice(-3).map((e) => e.message), ['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx']);
    assert.equal(logs.filter((e) => /dropped/.test(e.message)).length, 1);
  });

  it('bounds WASI stdout: a line that never ends is cut at 64 KiB, however much is written', async () => {
    const { logs } = await run('stdout_flood', args(200, 100 * KiB));
    assert.equal(logs.length, 1);
    assert.match(logs[0].message, new RegExp(`^\\[stdout\\] x{${64 * KiB}}… \\(${200 * 100 * KiB - 64 * KiB} more bytes cut; a line is limited to 64 KiB\\)$`));
  });

  it('WASI fd_write with an iovec outside the plugin memory gives EFAULT, not a raw error', async () => {
    const { output } = await run('stdout_bad_iovec', new Uint8Array(0));
    assert.deepEqual([...output], [21]);
  });

  it('a plugin flooding its logs leaves the host answering', async () => {
    const host = startHost({ logLevel: 'info' });
    const p = await host.register(file, { wasi: true });
    const echo = await host.register('echo');
    await host.call(p.id, 'flood', args(100, MiB));
    assert.equal(text(await host.call(echo.id, 'echo', 'ok')), 'ok');
  });
});

describe('AssemblyScript abort messages', () => {
  afterEach(closeHosts);

  // env.abort(message, file, line, column): strings in the plugin's own memory, a u32 byte length before each
  const ABORT_WAT = `(module
    (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
    (memory (export "memory") 40)
    (data (i32.const 16) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")
    (data (i32.const 64) "\\08\\00\\00\\00a\\00.\\00t\\00s\\00")
    ;; a message claiming 2 MiB: the bytes after it are whatever memory holds
    (func (export "short") (result i32) (call $abort (i32.const 20) (i32.const 68) (i32.const 3) (i32.const 7)) (i32.const 0))
    (func (export "huge") (result i32) (local $i i32)
      (i32.store (i32.const 1024) (i32.const 0x200000))
      (block $done (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (i32.const 0x200000)))
        (i32.store8 (i32.add (i32.const 1028) (local.get $i)) (i32.const 0x41))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
      (call $abort (i32.const 1028) (i32.const 68) (i32.const 1) (i32.const 1)) (i32.const 0)))`;

  it('names the message and place, and cuts a message of megabytes at 64 KiB', async () => {
    const file = writeModule('as_abort', await assemble(ABORT_WAT));
    const host = startHost();
    const p = await host.register(file);
    await assert.rejects(host.call(p.id, 'short'), /as_abort\) aborted: boom at a\.ts:3:7$/);
    const error = await host.call(p.id, 'huge').then(() => undefined, (e: Error) => e);
    assert.ok(error, 'the abort fails the call');
    assert.match(error.message, /aborted: (䅁){32768}… \(2031616 more bytes cut\) at a\.ts/);
    assert.ok(error.message.length < 40_000, `${error.message.length} characters`);
  });
});
