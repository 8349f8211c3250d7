import type { RequestMessage } from './protocol';
import { RuntimeService } from './runtimeService';
import type { Carrier, CarrierEvents } from './client';

/**
 * The runtime on the caller's own thread (the CLI, tests): no copy, no message, but a running
 * plugin blocks the thread until it returns or its time limit stops it. Requests still run one at a
 * time, after the current task, as they would across a thread.
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
  };
}
