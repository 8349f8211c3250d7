// Cancels to a runtime in a child process. The runtime's main thread is busy running the call, so a
// thread of its own reads them from a pipe (fd 4 of the child), 4 bytes (Int32LE request number)
// each, and hands them to the call guard's watchdog through shared memory.
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import { cancelJob } from '../engine/timeoutGuard';

export const CANCEL_FD = 4;
/** Tells the runtime entry which fd carries cancels. */
export const CANCEL_FD_ENV = 'EXTISM_IPC_CANCEL_FD';

/** What the runtime entry hands the listener thread it starts. */
export interface CancelListenerData {
  cancelListener: { fd: number; cancelState: SharedArrayBuffer };
}

/** Starts the listener thread: `entry` is the runtime entry, which runs `listenForCancels` there. */
export function startCancelListener(entry: string, fd: number, cancelState: SharedArrayBuffer): void {
  const data: CancelListenerData = { cancelListener: { fd, cancelState } };
  const worker = new Worker(entry, { workerData: data, stdout: false, stderr: false });
  worker.on('error', () => undefined);
  worker.unref();
}

/** The listener thread's work: each request number read cancels that call. */
export function listenForCancels({ fd, cancelState }: CancelListenerData['cancelListener']): void {
  const socket = new net.Socket({ fd, readable: true, writable: false });
  let rest: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    rest = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let at = 0;
    for (; at + 4 <= rest.length; at += 4) cancelJob(cancelState, rest.readInt32LE(at));
    rest = rest.subarray(at);
  });
  // the face closed the pipe: it is going, and the runtime with it
  socket.on('error', () => undefined);
}
