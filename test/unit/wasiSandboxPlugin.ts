// A test plugin that does one WASI file operation per call, as the test asks, and reports the
// errno: `run` takes a command (a header of little-endian numbers, then up to three byte strings)
// and outputs errno (u32), a value (u32: an fd, a stage) and, for reads, the bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PluginHost } from '../../src/core';
import { assemble, ENV_IMPORTS, writeModule } from './wat';

export const Op = {
  read: 1,
  write: 2,
  filestat: 3,
  setTimes: 4,
  readlink: 5,
  symlink: 6,
  link: 7,
  rename: 8,
  unlink: 9,
  mkdir: 10,
  rmdir: 11,
  open: 12,
  close: 13,
  renumber: 14,
  setSize: 15,
  fdSetTimes: 16,
  fdWrite: 17,
  fdRead: 18,
  rawOpen: 19,
} as const;

export const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const FOLLOW = 1;
export const APPEND = 1;
const ALL = (1n << 27n) - 1n;
/** Rights; DIR is every right but those that make Node open for writing (a directory cannot be). */
export const R = { READ: 1n << 1n, SEEK: 1n << 2n, WRITE: 1n << 6n, ALL, DIR: ALL & ~((1n << 0n) | (1n << 6n) | (1n << 8n) | (1n << 22n)) } as const;
export const E = { SUCCESS: 0, BADF: 8, EXIST: 20, FAULT: 21, ILSEQ: 25, INVAL: 28, ISDIR: 31, LOOP: 32, NOENT: 44, NOTCAPABLE: 76, NOTDIR: 54, NOTEMPTY: 55, PERM: 63, XDEV: 75 } as const;

export interface Command {
  op: number;
  fd?: number;
  flags?: number;
  oflags?: number;
  fdflags?: number;
  fd2?: number;
  rightsBase?: bigint;
  rightsInheriting?: bigint;
  path?: string | Uint8Array;
  path2?: string | Uint8Array;
  data?: string | Uint8Array;
}

export interface Result {
  errno: number;
  value: number;
  data: Buffer;
}

const bytesOf = (v: string | Uint8Array | undefined) => (v === undefined ? Buffer.alloc(0) : Buffer.from(v));

export function encodeCommand(c: Command): Buffer {
  const [p1, p2, p3] = [bytesOf(c.path), bytesOf(c.path2), bytesOf(c.data)];
  const head = Buffer.alloc(52);
  head.writeUInt32LE(c.op, 0);
  head.writeUInt32LE(c.fd ?? 3, 4);
  head.writeUInt32LE(c.flags ?? 0, 8);
  head.writeUInt32LE(c.oflags ?? 0, 12);
  head.writeUInt32LE(c.fdflags ?? 0, 16);
  head.writeUInt32LE(c.fd2 ?? c.fd ?? 3, 20);
  head.writeBigUInt64LE(c.rightsBase ?? R.ALL, 24);
  head.writeBigUInt64LE(c.rightsInheriting ?? R.ALL, 32);
  head.writeUInt32LE(p1.length, 40);
  head.writeUInt32LE(p2.length, 44);
  head.writeUInt32LE(p3.length, 48);
  return Buffer.concat([head, p1, p2, p3]);
}

export async function run(host: PluginHost, id: number, c: Command): Promise<Result> {
  const out = Buffer.from(await host.call(id, 'run', encodeCommand(c)));
  return { errno: out.readUInt32LE(0), value: out.readUInt32LE(4), data: out.subarray(8) };
}

const IMPORT = (name: string, params: string) => `(import "wasi_snapshot_preview1" "${name}" (func $${name} (param ${params}) (result i32)))`;

// memory: 0x100 the fd written by path_open, 0x110 an iovec, 0x120 a count; 0x1000 the output
// (errno, value, then up to 64 KiB of data); 0x40000 the command
const WAT = `(module
  ${ENV_IMPORTS}
  ${IMPORT('path_open', 'i32 i32 i32 i32 i32 i64 i64 i32 i32')}
  ${IMPORT('path_filestat_get', 'i32 i32 i32 i32 i32')}
  ${IMPORT('path_filestat_set_times', 'i32 i32 i32 i32 i64 i64 i32')}
  ${IMPORT('path_readlink', 'i32 i32 i32 i32 i32 i32')}
  ${IMPORT('path_symlink', 'i32 i32 i32 i32 i32')}
  ${IMPORT('path_link', 'i32 i32 i32 i32 i32 i32 i32')}
  ${IMPORT('path_rename', 'i32 i32 i32 i32 i32 i32')}
  ${IMPORT('path_unlink_file', 'i32 i32 i32')}
  ${IMPORT('path_create_directory', 'i32 i32 i32')}
  ${IMPORT('path_remove_directory', 'i32 i32 i32')}
  ${IMPORT('fd_read', 'i32 i32 i32 i32')}
  ${IMPORT('fd_write', 'i32 i32 i32 i32')}
  ${IMPORT('fd_close', 'i32')}
  ${IMPORT('fd_renumber', 'i32 i32')}
  ${IMPORT('fd_filestat_set_size', 'i32 i64')}
  ${IMPORT('fd_filestat_set_times', 'i32 i64 i64 i32')}
  (memory (export "memory") 8)
  (global $total (mut i32) (i32.const 0))

  (func $finish (param $errno i32) (param $value i32) (param $len i32) (result i32)
    (local $n i64) (local $blk i64) (local $i i64)
    (i32.store (i32.const 0x1000) (local.get $errno))
    (i32.store (i32.const 0x1004) (local.get $value))
    (local.set $n (i64.extend_i32_u (i32.add (local.get $len) (i32.const 8))))
    (local.set $blk (call $alloc (local.get $n)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $blk) (local.get $i)) (i32.load8_u (i32.add (i32.const 0x1000) (i32.wrap_i64 (local.get $i)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (call $output_set (local.get $blk) (local.get $n))
    (i32.const 0))

  ;; reads the fd to its end (at most 64 KiB) into the output; the count in $total
  (func $read_all (param $fd i32) (result i32) (local $e i32) (local $n i32)
    (global.set $total (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (global.get $total) (i32.const 0x10000)))
      (i32.store (i32.const 0x110) (i32.add (i32.const 0x1008) (global.get $total)))
      (i32.store (i32.const 0x114) (i32.sub (i32.const 0x10000) (global.get $total)))
      (local.set $e (call $fd_read (local.get $fd) (i32.const 0x110) (i32.const 1) (i32.const 0x120)))
      (br_if $done (local.get $e))
      (local.set $n (i32.load (i32.const 0x120)))
      (br_if $done (i32.eqz (local.get $n)))
      (global.set $total (i32.add (global.get $total) (local.get $n)))
      (br $next)))
    (local.get $e))

  (func $write_all (param $fd i32) (param $p i32) (param $len i32) (result i32)
    (i32.store (i32.const 0x110) (local.get $p))
    (i32.store (i32.const 0x114) (local.get $len))
    (call $fd_write (local.get $fd) (i32.const 0x110) (i32.const 1) (i32.const 0x120)))

  (func (export "run") (result i32)
    (local $i i64) (local $n i64) (local $op i32) (local $fd i32) (local $flags i32) (local $oflags i32)
    (local $fdflags i32) (local $fd2 i32) (local $rb i64) (local $ri i64)
    (local $p1 i32) (local $l1 i32) (local $p2 i32) (local $l2 i32) (local $p3 i32) (local $l3 i32)
    (local $e i32) (local $opened i32)
    (local.set $n (call $input_length))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 0x40000) (i32.wrap_i64 (local.get $i))) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (local.set $op (i32.load (i32.const 0x40000)))
    (local.set $fd (i32.load (i32.const 0x40004)))
    (local.set $flags (i32.load (i32.const 0x40008)))
    (local.set $oflags (i32.load (i32.const 0x4000c)))
    (local.set $fdflags (i32.load (i32.const 0x40010)))
    (local.set $fd2 (i32.load (i32.const 0x40014)))
    (local.set $rb (i64.load (i32.const 0x40018)))
    (local.set $ri (i64.load (i32.const 0x40020)))
    (local.set $l1 (i32.load (i32.const 0x40028)))
    (local.set $l2 (i32.load (i32.const 0x4002c)))
    (local.set $l3 (i32.load (i32.const 0x40030)))
    (local.set $p1 (i32.const 0x40034))
    (local.set $p2 (i32.add (local.get $p1) (local.get $l1)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $l2)))

    (if (i32.or (i32.eq (local.get $op) (i32.const 1)) (i32.or (i32.eq (local.get $op) (i32.const 2)) (i32.eq (local.get $op) (i32.const 12))))
      (then
        (local.set $e (call $path_open (local.get $fd) (local.get $flags) (local.get $p1) (local.get $l1) (local.get $oflags)
          (local.get $rb) (local.get $ri) (local.get $fdflags) (i32.const 0x100)))
        (if (local.get $e) (then (return (call $finish (local.get $e) (i32.const 0) (i32.const 0)))))
        (local.set $opened (i32.load (i32.const 0x100)))
        (if (i32.eq (local.get $op) (i32.const 12)) (then (return (call $finish (i32.const 0) (local.get $opened) (i32.const 0)))))
        (if (i32.eq (local.get $op) (i32.const 1))
          (then (local.set $e (call $read_all (local.get $opened))))
          (else (global.set $total (i32.const 0)) (local.set $e (call $write_all (local.get $opened) (local.get $p3) (local.get $l3)))))
        (drop (call $fd_close (local.get $opened)))
        (return (call $finish (local.get $e) (i32.const 1) (global.get $total)))))
    (if (i32.eq (local.get $op) (i32.const 3)) (then
      (return (call $finish (call $path_filestat_get (local.get $fd) (local.get $flags) (local.get $p1) (local.get $l1) (i32.const 0x1008)) (i32.const 0) (i32.const 64)))))
    (if (i32.eq (local.get $op) (i32.const 4)) (then
      (return (call $finish (call $path_filestat_set_times (local.get $fd) (local.get $flags) (local.get $p1) (local.get $l1) (i64.const 0) (i64.const 0) (local.get $oflags)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 5)) (then
      (i32.store (i32.const 0x120) (i32.const 0))
      (local.set $e (call $path_readlink (local.get $fd) (local.get $p1) (local.get $l1) (i32.const 0x1008) (i32.const 4096) (i32.const 0x120)))
      (return (call $finish (local.get $e) (i32.const 0) (i32.load (i32.const 0x120))))))
    (if (i32.eq (local.get $op) (i32.const 6)) (then
      (return (call $finish (call $path_symlink (local.get $p1) (local.get $l1) (local.get $fd) (local.get $p2) (local.get $l2)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 7)) (then
      (return (call $finish (call $path_link (local.get $fd) (local.get $flags) (local.get $p1) (local.get $l1) (local.get $fd2) (local.get $p2) (local.get $l2)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 8)) (then
      (return (call $finish (call $path_rename (local.get $fd) (local.get $p1) (local.get $l1) (local.get $fd2) (local.get $p2) (local.get $l2)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 9)) (then
      (return (call $finish (call $path_unlink_file (local.get $fd) (local.get $p1) (local.get $l1)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 10)) (then
      (return (call $finish (call $path_create_directory (local.get $fd) (local.get $p1) (local.get $l1)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 11)) (then
      (return (call $finish (call $path_remove_directory (local.get $fd) (local.get $p1) (local.get $l1)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 13)) (then
      (return (call $finish (call $fd_close (local.get $fd)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 14)) (then
      (return (call $finish (call $fd_renumber (local.get $fd) (local.get $fd2)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 15)) (then
      (return (call $finish (call $fd_filestat_set_size (local.get $fd) (local.get $rb)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 16)) (then
      (return (call $finish (call $fd_filestat_set_times (local.get $fd) (i64.const 0) (i64.const 0) (local.get $oflags)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 17)) (then
      (return (call $finish (call $write_all (local.get $fd) (local.get $p3) (local.get $l3)) (i32.const 0) (i32.const 0)))))
    (if (i32.eq (local.get $op) (i32.const 18)) (then
      (local.set $e (call $read_all (local.get $fd)))
      (return (call $finish (local.get $e) (i32.const 0) (global.get $total)))))
    (if (i32.eq (local.get $op) (i32.const 19)) (then
      ;; path pointer and length from the rights fields, the fd out pointer from fd2
      (return (call $finish (call $path_open (local.get $fd) (local.get $flags) (i32.wrap_i64 (local.get $rb)) (i32.wrap_i64 (local.get $ri))
        (local.get $oflags) (i64.const 2) (i64.const 0) (local.get $fdflags) (local.get $fd2)) (i32.const 0) (i32.const 0)))))
    (call $finish (i32.const 52) (i32.const 0) (i32.const 0)))
)`;

let file: string | undefined;

/** The plugin's module file, assembled once per process. */
export async function sandboxPlugin(): Promise<string> {
  file ??= writeModule('wasi_files', await assemble(WAT));
  return file;
}

export function removeSandboxPlugin(): void {
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  file = undefined;
}
