// Where values sit in the text of a JSON document, by their path (`calls[2]`, `groups[0].calls[1]`),
// for editors to put a diagnostic or a CodeLens at a value a checker named. A small scan of text
// that JSON.parse accepted; iterative, so any nesting is fine.

/** A value's place in the text: offsets of its first character and one past its last. */
export interface JsonPlace {
  start: number;
  end: number;
}

/**
 * The places of the values of `text` down to `maxDepth` path segments (the document itself is
 * `""`), keyed by path: object members as `.key` (the first without the dot), array items as `[i]`.
 * Keys are data: the map is a Map. Text that is not JSON gives what was found before the fault.
 */
export function jsonPlaces(text: string, maxDepth = 4): Map<string, JsonPlace> {
  const places = new Map<string, JsonPlace>();
  // open containers: their path, whether an array, the next item index, and the pending key
  const stack: { path: string; array: boolean; index: number; key: string | null; start: number }[] = [];
  let pendingKey: string | null = null;
  const childPath = (): string | null => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (stack.length > maxDepth) return null;
    const parentPath = top.path;
    if (top.array) return `${parentPath}[${top.index}]`;
    if (pendingKey === null) return null;
    return parentPath === '' ? pendingKey : `${parentPath}.${pendingKey}`;
  };
  const valueDone = (): void => {
    const top = stack[stack.length - 1];
    if (top?.array) top.index++;
    pendingKey = null;
  };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (top && !top.array && pendingKey === null) {
        // a key: what follows its colon is its value
        try {
          pendingKey = JSON.parse(text.slice(i, end)) as string;
        } catch {
          return places;
        }
        i = end;
        while (i < n && text[i] !== ':') i++;
        i++;
        continue;
      }
      const p = childPath();
      if (p !== null) places.set(p, { start: i, end });
      valueDone();
      i = end;
      continue;
    }
    if (c === '{' || c === '[') {
      const p = childPath();
      stack.push({ path: p ?? '\0', array: c === '[', index: 0, key: pendingKey, start: i });
      pendingKey = null;
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      const done = stack.pop();
      if (!done) return places;
      if (done.path !== '\0' && (stack.length <= maxDepth)) places.set(done.path, { start: done.start, end: i + 1 });
      valueDone();
      i++;
      continue;
    }
    // a number, true, false or null
    let end = i;
    while (end < n && !/[\s,\]}]/.test(text[end])) end++;
    const p = childPath();
    if (p !== null) places.set(p, { start: i, end });
    valueDone();
    i = end;
  }
  return places;
}

/** One past the closing quote of the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

/** The place of `path`, or of the nearest enclosing value that has one (`calls[2].expect.output` -> `calls[2]`). */
export function placeOf(places: ReadonlyMap<string, JsonPlace>, path: string): JsonPlace | undefined {
  let p = path;
  for (;;) {
    const found = places.get(p);
    if (found) return found;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return places.get('');
    p = p.slice(0, cut);
  }
}
