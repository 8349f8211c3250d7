// imports: wasi
//
// wasi_clock: a plugin that needs WASI (wasi_snapshot_preview1); the host must grant it
// (a host without WASI must refuse to run it). Imports, besides extism:host/env:
//   wasi_snapshot_preview1.fd_write, clock_time_get, random_get, fd_prestat_get,
//   fd_prestat_dir_name, path_open, fd_read, fd_close.
// All WASI buffers (iovecs, results) are in this module's own linear memory.
//
// export hello(): input ignored. fd_write(1, "hello from wasi\n") (stdout) and
//   fd_write(2, "warning from wasi\n") (stderr), then clock_time_get(0 = realtime,
//   precision 1) and outputs {"ok":true,"time_ns":<u64 decimal>}, e.g.
//   {"ok":true,"time_ns":1790000000123456789}.
//   Errors (return 1): "hello: fd_write errno <n>", "hello: clock_time_get errno <n>".
// export random(): input ignored. random_get of 16 bytes; outputs them as 32 lowercase
//   hex chars, e.g. "3f09c2...". Error: "random: random_get errno <n>".
// export read_file(): input = a guest path under the first preopened dir (fd 3), e.g.
//   "/data/hello.txt" when the host maps guest "/data" to a host directory. Learns the
//   guest dir name with fd_prestat_get(3) / fd_prestat_dir_name(3), strips it (a path
//   without a leading '/' is taken as relative already), then
//   path_open(3, dirflags 0, rel, oflags 0, rights FD_READ (2), 0, fdflags 0), reads the
//   whole file with fd_read (64 KiB at a time), fd_close, outputs the file's bytes.
//   Errors (return 1): "read_file: <function> errno <n>" (function: fd_prestat_get,
//   fd_prestat_dir_name, path_open, fd_read, fd_close), "read_file: <path> is not under
//   <dir>" for an absolute path outside the preopened dir.

import { outputBytes, outputString, setError, inputString } from "./lib/mem";

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32): i32;
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: i32, precision: i64, time_ptr: i32): i32;
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: i32, len: i32): i32;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: i32, buf: i32): i32;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: i32, path: i32, path_len: i32): i32;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(
  fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32,
  fs_rights_base: i64, fs_rights_inheriting: i64, fdflags: i32, fd_ptr: i32,
): i32;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32): i32;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: i32): i32;

const PREOPEN_FD = 3;
const RIGHT_FD_READ: i64 = 2;
const CLOCK_REALTIME = 0;

// Static scratch: an iovec (8 bytes), a result word (8 bytes) and a u64 (8 bytes).
const iov = memory.data(8);
const result = memory.data(8);
const scratch = memory.data(16);

/** Writes all of `text` (UTF-8) to `fd`; returns 0 or the WASI errno. */
function writeAll(fd: i32, text: string): i32 {
  const buf = String.UTF8.encode(text);
  let ptr = changetype<usize>(buf);
  let left = <usize>buf.byteLength;
  while (left > 0) {
    store<u32>(iov, <u32>ptr);
    store<u32>(iov, <u32>left, 4);
    const errno = fd_write(fd, <i32>iov, 1, <i32>result);
    if (errno != 0) return errno;
    const n = <usize>load<u32>(result);
    if (n == 0) return 29; // EIO: no progress
    ptr += n;
    left -= n;
  }
  return 0;
}

export function hello(): i32 {
  let errno = writeAll(1, "hello from wasi\n");
  if (errno == 0) errno = writeAll(2, "warning from wasi\n");
  if (errno != 0) {
    setError("hello: fd_write errno " + errno.toString());
    return 1;
  }
  errno = clock_time_get(CLOCK_REALTIME, 1, <i32>scratch);
  if (errno != 0) {
    setError("hello: clock_time_get errno " + errno.toString());
    return 1;
  }
  const ns = load<u64>(scratch);
  outputString("{\"ok\":true,\"time_ns\":" + ns.toString() + "}");
  return 0;
}

const HEX = "0123456789abcdef";

export function random(): i32 {
  const errno = random_get(<i32>scratch, 16);
  if (errno != 0) {
    setError("random: random_get errno " + errno.toString());
    return 1;
  }
  const out = memory.data(32);
  for (let i = 0; i < 16; i++) {
    const b = <i32>load<u8>(scratch + <usize>i);
    store<u8>(out + <usize>(2 * i), <u8>HEX.charCodeAt(b >> 4));
    store<u8>(out + <usize>(2 * i + 1), <u8>HEX.charCodeAt(b & 15));
  }
  outputBytes(out, 32);
  return 0;
}

function fail(fn: string, errno: i32): i32 {
  setError("read_file: " + fn + " errno " + errno.toString());
  return 1;
}

export function read_file(): i32 {
  const path = inputString();

  // The guest name of the preopened dir: prestat = { u8 tag (0 = dir), u32 name_len @4 }.
  let errno = fd_prestat_get(PREOPEN_FD, <i32>scratch);
  if (errno != 0) return fail("fd_prestat_get", errno);
  const nameLen = <i32>load<u32>(scratch, 4);
  const nameBuf = new ArrayBuffer(nameLen);
  errno = fd_prestat_dir_name(PREOPEN_FD, <i32>changetype<usize>(nameBuf), nameLen);
  if (errno != 0) return fail("fd_prestat_dir_name", errno);
  let dir = String.UTF8.decode(nameBuf);
  while (dir.length > 1 && dir.endsWith("/")) dir = dir.substring(0, dir.length - 1);

  let rel: string;
  if (!path.startsWith("/")) rel = path;
  else if (dir == "/") rel = path.substring(1);
  else if (path == dir) rel = ".";
  else if (path.startsWith(dir + "/")) rel = path.substring(dir.length + 1);
  else {
    setError("read_file: " + path + " is not under " + dir);
    return 1;
  }
  if (rel.length == 0) rel = ".";

  const relBuf = String.UTF8.encode(rel);
  errno = path_open(
    PREOPEN_FD, 0, <i32>changetype<usize>(relBuf), relBuf.byteLength, 0,
    RIGHT_FD_READ, 0, 0, <i32>result,
  );
  if (errno != 0) return fail("path_open", errno);
  const fd = <i32>load<u32>(result);

  // Read everything into a growing buffer.
  const CHUNK = 65536;
  let data = new Uint8Array(CHUNK);
  let used = 0;
  for (;;) {
    if (data.length - used < CHUNK) {
      const bigger = new Uint8Array(data.length * 2);
      memory.copy(bigger.dataStart, data.dataStart, <usize>used);
      data = bigger;
    }
    store<u32>(iov, <u32>(data.dataStart + <usize>used));
    store<u32>(iov, <u32>CHUNK, 4);
    errno = fd_read(fd, <i32>iov, 1, <i32>result);
    if (errno != 0) {
      fd_close(fd);
      return fail("fd_read", errno);
    }
    const n = <i32>load<u32>(result);
    if (n == 0) break;
    used += n;
  }
  errno = fd_close(fd);
  if (errno != 0) return fail("fd_close", errno);
  outputBytes(data.dataStart, <usize>used);
  return 0;
}
