import { isMainThread } from 'node:worker_threads';
import { STACK_TRACE_LIMIT } from './pluginStack';

// Where a job out of time was: the guard's watchdog thread has the inspector call a hook on the
// guarded thread at the deadline (see timeoutGuard.ts), and the guard reads what it took.

/** The key of the hook the watchdog has the inspector call, on the guarded thread, when a job is out of time. */
export const HOOK_KEY = 'extism-ipc.deadlineStack';
/** How long a job out of time may take to give its stack before it is stopped without one. */
export const STACK_WAIT_MS = 200;

/**
 * The hook, on the main thread's global object under HOOK_KEY: one per process (however many
 * copies of this module are loaded), with what it took last and the bell it rings then, which the
 * watchdogs of the main thread's guards wait on. It makes an error and nothing else: what the job
 * was doing goes on unchanged.
 */
interface StackHook {
  (guard: number, seq: number): void;
  bell: Int32Array;
  taken: { guard: number; seq: number; stack: Error } | null;
  nextGuardId: number;
}

function stackHook(): StackHook {
  const key = Symbol.for(HOOK_KEY);
  const existing = (globalThis as unknown as Record<symbol, unknown>)[key];
  if (typeof existing === 'function') return existing as StackHook;
  const hook: StackHook = Object.assign(
    (guard: number, seq: number): void => {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = STACK_TRACE_LIMIT;
      try {
        hook.taken = { guard, seq, stack: new Error('out of time') };
      } finally {
        Error.stackTraceLimit = limit;
        Atomics.add(hook.bell, 0, 1);
        Atomics.notify(hook.bell, 0);
      }
    },
    { bell: new Int32Array(new SharedArrayBuffer(4)), taken: null, nextGuardId: 1 },
  );
  Object.defineProperty(globalThis, key, { value: hook });
  return hook;
}

/**
 * The bell a watchdog waits on for the stack; null off the main thread: the inspector reaches only
 * a process's main thread from another, so only guards there take stacks.
 */
export function stackBell(): Int32Array | null {
  return isMainThread ? stackHook().bell : null;
}

/** A guard's id, which the hook is called with; 0 off the main thread. */
export function newGuardId(): number {
  return isMainThread ? stackHook().nextGuardId++ : 0;
}

/** The stack the hook took for this guard's job `seq`, if it did; whatever it took is forgotten. */
export function takeStack(guard: number, seq: number): Error | null {
  if (!isMainThread) return null;
  const hook = stackHook();
  const taken = hook.taken;
  hook.taken = null;
  return taken !== null && taken.guard === guard && taken.seq === seq ? taken.stack : null;
}
