import * as vm from 'node:vm';

/**
 * Runs a job under V8's script timeout. The watchdog interrupts even a tight wasm loop, and the
 * isolate, its other instances and their state survive. `finally` blocks inside the job do not run
 * when it fires, so the caller must repair its own bookkeeping afterwards.
 */
export class TimeoutGuard {
  private readonly context = vm.createContext({ job: undefined as (() => unknown) | undefined });
  private readonly script = new vm.Script('job()');

  run<T>(timeoutMs: number, job: () => T): T {
    if (timeoutMs <= 0) return job();
    this.context.job = job;
    try {
      return this.script.runInContext(this.context, { timeout: timeoutMs }) as T;
    } finally {
      this.context.job = undefined;
    }
  }
}

export function isTimeout(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}
