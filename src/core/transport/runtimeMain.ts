// The runtime entry: every plugin lives and runs here, in a worker thread or a child process of
// the face, off its event loop.
import { parentPort } from 'node:worker_threads';
import type { RequestMessage } from './protocol';
import { RuntimeService } from './runtimeService';

const port = parentPort;
if (port) {
  const service = new RuntimeService(({ message, transfer }) => port.postMessage(message, transfer));
  port.on('message', (message: RequestMessage) => service.handle(message));
} else if (process.send) {
  const send = process.send.bind(process);
  const service = new RuntimeService(({ message }) => send(message), true);
  process.on('message', (message) => service.handle(message as RequestMessage));
  // the face is gone: so is every reason to run
  process.on('disconnect', () => process.exit(0));
} else {
  console.error('the plugin runtime runs as a worker thread or a child process of a face, not on its own');
  process.exitCode = 2;
}
