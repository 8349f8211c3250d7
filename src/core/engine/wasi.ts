import * as fs from 'node:fs';
import * as os from 'node:os';
import type { WASI as WasiType } from 'node:wasi';
import type { WasiGrant } from '../model/engine';
import { PluginError } from '../model/errors';

/** A plugin called WASI's proc_exit: code 0 ends the call normally, any other code fails it. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`exited with code ${code}`);
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
  private readonly pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(private readonly options: WasiGrant) {
    const preopens: Record<string, string> = {};
    for (const [host, guest] of Object.entries(options.allowedPaths)) preopens[guest] = host;
    devNull ??= fs.openSync(os.devNull, 'r');
    // loaded on first use: Node warns that WASI is experimental as soon as it is loaded
    quietWasiWarning();
    const { WASI } = require('node:wasi') as typeof import('node:wasi');
    this.wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens, stdin: devNull, returnOnExit: true });
  }

  imports(): Record<string, unknown> {
    const base = (this.wasi.getImportObject() as Record<string, unknown>).wasi_snapshot_preview1 as Record<string, (...args: number[]) => number>;
    return {
      ...base,
      fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
        if (fd !== 1 && fd !== 2) return base.fd_write(fd, iovs, iovsLen, nwritten);
        const memory = this.memory;
        if (!memory) return 8; // EBADF
        const view = new DataView(memory.buffer);
        let total = 0;
        let text = '';
        for (let i = 0; i < iovsLen; i++) {
          const ptr = view.getUint32(iovs + i * 8, true);
          const len = view.getUint32(iovs + i * 8 + 4, true);
          text += Buffer.from(memory.buffer, ptr, len).toString('utf8');
          total += len;
        }
        view.setUint32(nwritten, total, true);
        this.write(fd === 1 ? 'stdout' : 'stderr', text);
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

  private write(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.pending[stream] + text).split('\n');
    this.pending[stream] = lines.pop() ?? '';
    for (const line of lines) this.options.onOutput(stream, line);
  }

  /** Whatever is left without a newline at the end of a call. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream]) this.options.onOutput(stream, this.pending[stream]);
      this.pending[stream] = '';
    }
  }
}
