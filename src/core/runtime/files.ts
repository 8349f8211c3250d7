import * as fs from 'node:fs';
import { formatBytes } from '../model/numbers';

/** Why a file was not read, in words that follow its name ("is not a regular file"). */
export class FileRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A regular file within the size limit, opened and checked; its bytes not read yet. */
export interface CheckedFile {
  size: number;
  /** mtime:size, to tell one version of the file from another. */
  stamp: string;
}

// O_NONBLOCK: open of a FIFO without a writer would otherwise wait for ever
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Opens `file` without blocking and checks the descriptor (not the path, which may change):
 * only a regular file of at most `maxBytes` bytes, `limitName` naming the limit in the refusal.
 */
function openChecked(file: string, maxBytes: number, limitName: string): { fd: number; checked: CheckedFile } {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileRefusal('not found');
    if (code === 'EISDIR') throw new FileRefusal('is not a regular file (a directory)');
    throw new FileRefusal(`cannot be read (${code ?? 'error'})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileRefusal(`is not a regular file (${kindOf(st)})`);
    if (st.size > maxBytes) throw tooBig(st.size, maxBytes, limitName);
    return { fd, checked: { size: st.size, stamp: `${st.mtimeMs}:${st.size}` } };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** Checks that `file` is a regular file within the limit, without reading it. */
export function checkFile(file: string, maxBytes: number, limitName: string): CheckedFile {
  const { fd, checked } = openChecked(file, maxBytes, limitName);
  fs.closeSync(fd);
  return checked;
}

/** Reads a regular file of at most `maxBytes`; one that grows while it is read is refused. */
export function readFileChecked(file: string, maxBytes: number, limitName: string): Buffer {
  return readChecked(file, maxBytes, limitName).bytes;
}

/** As `readFileChecked`, with the stamp of what was read. */
export function readChecked(file: string, maxBytes: number, limitName: string): { bytes: Buffer; stamp: string } {
  const { fd, checked } = openChecked(file, maxBytes, limitName);
  const done = (bytes: Buffer) => ({ bytes, stamp: checked.stamp });
  try {
    const buffer = Buffer.alloc(checked.size);
    let filled = 0;
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled);
      if (n === 0) return done(buffer.subarray(0, filled));
      filled += n;
    }
    // the file may have grown since fstat: one more byte tells
    const probe = Buffer.alloc(1);
    if (readSync(fd, probe, 0, 1) > 0) {
      if (checked.size + 1 > maxBytes) throw tooBig(checked.size + 1, maxBytes, limitName);
      throw new FileRefusal('changed while it was read');
    }
    return done(buffer);
  } finally {
    fs.closeSync(fd);
  }
}

function readSync(fd: number, buffer: Buffer, offset: number, length: number): number {
  try {
    return fs.readSync(fd, buffer, offset, length, null);
  } catch (error) {
    throw new FileRefusal(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function tooBig(size: number, maxBytes: number, limitName: string): FileRefusal {
  return new FileRefusal(`is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)} (${limitName})`);
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
