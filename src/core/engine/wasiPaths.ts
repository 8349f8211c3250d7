import * as fs from 'node:fs';
import * as path from 'node:path';

// A guest path resolved under a directory the plugin holds, by us rather than by the OS: one
// component at a time with lstat, links read and followed here, and any step that would leave the
// directory refused. What comes out names no link the OS could still follow (but a final link the
// caller asked not to follow), so an engine may be handed it as it is.

/** WASI errnos (preview 1) used by the sandbox. */
export const Errno = {
  SUCCESS: 0,
  ACCES: 2,
  BADF: 8,
  BUSY: 10,
  DQUOT: 19,
  EXIST: 20,
  FAULT: 21,
  ILSEQ: 25,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  MLINK: 34,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOMEM: 48,
  NOSPC: 51,
  NOTDIR: 54,
  NOTEMPTY: 55,
  /** An escape, as Extism's native runtime (wasmtime with cap-std) reports one; a write through a read-only grant. */
  PERM: 63,
  ROFS: 69,
  XDEV: 75,
} as const;

/** Links followed in one resolution before it fails with ELOOP (Linux's limit). */
export const MAX_LINKS = 40;

/**
 * What happens to the last component: `follow` a link there, `nofollow` (a final link is the
 * result), or `name`: the call acts on the name itself (create, remove, rename, link), so the
 * last component is never followed and must be a name, not `.` or `..` (trailing slashes are
 * allowed and then require a directory).
 */
export type FinalComponent = 'follow' | 'nofollow' | 'name';

export type EntryKind = 'missing' | 'directory' | 'file' | 'symlink' | 'other';

/** Where a path leads: a path relative to the directory ('' for the directory itself) that names no link but perhaps its last component. */
export interface Resolved {
  rel: string;
  kind: EntryKind;
}

const NODE_ERRNOS: Readonly<Record<string, number>> = {
  EACCES: Errno.ACCES,
  EPERM: Errno.PERM,
  ENOENT: Errno.NOENT,
  ENOTDIR: Errno.NOTDIR,
  ELOOP: Errno.LOOP,
  ENAMETOOLONG: Errno.NAMETOOLONG,
  EINVAL: Errno.INVAL,
  ENOMEM: Errno.NOMEM,
  EIO: Errno.IO,
  EBUSY: Errno.BUSY,
  EDQUOT: Errno.DQUOT,
  EEXIST: Errno.EXIST,
  EISDIR: Errno.ISDIR,
  EMLINK: Errno.MLINK,
  ENOSPC: Errno.NOSPC,
  ENOTEMPTY: Errno.NOTEMPTY,
  EROFS: Errno.ROFS,
  EXDEV: Errno.XDEV,
};

/** The WASI errno of a failed file system call; anything that is not one is rethrown. */
export function errnoOf(error: unknown): number {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) throw error;
  return NODE_ERRNOS[code] ?? Errno.IO;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Guest bytes as a path: wasmtime refuses what is not UTF-8 (EILSEQ); a NUL is EINVAL. */
export function decodePath(bytes: Uint8Array): string | number {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return Errno.ILSEQ;
  }
  return text.includes('\0') ? Errno.INVAL : text;
}

function readLink(file: string): string | number {
  try {
    return decodePath(fs.readlinkSync(file, { encoding: 'buffer' }));
  } catch (error) {
    return errnoOf(error);
  }
}

/**
 * Resolves `guestPath` under the host directory `root` (which the caller has checked is the
 * directory it granted). An absolute path, a `..` above `root`, or a link whose target is absolute
 * or climbs above it is an escape: EPERM. A missing last component is a result (`missing`), one
 * further up is ENOENT; more than MAX_LINKS links is ELOOP.
 */
export function resolveUnder(root: string, guestPath: string, final: FinalComponent): Resolved | number {
  if (guestPath === '') return Errno.NOENT;
  if (guestPath.startsWith('/')) return Errno.PERM;
  let trailingSlash = false;
  let text = guestPath;
  if (final === 'name') {
    text = guestPath.replace(/\/+$/, '');
    trailingSlash = text.length !== guestPath.length;
    const last = text.slice(text.lastIndexOf('/') + 1);
    if (last === '.' || last === '..') return Errno.INVAL;
  }
  // the components still to walk, the next one last
  const pending = text.split('/').reverse();
  const parts: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.pop() as string;
    const last = pending.length === 0;
    if (component === '' || component === '.' || component === '..') {
      if (component === '..') {
        if (parts.length === 0) return Errno.PERM;
        parts.pop();
      }
      if (last) return { rel: parts.join('/'), kind: 'directory' };
      continue;
    }
    const rel = parts.length ? `${parts.join('/')}/${component}` : component;
    const host = path.join(root, rel);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(host, { throwIfNoEntry: false });
    } catch (error) {
      return errnoOf(error);
    }
    if (!stat) return last ? { rel, kind: 'missing' } : Errno.NOENT;
    if (stat.isSymbolicLink()) {
      if (last && final !== 'follow') return trailingSlash ? Errno.NOTDIR : { rel, kind: 'symlink' };
      if (++links > MAX_LINKS) return Errno.LOOP;
      const target = readLink(host);
      if (typeof target === 'number') return target;
      if (target === '') return Errno.NOENT;
      if (target.startsWith('/')) return Errno.PERM;
      // the target is read from the link's directory: parts stay as they are
      pending.push(...target.split('/').reverse());
      continue;
    }
    if (stat.isDirectory()) {
      parts.push(component);
      if (last) return { rel, kind: 'directory' };
      continue;
    }
    if (!last || trailingSlash) return Errno.NOTDIR;
    return { rel, kind: stat.isFile() ? 'file' : 'other' };
  }
  return { rel: parts.join('/'), kind: 'directory' };
}

/**
 * Whether a link with this target, made in a directory `depth` components below the granted one,
 * stays under it when its target is read as text from there: not absolute, and no `..` climbs
 * above the granted directory. (Following a link checks again, on what is really there.)
 */
export function linkTargetStays(depth: number, target: string): boolean {
  if (target.startsWith('/')) return false;
  for (const component of target.split('/')) {
    if (component === '..') {
      if (--depth < 0) return false;
    } else if (component !== '' && component !== '.') {
      depth++;
    }
  }
  return true;
}

/** How many components deep the directory holding `rel` is. */
export function parentDepth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length - 1;
}
