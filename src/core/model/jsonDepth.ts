// How deep a JSON value nests, found without recursion: JSON.parse takes a million nested arrays,
// but JSON.stringify, structured clone and any recursive walk run out of stack at about ten
// thousand, so values a user or a plugin hands over are refused past a depth everything handles.

/** The deepest nesting a JSON value may have: `[]` and `{}` are 1 level, `[[1]]` is 2. */
export const MAX_JSON_DEPTH = 1000;

/** Whether `value` (from JSON.parse: no cycles) nests deeper than `max` levels; iterative. */
export function jsonDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length) {
    const v = values.pop();
    const depth = depths.pop()! + 1;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        depths.push(depth);
      }
    }
  }
  return false;
}

/** The message for a value nested too deep, after what names it. */
export function tooDeep(max: number = MAX_JSON_DEPTH): string {
  return `is nested deeper than ${max} levels`;
}
