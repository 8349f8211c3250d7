/**
 * Demangles a function name from a module's name section. Rust's legacy scheme (`_ZN…E`, what
 * stable rustc emits by default) is decoded here; any other name (Rust v0 `_R…`, C++ Itanium
 * `_Z…`, C, Go, Zig, AssemblyScript) is returned as it is.
 */
export function demangle(name: string): string {
  return demangleRustLegacy(name) ?? name;
}

const ESCAPES = new Map([
  ['SP', '@'],
  ['BP', '*'],
  ['RF', '&'],
  ['LT', '<'],
  ['GT', '>'],
  ['LP', '('],
  ['RP', ')'],
  ['C', ','],
]);

/** `_ZN` path `E` (also `ZN…`, `__ZN…`, and a `.llvm.…` suffix), without its `h<16 hex>` hash; null if not one. */
export function demangleRustLegacy(name: string): string | null {
  let s = name;
  if (s.startsWith('__ZN')) s = s.slice(4);
  else if (s.startsWith('_ZN')) s = s.slice(3);
  else if (s.startsWith('ZN')) s = s.slice(2);
  else return null;
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    if (at >= s.length) return null;
    if (s[at] === 'E') break;
    let end = at;
    while (end < s.length && s[end] >= '0' && s[end] <= '9') end++;
    if (end === at) return null;
    const length = Number(s.slice(at, end));
    if (!Number.isSafeInteger(length) || length === 0 || end + length > s.length) return null;
    parts.push(s.slice(end, end + length));
    at = end + length;
  }
  const rest = s.slice(at + 1);
  if (rest !== '' && !rest.startsWith('.')) return null;
  if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  const decoded: string[] = [];
  for (const part of parts) {
    const text = identifier(part);
    if (text === null) return null;
    decoded.push(text);
  }
  return decoded.join('::');
}

function identifier(part: string): string | null {
  let s = part.startsWith('_$') ? part.slice(1) : part;
  let out = '';
  while (s.length) {
    if (s.startsWith('$')) {
      const end = s.indexOf('$', 1);
      if (end < 0) return null;
      const code = s.slice(1, end);
      const known = ESCAPES.get(code);
      if (known !== undefined) out += known;
      else if (/^u[0-9a-f]{1,6}$/.test(code)) {
        const point = parseInt(code.slice(1), 16);
        if (point > 0x10ffff) return null;
        out += String.fromCodePoint(point);
      } else return null;
      s = s.slice(end + 1);
    } else if (s.startsWith('..')) {
      out += '::';
      s = s.slice(2);
    } else {
      const next = s.search(/\$|\.\./);
      const take = next < 0 ? s.length : next === 0 ? 1 : next;
      out += s.slice(0, take);
      s = s.slice(take);
    }
  }
  return out;
}
