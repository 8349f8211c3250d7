import { ChildProcess, fork } from 'node:child_process';
import type { Carrier, CarrierEvents, CarrierFactory } from './client';
import type { Writable } from 'node:stream';
import type { RuntimeMessage } from './protocol';
import { CANCEL_FD, CANCEL_FD_ENV } from './cancelPipe';

const STDERR_KEPT = 8192;

/**
 * The runtime in a child process, as language servers run: whatever happens to it (a fatal error,
 * native memory exhaustion, a kill), the caller's process stays up. `entry` is the bundled runtime
 * entry; it runs on `process.execPath` (Electron's runs as Node), with a heap limit of its own.
 */
export function childProcess(entry: string, maxHeapMb: number, onStderr?: (text: string) => void): CarrierFactory {
  return (events: CarrierEvents): Carrier => {
    const child = fork(entry, [], {
      execPath: process.execPath,
      execArgv: [`--max-old-space-size=${maxHeapMb}`],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', [CANCEL_FD_ENV]: String(CANCEL_FD) },
      serialization: 'advanced',
      // fd 4: cancels, read by a thread of the runtime while its main thread runs the call
      stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'],
    });
    const cancels = child.stdio[CANCEL_FD] as Writable | null;
    cancels?.on('error', () => undefined);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_KEPT);
      onStderr?.(text);
    });
    child.on('message', (message) => events.message(message as RuntimeMessage));
    // after a spawn, an error is a send to a process that is going away: its close tells why
    child.on('error', (error) => {
      if (child.pid === undefined) events.exit(`it could not be started: ${error.message}`);
    });
    const closed = new Promise<void>((resolve) => {
      child.on('close', (code, signal) => {
        events.exit(exitCause(code, signal, stderr, maxHeapMb));
        resolve();
      });
    });
    hold(child, false);
    (cancels as { unref?(): void } | null)?.unref?.();
    return {
      send: (message) => {
        if (child.connected) child.send(message, () => undefined);
      },
      hold: (busy) => hold(child, busy),
      cancel: (seq) => {
        if (!cancels?.writable) return;
        const tag = Buffer.alloc(4);
        tag.writeInt32LE(seq);
        cancels.write(tag);
      },
      kill: async () => {
        hold(child, true); // until it is gone: a caller awaiting this keeps nothing else alive
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await closed;
      },
    };
  };
}

/** Lets the host process exit while the runtime is idle. */
function hold(child: ChildProcess, busy: boolean): void {
  const channel = child.channel as { ref?(): void; unref?(): void } | undefined;
  if (busy) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}

/** Why a runtime process ended, in a few words a person can act on. */
export function exitCause(code: number | null, signal: NodeJS.Signals | null, stderr: string, maxHeapMb: number): string {
  if (/heap out of memory|Allocation failed|Fatal process out of memory/i.test(stderr)) {
    return `out of memory: it passed its heap limit of ${maxHeapMb} MiB or the system's memory`;
  }
  if (signal === 'SIGKILL') return 'killed by SIGKILL; the system may have run out of memory';
  if (signal) return `killed by ${signal}`;
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const said = lines.filter((l) => /Error\b/.test(l)).pop() ?? lines.pop();
  return `exit code ${code}${said ? `: ${said.slice(0, 200)}` : ''}`;
}
