import type { MissingImport } from './remedy';

/**
 * Whether imports come from Extism's pre-1.0 ABI, where the kernel's functions were imported from
 * `env` with an `extism_` prefix (the early JS and Rust PDKs): such a plugin needs a rebuild with a
 * current PDK, not host functions.
 */
export function isOldAbiImport(imp: { module: string; name: string }): boolean {
  return imp.module === 'env' && imp.name.startsWith('extism_');
}

interface Signature {
  params: string[];
  results: string[];
}

/** `(i64, i32) -> i64` as the import-type reader writes it; null when it is not in that form. */
export function parseSignature(type: string | null): Signature | null {
  const m = type === null ? null : /^\(([a-z0-9, ]*)\) -> (?:\(([a-z0-9, ]*)\)|([a-z0-9]+)|\(\))$/.exec(type);
  if (!m) return null;
  const list = (s: string | undefined) => (s ? s.split(',').map((t) => t.trim()).filter(Boolean) : []);
  return { params: list(m[1]), results: m[3] ? [m[3]] : list(m[2]) };
}

const ZERO: Record<string, string> = { i32: '0', i64: '0n', f32: '0', f64: '0' };

/**
 * A host-function module, in the shape `@extism/extism`'s `functions` option takes, with one stub
 * per import: the right module and name, one parameter per wasm parameter, and a body that says it
 * is not written yet. Names are the plugin's data, so they appear only as string literals.
 */
export function hostFunctionStub(plugin: string, imports: readonly MissingImport[]): string {
  const byModule = new Map<string, MissingImport[]>();
  for (const imp of imports) {
    const list = byModule.get(imp.module) ?? [];
    list.push(imp);
    byModule.set(imp.module, list);
  }
  const lines = [
    `// Host functions for the plugin ${literal(plugin)}, in the shape @extism/extism's createPlugin`,
    '// takes as `functions`: the same object runs under the SDK and in Extism IPC.',
    '// Each function gets the call context first (read, store, alloc, vars...), then the import\'s',
    '// parameters: i64 as bigint, i32, f32 and f64 as numbers. An i64 result must be a bigint.',
    '// Write each TODO; the module is loaded again when it is saved.',
    '',
    'export default {',
  ];
  for (const [module, list] of byModule) {
    lines.push(`  ${literal(module)}: {`);
    for (const imp of list) {
      const sig = parseSignature(imp.type);
      const params = sig ? sig.params.map((t, i) => `p${i} /* ${t} */`) : ['...params'];
      const returns = sig ? (sig.results.length === 0 ? 'nothing' : sig.results.join(', ')) : 'unknown';
      lines.push(`    // ${sig ? imp.type : 'parameter types unknown'}: returns ${returns}`);
      lines.push(`    ${literal(imp.name)}(callContext, ${params.join(', ')}) {`);
      lines.push(`      // TODO: what the host does for this import${sig && sig.results.length === 1 && ZERO[sig.results[0]] ? `; return a ${sig.results[0]}, such as ${ZERO[sig.results[0]]}` : ''}`);
      lines.push(`      throw new Error(${literal(`${imp.module}.${imp.name} is not written yet`)});`);
      lines.push('    },');
    }
    lines.push('  },');
  }
  lines.push('};', '');
  return lines.join('\n');
}

/** A JavaScript string literal of any text; JSON's escaping also covers U+2028 and U+2029 in ES2019+. */
function literal(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
