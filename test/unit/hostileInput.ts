import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IpcError, PluginHost } from '../../src/core';
import { text } from './helpers';

/** A fresh temporary directory, removed by `removeTempDirs`. */
const dirs: string[] = [];
export function tempDir(prefix = 'ipc-hostile-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A tiny seeded PRNG (mulberry32), so a failing case repeats from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Raw JavaScript error text that must never reach a user. */
export const RAW_JS_ERROR = /RangeError|TypeError|ReferenceError|SyntaxError|Cannot read propert|undefined is not|is not a function|Maximum call stack|Array buffer allocation|Invalid array length/;

export type Outcome = 'ok' | 'PolicyError' | 'PluginError' | 'TimeoutError' | 'HostError';

/**
 * Awaits one hostile case within `ms`: a success, or an IpcError whose message names `names` (the
 * plugin or the file) and has no raw JavaScript error text. Anything else fails the test with `what`.
 */
export async function cleanOutcome(what: string, promise: Promise<unknown>, names: RegExp, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([promise, late]);
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof IpcError, `${what}: not an IpcError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    assert.doesNotMatch(error.message, RAW_JS_ERROR, `${what}: raw JavaScript error text`);
    assert.match(error.message, names, `${what}: the message does not name the plugin or file`);
    return error.name as Outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** The seed scenario, on a host that has been through hostile input. */
export async function assertSeedScenario(host: PluginHost): Promise<void> {
  const run = await host.register('run');
  assert.deepEqual(JSON.parse(text(await host.call(run.id, 'run'))), { count: 3, total: 3, vowels: 'aeiouAEIOU' });
  await host.unregister(run.id);
}

export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = Object.create(null);
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}
