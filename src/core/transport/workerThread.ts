import { Worker } from 'node:worker_threads';
import type { Carrier, CarrierEvents, CarrierFactory } from './client';
import type { RuntimeMessage } from './protocol';
import { cancelJob, guardState } from '../engine/timeoutGuard';

/**
 * The runtime on a worker thread of the caller's process: off its event loop, but sharing its fate
 * (a fatal error in the runtime ends the process). `entry` is the bundled runtime entry.
 */
export function workerThread(entry: string, maxHeapMb: number): CarrierFactory {
  return (events: CarrierEvents): Carrier => {
    // a heap limit of its own: should the runtime's JavaScript side run out, the worker stops, not the process
    // shared with the runtime's call guard: a cancel reaches its watchdog thread directly
    const cancelState = guardState();
    const worker = new Worker(entry, { stdout: false, stderr: false, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb }, workerData: { cancelState } });
    worker.unref();
    worker.on('message', (message: RuntimeMessage) => events.message(message));
    worker.on('error', (error) => events.exit(/heap out of memory/i.test(error.message) ? 'out of memory' : `failed: ${error.message}`));
    worker.on('exit', (code) => events.exit(`exit code ${code}`));
    return {
      send: (message, transfer) => worker.postMessage(message, transfer),
      hold: (busy) => (busy ? worker.ref() : worker.unref()),
      kill: async () => {
        await worker.terminate();
      },
      cancel: (seq) => cancelJob(cancelState, seq),
    };
  };
}
