import * as inspector from 'node:inspector';
import type { CpuProfile } from '../model/cpuProfile';

/**
 * Runs a job under the inspector's CPU profiler, in this process (the runtime's): the profile of
 * everything that ran meanwhile, sampled every `intervalUs` microseconds. The job runs
 * synchronously between the profiler's start and stop, so the profile holds that job only.
 */
export async function profileWhile<T>(intervalUs: number, job: () => T): Promise<{ result: T; profile: CpuProfile }> {
  if (!Number.isInteger(intervalUs) || intervalUs < 1 || intervalUs > 1_000_000) {
    throw new RangeError(`profile: the sampling interval must be a whole number of microseconds from 1 to 1000000, not ${intervalUs}`);
  }
  const session = new inspector.Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as R))));
  try {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: intervalUs });
    await post('Profiler.start');
    let outcome: { ok: true; result: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: job() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    // a failed job's error wins over the profile
    if (!outcome.ok) throw outcome.error;
    const result = outcome.result;
    return { result, profile };
  } finally {
    session.disconnect();
  }
}
