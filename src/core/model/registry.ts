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
  /**
   * How many entries of each list were left out of this copy (at most MAX_LISTED are listed; the
   * plugin has these many more). Names a plugin controls are cut at MAX_NAME_CHARS, with a note.
   */
  unlisted: Unlisted;
}

/** The lists of a plugin's description that are bounded when they cross to a face. */
export interface Unlisted {
  exports: number;
  imports: number;
  configKeys: number;
  hostFunctions: number;
  allowedHosts: number;
  allowedPaths: number;
}

/** The counters of a live plugin, which change with every call: all that crosses per call. */
export interface PluginCounters {
  id: number;
  calls: number;
  errors: number;
}

/**
 * The most UTF-16 code units of a name a plugin controls (an export, an import, a config key...)
 * that cross to a face; the real name stays in the runtime, where calls use it.
 */
export const MAX_NAME_CHARS = 256;
/** The most entries of one list of a plugin's description that cross to a face. */
export const MAX_LISTED = 1000;

/** A name cut at `max` UTF-16 code units (never inside a surrogate pair), saying how many more there were. */
export function cutName(name: string, max = MAX_NAME_CHARS): string {
  if (name.length <= max) return name;
  let end = max;
  const last = name.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${name.slice(0, end)}… (${name.length - end} more characters)`;
}

/** The first MAX_LISTED entries, each name cut; how many were left out is `items.length - MAX_LISTED`. */
export function cutList(items: readonly string[]): string[] {
  const n = Math.min(items.length, MAX_LISTED);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = cutName(items[i]);
  return out;
}

/** How many entries `cutList` leaves out. */
export function unlistedOf(items: readonly unknown[]): number {
  return Math.max(0, items.length - MAX_LISTED);
}

/** Live plugins by id. Ids start at 1 and are never reused once a plugin lived with one, whatever is unregistered. */
export class Registry<T extends { id: number; parentId: number | null } = PluginInfo> {
  private nextId = 1;
  private readonly live = new Map<number, T>();

  allocateId(): number {
    return this.nextId++;
  }

  /**
   * Gives back the id `allocateId` returned last, for a plugin that never lived (its load failed),
   * so ids stay dense for what lived. An id that another allocation followed is kept spent.
   */
  releaseId(id: number): void {
    if (id === this.nextId - 1 && !this.live.has(id)) this.nextId = id;
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
