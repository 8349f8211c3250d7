// The runtime entry: every plugin lives and runs here, in a worker thread or a child process of
// the face, off its event loop. In a child process it also runs, on a thread of its own, the
// listener for cancels (see cancelPipe.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { guardState } from '../engine/timeoutGuard';
import { CANCEL_FD_ENV, CancelListenerData, listenForCancels, startCancelListener } from './cancelPipe';
import type { RequestMessage } from './protocol';
import { RuntimeService } from './runtimeService';

const port = parentPort;
const data = workerData as Partial<CancelListenerData> & { cancelState?: SharedArrayBuffer } | null;
if (port && data?.cancelListener) {
  listenForCancels(data.cancelListener);
} else if (port) {
  const service = new RuntimeService(({ message, transfer }) => port.postMessage(message, transfer), data?.cancelState);
  port.on('message', (message: RequestMessage) => service.handle(message));
} else if (process.send) {
  const send = process.send.bind(process);
  const fd = Number(process.env[CANCEL_FD_ENV]);
  let cancelState: SharedArrayBuffer | undefined;
  if (Number.isInteger(fd) && fd > 2) {
    cancelState = guardState();
    startCancelListener(__filename, fd, cancelState);
  }
  const service = new RuntimeService(({ message }) => send(message), cancelState, true);
  process.on('message', (message) => service.handle(message as RequestMessage));
  // the face is gone: so is every reason to run
  process.on('disconnect', () => process.exit(0));
} else {
  console.error('the plugin runtime runs as a worker thread or a child process of a face, not on its own');
  process.exitCode = 2;
}
