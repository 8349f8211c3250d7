import type { FuelCounter } from '../model/engine';
import { PluginError } from '../model/errors';

/** The tank when no limit is set: counts stay exact in a double below 2^53. */
const UNLIMITED = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The fuel of the runtime: one mutable i64 global that every metered module imports, so a plugin,
 * its linked modules and every plugin it calls draw on the same tank, which the runtime fills at
 * the start of each top-level call. Metered code traps as soon as the tank goes below zero.
 */
export class FuelMeter implements FuelCounter {
  readonly global = new WebAssembly.Global({ value: 'i64', mutable: true }, UNLIMITED);
  private limit = 0;

  reset(limit: number): void {
    this.limit = limit;
    this.global.value = limit > 0 ? BigInt(limit) : UNLIMITED;
  }

  left(): number {
    return Number(this.global.value);
  }

  /**
   * The error of a plugin whose metered code trapped because the tank went below zero (it traps at
   * once, so no other trap comes between); null for any other failure.
   */
  ranOut(label: string, func: string, error: unknown): PluginError | null {
    if (!(error instanceof WebAssembly.RuntimeError) || (this.global.value as bigint) >= 0n) return null;
    return new PluginError(`${label}.${func} ran out of fuel (${this.limit} units)`);
  }
}
