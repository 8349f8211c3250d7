import type { Caller } from '../../shared/traceRecords';
import type { ServedImport } from './userHostFunctions';

export type { Caller };

export interface PluginInfo {
  id: number;
  name: string;
  /** The `.wasm` file or the manifest it was loaded from. */
  source: string;
  /** The Extism manifest it was loaded with, if any. */
  manifest: string | null;
  /**
   * What it may do beyond computing: WASI, hosts for http_request, directories (host -> guest),
   * and whether http_headers gives it response headers.
   */
  grants: { wasi: boolean; allowedHosts: string[]; allowedPaths: Record<string, string>; httpResponseHeaders: boolean };
  configKeys: string[];
  /** Its own time limit from its manifest or loader, 0 for none (the host's limit applies too). */
  timeoutMs: number;
  /** The plugin that spawned it, or null for one loaded by a person or the API. */
  parentId: number | null;
  exports: string[];
  imports: string[];
  /** Its imports served by host functions the user supplied, each with the module file serving it. */
  hostFunctions: ServedImport[];
  /** Every file it was loaded from (module, manifest, linked modules), to watch for a rebuild. */
  files: string[];
  /** When it was last reloaded from changed files, or null. */
  reloadedAt: number | null;
  calls: number;
  errors: number;
  loadedAt: number;
}

/** Live plugins by id. Ids start at 1 and are never reused, whatever is unregistered. */
export class Registry<T extends PluginInfo = PluginInfo> {
  private nextId = 1;
  private readonly live = new Map<number, T>();

  allocateId(): number {
    return this.nextId++;
  }

  /** Continues numbering after ids handed out elsewhere (by a runtime that was replaced). */
  skipPast(id: number): void {
    this.nextId = Math.max(this.nextId, id + 1);
  }

  add(plugin: T): void {
    this.live.set(plugin.id, plugin);
  }

  get(id: number): T | undefined {
    return this.live.get(id);
  }

  remove(id: number): T | undefined {
    const plugin = this.live.get(id);
    this.live.delete(id);
    return plugin;
  }

  get size(): number {
    return this.live.size;
  }

  all(): T[] {
    return [...this.live.values()];
  }

  childrenOf(id: number): T[] {
    return this.all().filter((p) => p.parentId === id);
  }
}

export function describePlugin(p: { id: number; name: string }): string {
  return `plugin #${p.id} (${p.name})`;
}
