import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { IpcError } from '../model/errors';

// The watchdog thread: while a job is armed (an odd sequence number), it waits until the job's
// deadline and then interrupts it with SIGINT. It sits inside a `breakOnSigint` script itself, so
// Node's SIGINT watchdog stays started and arming a job costs a few µs instead of a thread. A
// SIGINT it did not send (a person's Ctrl-C) makes it step aside and raise it again, so the
// process reacts as it would have without it.
const WATCHDOG = `
const vm = require('node:vm');
const { workerData } = require('node:worker_threads');
const { state, deadline } = workerData;
const context = vm.createContext({ state, deadline, Atomics, Date, fire: () => {
  Atomics.store(state, 1, Atomics.load(state, 0));
  process.kill(process.pid, 'SIGINT');
} });
// It sleeps until the armed deadline, or for ever when idle, and says until when in deadline[1]:
// a job armed with a later deadline needs no wake-up, which saves a system call per job.
const script = new vm.Script(\`
  Atomics.store(state, 2, 1);
  for (;;) {
    const seq = Atomics.load(state, 0);
    if ((seq & 1) === 0) { deadline[1] = Infinity; Atomics.wait(state, 0, seq); continue; }
    const left = deadline[0] - Date.now();
    if (left > 0) { deadline[1] = deadline[0]; Atomics.wait(state, 0, seq, left); continue; }
    if (Atomics.load(state, 0) === seq && Atomics.load(state, 1) !== seq) fire();
    deadline[1] = Date.now() + 100;
    Atomics.wait(state, 0, seq, 100);
  }
\`);
for (;;) {
  const fired = Atomics.load(state, 1);
  try {
    script.runInContext(context, { breakOnSigint: true });
  } catch {
    // interrupted: by our own SIGINT (state[1] changed just before), or by someone else's
    if (Atomics.load(state, 1) === fired) break;
  }
}
Atomics.store(state, 2, 0);
process.kill(process.pid, 'SIGINT');
`;

const SEQ = 0;
const FIRED = 1;
const READY = 2;

/** The watchdog thread and the state it shares with the guarded thread. */
class Watchdog {
  readonly state = new Int32Array(new SharedArrayBuffer(12));
  /** The armed job's deadline, and until when the watchdog sleeps (ms since the epoch). */
  readonly deadline = new Float64Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;

  constructor(onExit: () => void) {
    this.worker = new Worker(WATCHDOG, { eval: true, workerData: { state: this.state, deadline: this.deadline } });
    this.worker.on('exit', onExit);
    this.worker.on('error', () => undefined);
    // after the listeners, which would keep the process alive otherwise
    this.worker.unref();
  }

  get ready(): boolean {
    return Atomics.load(this.state, READY) === 1;
  }

  stop(): void {
    void this.worker.terminate();
  }

  /** Arms the deadline; returns the job's sequence number. */
  arm(timeoutMs: number): number {
    const deadline = Date.now() + timeoutMs;
    this.deadline[0] = deadline;
    const seq = Atomics.add(this.state, SEQ, 1) + 1;
    // a watchdog that wakes before the deadline looks again then; one that sleeps longer is woken
    if (deadline < this.deadline[1]) Atomics.notify(this.state, SEQ);
    return seq;
  }

  /** No notify: the watchdog finds the job gone when it next wakes. */
  disarm(): void {
    Atomics.add(this.state, SEQ, 1);
  }

  fired(seq: number): boolean {
    return Atomics.load(this.state, FIRED) === seq;
  }
}

/**
 * Runs a job under a time limit: V8 interrupts even a tight wasm loop, and the isolate, its other
 * instances and their state survive. `finally` blocks inside the job do not run when it fires, so
 * the caller must repair its own bookkeeping afterwards.
 *
 * The first jobs run under `vm`'s own timeout, which starts a thread per job (about 100 µs). A
 * watchdog thread starts beside them; once it is up, a job costs a few µs: it runs with
 * `breakOnSigint` and the watchdog sends SIGINT at its deadline.
 */
export class TimeoutGuard {
  private readonly context = vm.createContext({ job: undefined as (() => unknown) | undefined });
  private readonly script = new vm.Script('job()');
  private watchdog: Watchdog | undefined;
  private lastTimedOut = false;
  /**
   * While a debugger is attached, a job paused at a breakpoint is not out of time: no deadline is
   * armed, and the job runs with `breakOnSigint` so that ending the debug session can stop it.
   */
  debugging = false;

  run<T>(timeoutMs: number, job: () => T): T {
    this.lastTimedOut = false;
    if (this.debugging) return this.runDebugged(job);
    if (timeoutMs <= 0) return job();
    this.context.job = job;
    const watchdog = (this.watchdog ??= new Watchdog(() => {
      if (this.watchdog === watchdog) this.watchdog = undefined;
    }));
    try {
      if (!watchdog.ready) return this.script.runInContext(this.context, { timeout: timeoutMs }) as T;
      const seq = watchdog.arm(timeoutMs);
      try {
        return this.script.runInContext(this.context, { breakOnSigint: true }) as T;
      } catch (error) {
        this.lastTimedOut = watchdog.fired(seq) && codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
        throw error;
      } finally {
        watchdog.disarm();
      }
    } finally {
      this.context.job = undefined;
    }
  }

  /**
   * A debugged job: only SIGINT (sent when its debug session ends) stops it. The watchdog thread
   * goes first, since a SIGINT it did not send would make it raise another one after the job.
   */
  private runDebugged<T>(job: () => T): T {
    this.watchdog?.stop();
    this.watchdog = undefined;
    this.context.job = job;
    try {
      return this.script.runInContext(this.context, { breakOnSigint: true }) as T;
    } catch (error) {
      if (codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') throw new IpcError('host', 'debug session ended: the call was stopped');
      throw error;
    } finally {
      this.context.job = undefined;
    }
  }

  /** Whether the error ended the last job because its time was up. */
  isTimeout(error: unknown): boolean {
    return codeOf(error) === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || (this.lastTimedOut && codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED');
  }
}

function codeOf(error: unknown): string | undefined {
  try {
    return (error as { code?: string } | null)?.code;
  } catch {
    // what user code threw may be a Proxy whose traps throw
    return undefined;
  }
}
