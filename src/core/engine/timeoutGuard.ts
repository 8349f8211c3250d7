import * as vm from 'node:vm';
import { isMainThread, Worker } from 'node:worker_threads';
import { DEBUG_CALL_STOPPED } from '../model/debugging';
import { IpcError } from '../model/errors';
import { HOOK_KEY, newGuardId, STACK_WAIT_MS, stackBell, takeStack } from './deadlineStack';

// The watchdog thread: while a job is armed (an odd sequence number), it waits until the job's
// deadline, or until the job is cancelled, and then interrupts it with SIGINT. It sits inside a
// `breakOnSigint` script itself, so Node's SIGINT watchdog stays started and arming a job costs a
// few µs instead of a thread. A SIGINT it did not send (a person's Ctrl-C) makes it step aside and
// raise it again, so the process reacts as it would have without it. On the main thread, it first
// has the inspector take the stack of a job out of time (see deadlineStack.ts).
const WATCHDOG = `
const vm = require('node:vm');
const { workerData } = require('node:worker_threads');
const { state, deadline, guardId, stackBell } = workerData;
const context = vm.createContext({ state, deadline, stackBell, Atomics, Date, askForStack, fire: () => {
  Atomics.store(state, 1, Atomics.load(state, 0));
  process.kill(process.pid, 'SIGINT');
} });
// The stack of a job out of time: the inspector has the guarded thread run its hook between two of
// its instructions, wherever they are (in a wasm loop too); the hook rings stackBell. A thread
// blocked outside JavaScript answers late or never: after a short wait it is stopped all the same.
function askForStack(seq) {
  try {
    const session = new (require('node:inspector').Session)();
    session.connectToMainThread();
    const bell = Atomics.load(stackBell, 0);
    session.post('Runtime.evaluate', { expression: 'globalThis[Symbol.for("${HOOK_KEY}")]?.(' + guardId + ',' + seq + ')' });
    Atomics.wait(stackBell, 0, bell, ${STACK_WAIT_MS});
    session.disconnect();
  } catch {
    // no inspector: no stack
  }
}
// It sleeps on the bell (state[5]) until the armed deadline, or for ever when idle, and says until
// when in deadline[1]: a job armed with a later deadline needs no wake-up, which saves a system
// call per job. A cancel (state[4] = the job's sequence number) rings the bell. It never leaves the
// script while it runs: Node tells a SIGINT to the last script that started listening for one.
const script = new vm.Script(\`
  Atomics.store(state, 2, 1);
  Atomics.notify(state, 2);
  for (;;) {
    if (Atomics.load(state, 6) === 1) break;
    const bell = Atomics.load(state, 5);
    const seq = Atomics.load(state, 0);
    if ((seq & 1) === 0) { deadline[1] = Infinity; Atomics.wait(state, 5, bell); continue; }
    const cancelled = Atomics.load(state, 4) === seq;
    const left = cancelled ? 0 : deadline[0] - Date.now();
    if (left > 0) { deadline[1] = deadline[0]; Atomics.wait(state, 5, bell, left); continue; }
    if (Atomics.load(state, 0) === seq && Atomics.load(state, 1) !== seq) {
      if (stackBell && !cancelled) askForStack(seq);
      if (Atomics.load(state, 0) === seq) fire();
    }
    deadline[1] = Date.now() + 100;
    Atomics.wait(state, 5, bell, 100);
  }
\`);
let quit = false;
for (;;) {
  const fired = Atomics.load(state, 1);
  try {
    script.runInContext(context, { breakOnSigint: true });
    // it ends when asked to (state[6]), before the guard's owner listens for SIGINT itself
    quit = true;
    break;
  } catch {
    // interrupted: by our own SIGINT (state[1] changed just before), or by someone else's
    if (Atomics.load(state, 1) === fired) break;
  }
}
Atomics.store(state, 2, 0);
Atomics.notify(state, 2);
if (!quit) process.kill(process.pid, 'SIGINT');
`;

// The shared state, one Int32Array: the watchdog's words, then a ring of cancelled tags.
const SEQ = 0;
const FIRED = 1;
const READY = 2;
/** The tag of the armed job (the request it serves), written before it is armed. */
const TAG = 3;
/** The sequence number of the job a cancel asked to stop. */
const CANCEL = 4;
const BELL = 5;
/** Set to 1 to have the watchdog end. */
const QUIT = 6;
const RING_NEXT = 7;
const RING = 8;
const RING_SIZE = 16;
const STATE_WORDS = RING + RING_SIZE;

/** Memory a guard shares with whoever may cancel its jobs: another thread, or this one. */
export function guardState(): SharedArrayBuffer {
  return new SharedArrayBuffer(STATE_WORDS * 4);
}

/**
 * Stops the job tagged `tag` if it is running, as its time limit would; a job not started yet
 * (queued behind another) is remembered, and fails as cancelled when it starts. Safe from any
 * thread that shares the guard's state: the guarded thread is busy running the job and cannot
 * take the request itself.
 */
export function cancelJob(shared: SharedArrayBuffer, tag: number): void {
  const state = new Int32Array(shared);
  const seq = Atomics.load(state, SEQ);
  // the tag is written while no job is armed: read between two equal odd seqs, it is that job's
  if ((seq & 1) === 1 && Atomics.load(state, TAG) === tag && Atomics.load(state, SEQ) === seq) {
    Atomics.store(state, CANCEL, seq);
    Atomics.add(state, BELL, 1);
    Atomics.notify(state, BELL);
    return;
  }
  const slot = Atomics.add(state, RING_NEXT, 1) % RING_SIZE;
  Atomics.store(state, RING + slot, tag);
  // the job may have been armed meanwhile: it looks at the ring after arming, and this looks again
  // after writing it, so one of the two sees the other
  const now = Atomics.load(state, SEQ);
  if ((now & 1) === 1 && Atomics.load(state, TAG) === tag && Atomics.load(state, SEQ) === now) {
    Atomics.store(state, CANCEL, now);
    Atomics.add(state, BELL, 1);
    Atomics.notify(state, BELL);
  }
}

/** Whether a job tagged `tag` was cancelled before it started (and forgets that it was). */
export function takeEarlyCancel(shared: SharedArrayBuffer, tag: number): boolean {
  if (tag <= 0) return false;
  const state = new Int32Array(shared);
  let found = false;
  for (let i = 0; i < RING_SIZE; i++) if (Atomics.compareExchange(state, RING + i, tag, 0) === tag) found = true;
  return found;
}

/**
 * What the guards of one thread share when none brings a state of its own: one watchdog, so that
 * only one script of theirs listens for SIGINT (a watchdog that started listening after a job of
 * another guard's began would take that job's SIGINT for a person's and step aside), its state,
 * and the id stacks are taken under (a job's sequence number tells the jobs apart).
 */
interface WatchdogSlot {
  state: Int32Array;
  id: number;
  watchdog: Watchdog | undefined;
  /** Set by the first debugged job: no watchdog thread any more (see runDebugged). */
  retired: boolean;
}

/** This thread's slot, on its global object: one for every copy of this module loaded on it. */
function threadSlot(): WatchdogSlot {
  const key = Symbol.for('extism-ipc.threadWatchdog');
  const global = globalThis as unknown as Record<symbol, WatchdogSlot | undefined>;
  const existing = global[key];
  if (existing) return existing;
  const slot = newSlot(guardState());
  Object.defineProperty(globalThis, key, { value: slot });
  return slot;
}

function newSlot(shared: SharedArrayBuffer): WatchdogSlot {
  return { state: new Int32Array(shared), id: newGuardId(), watchdog: undefined, retired: false };
}

/** The watchdog thread and the state it shares with the guarded thread. */
class Watchdog {
  /** The armed job's deadline, and until when the watchdog sleeps (ms since the epoch). */
  readonly deadline = new Float64Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;

  constructor(
    readonly state: Int32Array,
    guardId: number,
    onExit: () => void,
  ) {
    Atomics.store(state, READY, 0);
    Atomics.store(state, QUIT, 0);
    this.deadline[1] = Infinity;
    const workerData = { state: this.state, deadline: this.deadline, guardId, stackBell: stackBell() };
    this.worker = new Worker(WATCHDOG, { eval: true, workerData });
    this.worker.on('exit', onExit);
    this.worker.on('error', () => undefined);
    // after the listeners, which would keep the process alive otherwise
    this.worker.unref();
  }

  get ready(): boolean {
    return Atomics.load(this.state, READY) === 1;
  }

  /** Waits up to `ms` for the thread to start. */
  waitReady(ms: number): boolean {
    if (!this.ready) Atomics.wait(this.state, READY, 0, ms);
    return this.ready;
  }

  /**
   * Ends the thread: it leaves its script first, when it is running one, and then nothing of it
   * listens for SIGINT any more (a thread terminated inside it left SIGINTs astray).
   */
  stop(): void {
    Atomics.store(this.state, QUIT, 1);
    Atomics.add(this.state, BELL, 1);
    Atomics.notify(this.state, BELL);
    if (this.ready) Atomics.wait(this.state, READY, 1, 1000);
    void this.worker.terminate();
  }

  /**
   * A SIGINT the watchdog did not send (a person's Ctrl-C) stopped the job, which listened last:
   * raised again, it reaches the watchdog, which steps aside and raises it once more, so the
   * process ends (or its own handlers run) as it would have without the guard.
   */
  passOn(): void {
    process.kill(process.pid, 'SIGINT');
    Atomics.wait(this.state, READY, 1, 1000);
  }

  /** Arms the deadline (Infinity: none); returns the job's sequence number. */
  arm(timeoutMs: number, tag: number): number {
    const deadline = Date.now() + timeoutMs;
    this.deadline[0] = deadline;
    Atomics.store(this.state, TAG, tag);
    const seq = Atomics.add(this.state, SEQ, 1) + 1;
    // a watchdog that wakes before the deadline looks again then; one that sleeps longer is woken
    if (deadline < this.deadline[1]) {
      Atomics.add(this.state, BELL, 1);
      Atomics.notify(this.state, BELL);
    }
    return seq;
  }

  /** No notify: the watchdog finds the job gone when it next wakes. */
  disarm(): void {
    Atomics.add(this.state, SEQ, 1);
  }

  fired(seq: number): boolean {
    return Atomics.load(this.state, FIRED) === seq;
  }

  cancelled(seq: number): boolean {
    return Atomics.load(this.state, CANCEL) === seq;
  }
}

/**
 * Runs a job under a time limit: V8 interrupts even a tight wasm loop, and the isolate, its other
 * instances and their state survive. `finally` blocks inside the job do not run when it fires, so
 * the caller must repair its own bookkeeping afterwards.
 *
 * A job runs with `breakOnSigint` and a watchdog thread sends SIGINT at its deadline: a few µs a
 * job. On the main thread the watchdog starts with the guard, and the first job waits for it (it
 * takes about 30 ms to start), since only it can give the stack of a job out of time. Elsewhere
 * the first jobs run under `vm`'s own timeout, which starts a thread per job (about 100 µs), while
 * the watchdog starts beside them.
 *
 * A guard given shared state (`guardState`) is cancellable: its watchdog starts at once, a tagged
 * job always runs under it (even with no time limit), and `cancelJob` from another thread stops it.
 */
export class TimeoutGuard {
  private readonly context = vm.createContext({ job: undefined as (() => unknown) | undefined });
  private readonly script = new vm.Script('job()');
  private lastTimedOut = false;
  private lastCancelled = false;
  private lastStack: Error | null = null;
  /** The watchdog, its state and the id its stacks are taken under: this thread's, or this guard's own. */
  private readonly slot: WatchdogSlot;
  /**
   * While a debugger is attached, a job paused at a breakpoint is not out of time: no deadline is
   * armed, and the job runs with `breakOnSigint` so that ending the debug session (a SIGINT) stops it.
   */
  debugging = false;

  constructor(private readonly shared?: SharedArrayBuffer) {
    this.slot = shared ? newSlot(shared) : threadSlot();
    if (shared || isMainThread) this.start();
  }

  /** `tag` (a positive number) names the job for `cancelJob`. */
  run<T>(timeoutMs: number, job: () => T, tag = 0): T {
    this.lastTimedOut = false;
    this.lastCancelled = false;
    this.lastStack = null;
    if (this.debugging) return this.runDebugged(job);
    const cancellable = this.shared !== undefined && tag > 0 && !this.slot.retired;
    if (timeoutMs <= 0 && !cancellable) return job();
    this.context.job = job;
    if (this.slot.retired) {
      try {
        return this.script.runInContext(this.context, { timeout: timeoutMs }) as T;
      } finally {
        this.context.job = undefined;
      }
    }
    const watchdog = this.start();
    try {
      // a job waits for the watchdog once, at the first call, where it can be cancelled or give its
      // stack when out of time: vm's timeout can do neither
      if (!watchdog.ready && !((cancellable || isMainThread) && watchdog.waitReady(2000))) {
        return timeoutMs > 0 ? (this.script.runInContext(this.context, { timeout: timeoutMs }) as T) : job();
      }
      const seq = watchdog.arm(timeoutMs > 0 ? timeoutMs : Infinity, tag);
      try {
        if (cancellable && this.shared && takeEarlyCancel(this.shared, tag)) {
          this.lastCancelled = true;
          throw Object.assign(new Error('cancelled before it started'), { code: 'ERR_SCRIPT_EXECUTION_INTERRUPTED' });
        }
        return this.script.runInContext(this.context, { breakOnSigint: true }) as T;
      } catch (error) {
        if (this.lastCancelled) throw error;
        const interrupted = codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
        const ours = interrupted && watchdog.fired(seq);
        if (interrupted && !ours) watchdog.passOn();
        this.lastCancelled = ours && watchdog.cancelled(seq);
        this.lastTimedOut = ours && !this.lastCancelled;
        const stack = takeStack(this.slot.id, seq);
        if (this.lastTimedOut) this.lastStack = stack;
        throw error;
      } finally {
        watchdog.disarm();
      }
    } finally {
      this.context.job = undefined;
    }
  }

  /** Whether the error ended the last job because its time was up. */
  isTimeout(error: unknown): boolean {
    return codeOf(error) === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || (this.lastTimedOut && codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED');
  }

  /**
   * Where the last job was when its time ran out: an error made there, whose stack holds its wasm
   * frames as a trap's would; null when it could not be taken (the job was blocked outside
   * JavaScript, or ran under vm's own timeout, or on a thread other than the main one).
   */
  timeoutStack(): Error | null {
    return this.lastTimedOut ? this.lastStack : null;
  }

  /** Whether the error ended the last job because `cancelJob` asked. */
  isCancelled(error: unknown): boolean {
    return this.lastCancelled && codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
  }

  /**
   * A debugged job: only SIGINT (sent when its debug session ends) stops it. The watchdog thread
   * goes first, for good: it would take that SIGINT for a person's and raise it again, and a
   * watchdog started after one was stopped mid-wait does not get SIGINTs reliably. Later jobs of
   * this runtime (of every guard sharing the thread's watchdog) run under vm's own timeout, and a
   * running call can no longer be cancelled here (a restart of the runtime brings both back).
   */
  private runDebugged<T>(job: () => T): T {
    this.slot.watchdog?.stop();
    this.slot.watchdog = undefined;
    this.slot.retired = true;
    this.context.job = job;
    try {
      return this.script.runInContext(this.context, { breakOnSigint: true }) as T;
    } catch (error) {
      if (codeOf(error) === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') throw new IpcError('host', DEBUG_CALL_STOPPED);
      throw error;
    } finally {
      this.context.job = undefined;
    }
  }

  private start(): Watchdog {
    const slot = this.slot;
    if (slot.watchdog) return slot.watchdog;
    const watchdog: Watchdog = new Watchdog(slot.state, slot.id, () => {
      if (slot.watchdog === watchdog) slot.watchdog = undefined;
    });
    slot.watchdog = watchdog;
    return watchdog;
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
