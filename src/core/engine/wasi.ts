import * as fs from 'node:fs';
import * as os from 'node:os';
import type { WASI as WasiType } from 'node:wasi';
import type { WasiGrant } from '../model/engine';
import { PluginError } from '../model/errors';
import { MAX_LOG_MESSAGE_BYTES } from '../model/logBudget';
import { PreopenedDirectory, WasiSandbox } from './wasiSandbox';

const EFAULT = 21;
const EPERM = 63;

/** One stream's line being assembled: at most a log message's bytes kept, the rest only counted. */
class PendingLine {
  private chunks: Buffer[] = [];
  private kept = 0;
  private cut = 0;

  add(bytes: Uint8Array): void {
    const room = MAX_LOG_MESSAGE_BYTES - this.kept;
    if (bytes.byteLength > room) this.cut += bytes.byteLength - room;
    if (room > 0) {
      const part = Buffer.from(bytes.subarray(0, room));
      this.chunks.push(part);
      this.kept += part.byteLength;
    }
  }

  get empty(): boolean {
    return this.kept === 0 && this.cut === 0;
  }

  take(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    const cut = this.cut;
    this.chunks = [];
    this.kept = 0;
    this.cut = 0;
    return cut ? `${text}… (${cut} more bytes cut; a line is limited to ${MAX_LOG_MESSAGE_BYTES / 1024} KiB)` : text;
  }
}

/** A plugin called WASI's proc_exit: code 0 ends the call normally, any other code fails it. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`exited with code ${code}`);
  }
}


/** The directory with every link in its path resolved, so that no link above a grant can move it; as given when it cannot be resolved (Node's WASI then says why). */
function realpath(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
}

let devNull: number | undefined;
let quieted = false;

/** Node calls its WASI experimental, once per process: that is for us to know, not for every user's terminal. */
function quietWasiWarning(): void {
  if (quieted) return;
  quieted = true;
  const others = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && /WASI/.test(warning.message)) return;
    for (const listener of others) listener.call(process, warning);
  });
}

/**
 * WASI preview 1 for one plugin instance: Node's implementation (with the granted directories as
 * preopens, no args, no environment, stdin empty), except that stdout and stderr go to the log
 * instead of the host process, and proc_exit ends the call instead of the thread.
 */
export class WasiEnvironment {
  private readonly wasi: WasiType;
  private memory: WebAssembly.Memory | undefined;
  private readonly pending = { stdout: new PendingLine(), stderr: new PendingLine() };
  private readonly preopened: PreopenedDirectory[] = [];

  constructor(private readonly options: WasiGrant) {
    // guest path -> the host directory's realpath (the later grant of a guest path wins, in the
    // first one's place, as in an object); Node numbers the preopens from fd 3 in this order
    const preopens: Record<string, string> = {};
    const byGuest = new Map<string, PreopenedDirectory>();
    for (const dir of options.directories) {
      const host = realpath(dir.host);
      preopens[dir.guest] = host;
      byGuest.set(dir.guest, { host, readOnly: dir.readOnly });
    }
    for (const guest of Object.keys(preopens)) this.preopened.push(byGuest.get(guest) as PreopenedDirectory);
    devNull ??= fs.openSync(os.devNull, 'r');
    // loaded on first use: Node warns that WASI is experimental as soon as it is loaded
    quietWasiWarning();
    const { WASI } = require('node:wasi') as typeof import('node:wasi');
    this.wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens, stdin: devNull, returnOnExit: true });
  }

  imports(): Record<string, unknown> {
    const base = (this.wasi.getImportObject() as Record<string, unknown>).wasi_snapshot_preview1 as Record<string, (...args: (number | bigint)[]) => number>;
    // every path-taking function resolves its path itself, and read-only directories refuse writes
    const sandbox = new WasiSandbox(base, () => this.memory, this.preopened);
    return {
      ...base,
      ...sandbox.functions(),
      fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
        if (fd !== 1 && fd !== 2) return sandbox.refusesWrite(fd) ? EPERM : base.fd_write(fd, iovs, iovsLen, nwritten);
        const memory = this.memory;
        if (!memory) return 8; // EBADF
        // the plugin's own memory, and pointers it chose: every range checked, EFAULT outside
        const size = memory.buffer.byteLength;
        const inside = (ptr: number, len: number) => ptr >= 0 && len >= 0 && ptr <= size && len <= size - ptr;
        if (!inside(iovs >>> 0, (iovsLen >>> 0) * 8) || !inside(nwritten >>> 0, 4)) return EFAULT;
        const view = new DataView(memory.buffer);
        const parts: Uint8Array[] = [];
        let total = 0;
        for (let i = 0; i < iovsLen >>> 0; i++) {
          const ptr = view.getUint32((iovs >>> 0) + i * 8, true);
          const len = view.getUint32((iovs >>> 0) + i * 8 + 4, true);
          if (!inside(ptr, len)) return EFAULT;
          parts.push(new Uint8Array(memory.buffer, ptr, len));
          total += len;
        }
        const stream = fd === 1 ? 'stdout' : 'stderr';
        for (const part of parts) this.write(stream, part);
        view.setUint32(nwritten >>> 0, total >>> 0, true);
        return 0;
      },
      proc_exit: (code: number): never => {
        throw new WasiExit(code);
      },
    };
  }

  /** Binds WASI to the plugin's own memory; call before the plugin's `_initialize`. */
  bind(memory: unknown, label: string): void {
    if (!(memory instanceof WebAssembly.Memory)) throw new PluginError(`${label} imports WASI but exports no memory`);
    this.memory = memory;
    this.wasi.initialize({ exports: { memory } } as unknown as object);
  }

  /** Splits bytes into lines; a line that never ends is cut at the log message limit. */
  private write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    const pending = this.pending[stream];
    let start = 0;
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
      pending.add(bytes.subarray(start, nl));
      this.options.onOutput(stream, pending.take());
      start = nl + 1;
    }
    if (start < bytes.byteLength) pending.add(bytes.subarray(start));
  }

  /** Whatever is left without a newline at the end of a call. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (!this.pending[stream].empty) this.options.onOutput(stream, this.pending[stream].take());
    }
  }
}
