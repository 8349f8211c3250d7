// Every numeric limit, from any source (policy options, settings, CLI flags, manifests, load
// options), is checked here once, where it is normalised.

/** An inclusive range of whole numbers. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** The largest timer delay Node accepts (2^31-1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * `value` when it is a whole number in `range`; otherwise `error` of a message naming `field`, the
 * range and what was given. Negative, fractional, NaN, Infinity and non-numbers are all refused.
 */
export function wholeNumberIn(value: unknown, field: string, range: Range, error: (message: string) => Error): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max) return value;
  throw error(`${field} must be a whole number in [${range.min}, ${range.max}], got ${describeValue(value)}`);
}

/** A value as a message shows it: short, and its type plain. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Bytes as a person reads them: `300 MiB`, `12 KiB`, `5 bytes`. */
export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
    }
  }
  return `${n} bytes`;
}
