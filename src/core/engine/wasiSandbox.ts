import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodePath, Errno, errnoOf, FinalComponent, linkTargetStays, parentDepth, Resolved, resolveUnder } from './wasiPaths';

// The path-taking functions of wasi_snapshot_preview1 in front of Node's (uvwasi's): each path is
// resolved here under the directory of the fd it is relative to (wasiPaths.ts), and Node's function
// is then called with a path relative to that same fd that has no link left to follow, written to
// a scratch range of the guest's memory for the call and put back after it. Node's WASI keeps the
// fds, their rights and every function that takes no path. Read-only directories refuse every write.

/** A WASI function as the engine imports it; i64 parameters arrive as bigints. */
export type WasiFunction = (...args: never[]) => number;
type Base = Record<string, (...args: (number | bigint)[]) => number>;

/** A directory the plugin may open, as preopened: its host path already a realpath. */
export interface PreopenedDirectory {
  host: string;
  readOnly: boolean;
}

/** What the host knows of a guest fd: the host path it was opened at and what was there then. */
interface HeldFd {
  host: string;
  dev: bigint;
  ino: bigint;
  readOnly: boolean;
}

const LOOKUP_SYMLINK_FOLLOW = 1;
const O_CREAT = 1;
const O_EXCL = 4;
const O_TRUNC = 8;
const FDFLAG_APPEND = 1;
const RIGHT = (bit: number): bigint => 1n << BigInt(bit);
const RIGHT_FD_WRITE = RIGHT(6);
/** The rights that change files or directories, taken off fds opened under a read-only directory. */
const MUTATING_RIGHTS = [0, 6, 8, 9, 10, 11, 12, 16, 17, 19, 20, 22, 23, 24, 25, 26].reduce((all, bit) => all | RIGHT(bit), 0n);
const FILESTAT_BYTES = 64;
const MAX_PATH_BYTES = 64 * 1024;

const encoder = new TextEncoder();

export class WasiSandbox {
  private readonly fds = new Map<number, HeldFd>();

  constructor(
    private readonly base: Base,
    private readonly memory: () => WebAssembly.Memory | undefined,
    preopens: readonly PreopenedDirectory[],
  ) {
    preopens.forEach((dir, i) => this.fds.set(3 + i, held(dir.host, dir.readOnly)));
  }

  /** The functions that replace Node's. */
  functions(): Record<string, WasiFunction> {
    const f: Record<string, WasiFunction> = {
      path_open: (fd: number, dirflags: number, p: number, n: number, oflags: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number, fdOut: number) =>
        this.open(fd, dirflags, p, n, oflags, rightsBase, rightsInheriting, fdflags, fdOut),
      path_filestat_get: (fd: number, flags: number, p: number, n: number, buf: number) => {
        if (!this.inside(buf, FILESTAT_BYTES)) return Errno.FAULT;
        return this.onPath(fd, flags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow', p, n, false, (r) =>
          r.kind === 'missing' ? Errno.NOENT : this.call([rel(r)], [[buf, FILESTAT_BYTES]], ([q, m]) => this.base.path_filestat_get(fd, 0, q, m, buf)),
        );
      },
      path_filestat_set_times: (fd: number, flags: number, p: number, n: number, atim: bigint, mtim: bigint, fstFlags: number) =>
        this.onPath(fd, flags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow', p, n, true, (r) =>
          r.kind === 'missing' ? Errno.NOENT : this.call([rel(r)], [], ([q, m]) => this.base.path_filestat_set_times(fd, 0, q, m, atim, mtim, fstFlags)),
        ),
      path_readlink: (fd: number, p: number, n: number, buf: number, bufLen: number, bufUsed: number) => {
        if (!this.inside(buf, bufLen) || !this.inside(bufUsed, 4)) return Errno.FAULT;
        return this.onPath(fd, 'nofollow', p, n, false, (r) => this.readlink(fd, r, buf >>> 0, bufLen >>> 0, bufUsed >>> 0));
      },
      path_symlink: (oldP: number, oldN: number, fd: number, p: number, n: number) => {
        const target = this.bytes(oldP, oldN);
        if (typeof target === 'number') return target;
        const text = decodePath(target);
        if (typeof text === 'number') return text;
        // made here: Node's would read the target from the fd's directory instead of the link's
        return this.onPath(fd, 'name', p, n, true, (r) => {
          if (!linkTargetStays(parentDepth(r.rel), text)) return Errno.PERM;
          if (r.kind !== 'missing') return Errno.EXIST;
          try {
            fs.symlinkSync(text, path.join((this.fds.get(fd) as HeldFd).host, r.rel));
            return Errno.SUCCESS;
          } catch (error) {
            return errnoOf(error);
          }
        });
      },
      path_link: (oldFd: number, oldFlags: number, oldP: number, oldN: number, fd: number, p: number, n: number) =>
        // a hard link out of a read-only directory would be a writable name for its file
        this.onPath(oldFd, oldFlags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow', oldP, oldN, true, (from) =>
          from.kind === 'missing'
            ? Errno.NOENT
            : this.onPath(fd, 'name', p, n, true, (to) =>
                to.kind !== 'missing' ? Errno.EXIST : this.call([rel(from), rel(to)], [], ([q0, m0, q1, m1]) => this.base.path_link(oldFd, 0, q0, m0, fd, q1, m1)),
              ),
        ),
      path_rename: (oldFd: number, oldP: number, oldN: number, fd: number, p: number, n: number) =>
        this.onPath(oldFd, 'name', oldP, oldN, true, (from) =>
          from.kind === 'missing'
            ? Errno.NOENT
            : this.onPath(fd, 'name', p, n, true, (to) => this.call([rel(from), rel(to)], [], ([q0, m0, q1, m1]) => this.base.path_rename(oldFd, q0, m0, fd, q1, m1))),
        ),
      path_unlink_file: (fd: number, p: number, n: number) => this.onName(fd, p, n, 'path_unlink_file'),
      path_create_directory: (fd: number, p: number, n: number) => this.onName(fd, p, n, 'path_create_directory'),
      path_remove_directory: (fd: number, p: number, n: number) => this.onName(fd, p, n, 'path_remove_directory'),
      fd_close: (fd: number) => {
        const code = this.base.fd_close(fd);
        if (code === Errno.SUCCESS) this.fds.delete(fd);
        return code;
      },
      fd_renumber: (from: number, to: number) => {
        const code = this.base.fd_renumber(from, to);
        if (code === Errno.SUCCESS) {
          const moved = this.fds.get(from);
          this.fds.delete(from);
          if (moved) this.fds.set(to, moved);
          else this.fds.delete(to);
        }
        return code;
      },
    };
    // the writes that take an fd, refused on anything opened under a read-only directory
    for (const name of ['fd_pwrite', 'fd_allocate', 'fd_filestat_set_size', 'fd_filestat_set_times']) {
      f[name] = (fd: number, ...rest: (number | bigint)[]) => (this.refusesWrite(fd) ? Errno.PERM : this.base[name](fd, ...rest));
    }
    return f;
  }

  /** Whether the fd was opened under a read-only directory (fd_write asks, for fds past stdio). */
  refusesWrite(fd: number): boolean {
    return this.fds.get(fd)?.readOnly === true;
  }

  private open(fd: number, dirflags: number, p: number, n: number, oflags: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number, fdOut: number): number {
    if (!this.inside(fdOut, 4)) return Errno.FAULT;
    const dir = this.held(fd);
    if (typeof dir === 'number') return dir;
    let base = BigInt.asUintN(64, BigInt(rightsBase));
    let inheriting = BigInt.asUintN(64, BigInt(rightsInheriting));
    if (dir.readOnly) {
      if (oflags & (O_CREAT | O_TRUNC) || fdflags & FDFLAG_APPEND || base & RIGHT_FD_WRITE) return Errno.PERM;
      base &= ~MUTATING_RIGHTS;
      inheriting &= ~MUTATING_RIGHTS;
    }
    return this.onPath(fd, dirflags & LOOKUP_SYMLINK_FOLLOW ? 'follow' : 'nofollow', p, n, false, (r) => {
      // a final link not to be followed: what open(2) with O_NOFOLLOW says
      if (r.kind === 'symlink') return oflags & O_CREAT && oflags & O_EXCL ? Errno.EXIST : Errno.LOOP;
      const code = this.call([rel(r)], [[fdOut, 4]], ([q, m]) => this.base.path_open(fd, 0, q, m, oflags, base, inheriting, fdflags, fdOut));
      if (code === Errno.SUCCESS) {
        const opened = new DataView((this.memory() as WebAssembly.Memory).buffer).getUint32(fdOut >>> 0, true);
        this.fds.set(opened, held(path.join(dir.host, r.rel), dir.readOnly));
      }
      return code;
    });
  }

  private onName(fd: number, p: number, n: number, name: 'path_unlink_file' | 'path_create_directory' | 'path_remove_directory'): number {
    return this.onPath(fd, 'name', p, n, true, (r) => {
      if (r.kind === 'missing' && name !== 'path_create_directory') return Errno.NOENT;
      return this.call([rel(r)], [], ([q, m]) => this.base[name](fd, q, m));
    });
  }

  private readlink(fd: number, r: Resolved, buf: number, bufLen: number, bufUsed: number): number {
    if (r.kind === 'missing') return Errno.NOENT;
    if (r.kind !== 'symlink') return Errno.INVAL;
    const dir = this.fds.get(fd) as HeldFd;
    let target: Buffer;
    try {
      target = fs.readlinkSync(path.join(dir.host, r.rel), { encoding: 'buffer' });
    } catch (error) {
      return errnoOf(error);
    }
    // cut to the buffer, as readlink(2) and wasmtime do
    const used = Math.min(target.byteLength, bufLen);
    const memory = this.memory() as WebAssembly.Memory;
    new Uint8Array(memory.buffer, buf, used).set(target.subarray(0, used));
    new DataView(memory.buffer).setUint32(bufUsed, used, true);
    return Errno.SUCCESS;
  }

  /** The fd's path resolved (pointers and the fd checked first); `write` refuses a read-only fd. */
  private onPath(fd: number, final: FinalComponent, p: number, n: number, write: boolean, then: (r: Resolved) => number): number {
    const bytes = this.bytes(p, n);
    if (typeof bytes === 'number') return bytes;
    const dir = this.held(fd);
    if (typeof dir === 'number') return dir;
    if (write && dir.readOnly) return Errno.PERM;
    const guestPath = decodePath(bytes);
    if (typeof guestPath === 'number') return guestPath;
    const resolved = resolveUnder(dir.host, guestPath, final);
    return typeof resolved === 'number' ? resolved : then(resolved);
  }

  /** The fd as the host holds it, when it still names what it was opened on (EPERM when the name now leads elsewhere). */
  private held(fd: number): HeldFd | number {
    const dir = this.fds.get(fd);
    if (!dir) return Errno.BADF;
    let stat: fs.BigIntStats | undefined;
    try {
      stat = fs.lstatSync(dir.host, { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      return errnoOf(error);
    }
    if (!stat) return Errno.NOENT;
    return stat.dev === dir.dev && stat.ino === dir.ino ? dir : Errno.PERM;
  }

  private inside(ptr: number, len: number): boolean {
    const size = this.memory()?.buffer.byteLength ?? 0;
    ptr >>>= 0;
    len >>>= 0;
    return ptr <= size && len <= size - ptr;
  }

  /** A copy of guest bytes; EFAULT outside its memory. */
  private bytes(p: number, n: number): Uint8Array | number {
    if (!this.inside(p, n)) return Errno.FAULT;
    if (n >>> 0 > MAX_PATH_BYTES) return Errno.NAMETOOLONG;
    return new Uint8Array((this.memory() as WebAssembly.Memory).buffer, p >>> 0, n >>> 0).slice();
  }

  /**
   * Calls Node's function with these byte strings written to a scratch range of guest memory
   * (outside the ranges Node writes to), handing it each one's pointer and length; the range's
   * own bytes are put back after.
   */
  private call(strings: Uint8Array[], avoid: [number, number][], fn: (args: number[]) => number): number {
    const memory = this.memory() as WebAssembly.Memory;
    const total = strings.reduce((sum, s) => sum + s.byteLength, 0);
    const size = memory.buffer.byteLength;
    const ranges = avoid.map(([p, n]) => [p >>> 0, n >>> 0] as const);
    const clear = (start: number) => start + total <= size && ranges.every(([p, n]) => start + total <= p || start >= p + n);
    const start = [0, ...ranges.map(([p, n]) => p + n)].find(clear);
    if (start === undefined) return Errno.NOMEM;
    const saved = new Uint8Array(memory.buffer, start, total).slice();
    const args: number[] = [];
    let at = start;
    for (const s of strings) {
      new Uint8Array(memory.buffer, at, s.byteLength).set(s);
      args.push(at, s.byteLength);
      at += s.byteLength;
    }
    try {
      return fn(args);
    } finally {
      new Uint8Array(memory.buffer, start, total).set(saved);
    }
  }
}

function rel(r: Resolved): Uint8Array {
  return encoder.encode(r.rel === '' ? '.' : r.rel);
}

function held(host: string, readOnly: boolean): HeldFd {
  let stat: fs.BigIntStats | undefined;
  try {
    stat = fs.lstatSync(host, { bigint: true, throwIfNoEntry: false });
  } catch {
    // what cannot be looked at now never matches, so every use of the fd fails
  }
  return { host, readOnly, dev: stat?.dev ?? -1n, ino: stat?.ino ?? -1n };
}
