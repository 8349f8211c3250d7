import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CallOutcome } from './core';

/**
 * `extism-ipc test --fuel-baseline FILE`: each call's fuel recorded once, then compared on later
 * runs; a call whose fuel grew by more than the tolerance (percent) fails. Fuel is deterministic,
 * so the tolerance is 0 unless asked. The file maps `<call file> <call name>` to units.
 */
export class FuelBaseline {
  private readonly recorded = new Map<string, number>();
  private readonly existed: boolean;
  private added = 0;

  constructor(
    private readonly file: string,
    private readonly tolerancePercent: number,
  ) {
    this.existed = fs.existsSync(file);
    if (!this.existed) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new BaselineError(`--fuel-baseline: ${file} is not JSON (${(error as Error).message})`);
    }
    const calls = typeof parsed === 'object' && parsed !== null ? (parsed as { calls?: unknown }).calls : undefined;
    if (typeof calls !== 'object' || calls === null || Array.isArray(calls)) throw new BaselineError(`--fuel-baseline: ${file} has no "calls" object of fuel by call`);
    for (const [key, value] of Object.entries(calls)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BaselineError(`--fuel-baseline: ${file}: "${key}" must be a whole number of fuel units`);
      this.recorded.set(key, value);
    }
  }

  private key(callFile: string, o: CallOutcome): string {
    return `${path.relative(path.dirname(path.resolve(this.file)), callFile).split(path.sep).join('/')} ${o.call.name}`;
  }

  /**
   * Compares one call with its record (or records it); returns the note for its line and whether
   * it fails for its fuel.
   */
  check(callFile: string, o: CallOutcome): { note: string; failure: string | null } {
    if (o.fuel === undefined) return { note: '', failure: null };
    const key = this.key(callFile, o);
    const was = this.recorded.get(key);
    if (was === undefined) {
      this.recorded.set(key, o.fuel);
      this.added++;
      return { note: `fuel ${o.fuel}, new`, failure: null };
    }
    const change = was === 0 ? (o.fuel === 0 ? 0 : Infinity) : ((o.fuel - was) / was) * 100;
    const shown = `${change >= 0 ? '+' : ''}${Number.isFinite(change) ? change.toFixed(2) : '∞'}%`;
    const note = `fuel ${o.fuel}, was ${was}, ${shown}`;
    if (change <= this.tolerancePercent) return { note, failure: null };
    return { note, failure: `its fuel grew from ${was} to ${o.fuel} (${shown}), over the tolerance of ${this.tolerancePercent}%` };
  }

  /** Writes the file when it is new or calls were added to it; returns what it did, for the summary. */
  save(): string {
    if (this.existed && this.added === 0) return '';
    const calls = Object.fromEntries([...this.recorded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    fs.writeFileSync(this.file, `${JSON.stringify({ calls }, null, 2)}\n`);
    return this.existed ? `fuel baseline: ${this.added} new call(s) added to ${this.file}` : `fuel baseline: ${this.recorded.size} call(s) recorded in ${this.file}`;
  }
}

export class BaselineError extends Error {}
