/**
 * What would let a refused or failed operation succeed, as data: a face turns it into an action
 * (a button that grants and retries, a stub module to fill in). The message stays the error's own.
 */
export type Remedy =
  /** The plugin imports WASI, which it was not granted. */
  | { kind: 'grantWasi'; plugin: string }
  /** The plugin asked http_request for a host outside its allowed hosts. */
  | { kind: 'allowHost'; plugin: string; host: string }
  /** The plugin imports functions nobody supplies: a host-function module could. */
  | { kind: 'supplyImports'; plugin: string; imports: MissingImport[] }
  /** The plugin was built against Extism's pre-1.0 ABI (`env.extism_*` imports): rebuild it. */
  | { kind: 'rebuildOldAbi'; plugin: string };

export interface MissingImport {
  readonly module: string;
  readonly name: string;
  /** As a module's type section gives it, `(i64, i32) -> i64`; null when unknown. */
  readonly type: string | null;
}

/** The remedy as it crosses a transport: only known shapes with string fields pass. */
export function checkedRemedy(value: unknown): Remedy | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.plugin !== 'string') return undefined;
  switch (r.kind) {
    case 'grantWasi':
    case 'rebuildOldAbi':
      return { kind: r.kind, plugin: r.plugin };
    case 'allowHost':
      return typeof r.host === 'string' ? { kind: 'allowHost', plugin: r.plugin, host: r.host } : undefined;
    case 'supplyImports': {
      if (!Array.isArray(r.imports)) return undefined;
      const imports: MissingImport[] = [];
      for (const i of r.imports as unknown[]) {
        const m = i as Record<string, unknown> | null;
        if (!m || typeof m.module !== 'string' || typeof m.name !== 'string') return undefined;
        imports.push({ module: m.module, name: m.name, type: typeof m.type === 'string' ? m.type : null });
      }
      return { kind: 'supplyImports', plugin: r.plugin, imports };
    }
    default:
      return undefined;
  }
}
