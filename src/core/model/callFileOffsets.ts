// Where a call file's calls are in its text, for editors (lenses, test locations): no parse needed.

/**
 * Where each call's object starts in the text of a call file (offsets, in order), for editors:
 * a small scan of the JSON that skips strings; [] when there is no "calls" list to be found.
 */
export function callOffsets(text: string): number[] {
  const key = /"calls"\s*:\s*\[/g;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      if (depth === 1) {
        key.lastIndex = i;
        const m = key.exec(text);
        if (m && m.index === i) return objectsIn(text, i + m[0].length);
      }
      i = skipString(text, i);
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return [];
}

function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function objectsIn(text: string, from: number): number[] {
  const starts: number[] = [];
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = skipString(text, i);
    else if (c === '{' || c === '[') {
      if (depth === 0) starts.push(i);
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) break;
      depth--;
    }
  }
  return starts;
}
