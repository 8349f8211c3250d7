import { CancelledError, deserializeError, IpcError } from '../model/errors';
import type { EventsMessage, Method, Params, RequestMessage, Result, RuntimeMessage } from './protocol';

/** What a carrier tells its client. */
export interface CarrierEvents {
  message(message: RuntimeMessage): void;
  /** The runtime is gone; `cause` says why (exit code, signal, out of memory...). */
  exit(cause: string): void;
}

/** One way of reaching a runtime: a direct call, a worker thread or a child process. */
export interface Carrier {
  send(message: RequestMessage, transfer: ArrayBuffer[]): void;
  /** Keeps the host process alive while requests are pending, and lets it exit while idle. */
  hold(busy: boolean): void;
  /** Ends the runtime whatever it is doing; resolves once it is gone. */
  kill(): Promise<void>;
  /**
   * Stops the call request `seq` as its time limit would, without waiting for the runtime's thread
   * (busy running it): it then fails as cancelled. Nothing happens if it already ended.
   */
  cancel(seq: number): void;
}

export type CarrierFactory = (events: CarrierEvents) => Carrier;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The face side of one runtime: requests with typed results, events, and the runtime's end. */
export class RuntimeClient {
  private readonly carrier: Carrier;
  private readonly pending = new Map<number, Pending>();
  private seq = 1;
  private ended: string | undefined;

  constructor(
    factory: CarrierFactory,
    private readonly onEvents: (message: EventsMessage) => void,
    private readonly onExit: (cause: string) => void,
  ) {
    this.carrier = factory({ message: (m) => this.receive(m), exit: (cause) => this.end(cause) });
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  /** A call request that `signal` cancels: it fails as cancelled, the runtime and its other plugins go on. */
  cancellableCall(params: Params<'call'>, signal: AbortSignal): Promise<Result<'call'>> {
    if (signal.aborted) return Promise.reject(new CancelledError(`call to plugin #${params.id}.${params.func} was cancelled before it was sent`));
    const seq = this.seq;
    const abort = () => {
      if (this.pending.has(seq)) this.carrier.cancel(seq);
    };
    signal.addEventListener('abort', abort, { once: true });
    const done = this.request('call', params);
    const off = () => signal.removeEventListener('abort', abort);
    done.then(off, off);
    return done;
  }

  request<M extends Method>(method: M, params: Params<M>, transfer: ArrayBuffer[] = []): Promise<Result<M>> {
    if (this.ended !== undefined) return Promise.reject(stopped(this.ended));
    const seq = this.seq++;
    const promise = new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
    });
    if (this.pending.size === 1) this.carrier.hold(true);
    try {
      this.carrier.send({ seq, method, params } as RequestMessage, transfer);
    } catch (error) {
      // parameters a thread or process cannot be sent (a function in a host context): the request
      // fails, and nothing stays pending to hold the process open
      this.pending.delete(seq);
      if (this.pending.size === 0) this.carrier.hold(false);
      const why = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
      return Promise.reject(new IpcError('host', `${method}: its parameters cannot be sent to the plugin runtime (${why}); send structured-cloneable data`));
    }
    return promise;
  }

  /** Ends the runtime; pending requests fail with `cause`. */
  async kill(cause: string): Promise<void> {
    if (this.ended !== undefined) return;
    this.end(cause);
    await this.carrier.kill();
  }

  private receive(message: RuntimeMessage): void {
    if (this.ended !== undefined) return;
    if (message.type === 'events') {
      this.onEvents(message);
      return;
    }
    if (message.events) this.onEvents(message.events);
    const pending = this.pending.get(message.seq);
    if (!pending) return;
    this.pending.delete(message.seq);
    if (this.pending.size === 0) this.carrier.hold(false);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(deserializeError(message.error));
  }

  private end(cause: string): void {
    if (this.ended !== undefined) return;
    this.ended = cause;
    const error = stopped(cause);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.carrier.hold(false);
    this.onExit(cause);
  }
}

function stopped(cause: string): IpcError {
  return new IpcError('host', `the plugin runtime stopped (${cause}); every plugin was unloaded`);
}
