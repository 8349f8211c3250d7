import type { RequestMessage } from './protocol';
import { RuntimeService } from './runtimeService';
import type { Carrier, CarrierEvents } from './client';

/**
 * The runtime on the caller's own thread (the CLI, tests): no copy, no message, but a running
 * plugin blocks the thread until it returns or its time limit stops it (nothing on the thread can
 * cancel it meanwhile). Requests still run one at a time, after the current task, as they would
 * across a thread.
 */
export function inProcess(events: CarrierEvents): Carrier {
  let service: RuntimeService | undefined = new RuntimeService(({ message }) => events.message(message));
  const queue: RequestMessage[] = [];
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    while (service && queue.length) service.handle(queue.shift() as RequestMessage);
  };
  return {
    send(message) {
      queue.push(message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    hold() {},
    async kill() {
      service = undefined;
      queue.length = 0;
    },
    // a call that runs holds this thread, so a cancel can only find one that waits its turn
    cancel(seq) {
      const i = queue.findIndex((r) => r.seq === seq);
      if (i < 0 || !service) return;
      const [request] = queue.splice(i, 1);
      service.cancelled(request);
    },
  };
}
