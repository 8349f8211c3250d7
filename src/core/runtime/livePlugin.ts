import type { CompiledModule, PluginInstance } from '../model/engine';
import type { LoadOptions } from '../model/loadOptions';
import { cutList, cutName, MAX_LISTED, PluginCounters, PluginInfo, unlistedOf } from '../model/registry';
import type { HostedPlugin } from './hostFunctions';

/** A plugin as the runtime keeps it: what the faces see, its host-side state, its instance. */
export interface LivePlugin extends Omit<PluginInfo, 'unlisted'>, HostedPlugin {
  module: CompiledModule;
  linked: ReadonlyMap<string, CompiledModule>;
  instance: PluginInstance;
  memoryMaxPages: number;
  /** What it was loaded with, to load it again the same way. */
  options: LoadOptions;
  manifestMayGrant: boolean;
}

/**
 * A copy of what a face may see of a live plugin: it crosses to the face when the plugin is added
 * or its description changes, never per call. What the plugin controls is bounded: each name cut
 * at MAX_NAME_CHARS, each list at MAX_LISTED entries (`unlisted` says how many more). Paths are
 * kept whole: each was opened, so the system bounds it, and the face watches them.
 */
export function pluginInfo(p: LivePlugin): PluginInfo {
  const hosts = p.grants.allowedHosts;
  const paths = Object.entries(p.grants.allowedPaths);
  // fromEntries defines each key, `__proto__` included, as an own property
  const allowedPaths = Object.fromEntries(paths.slice(0, MAX_LISTED).map(([host, guest]) => [host, cutName(guest)]));
  return {
    id: p.id,
    name: cutName(p.name),
    source: p.source,
    manifest: p.manifest,
    grants: { wasi: p.grants.wasi, allowedHosts: cutList(hosts), allowedPaths, httpResponseHeaders: p.grants.httpResponseHeaders },
    configKeys: cutList(p.configKeys),
    timeoutMs: p.timeoutMs,
    parentId: p.parentId,
    exports: cutList(p.exports),
    imports: cutList(p.imports),
    hostFunctions: p.hostFunctions.slice(0, MAX_LISTED).map((h) => ({ import: cutName(h.import), file: h.file })),
    files: [...p.files],
    reloadedAt: p.reloadedAt,
    calls: p.calls,
    errors: p.errors,
    loadedAt: p.loadedAt,
    unlisted: {
      exports: unlistedOf(p.exports),
      imports: unlistedOf(p.imports),
      configKeys: unlistedOf(p.configKeys),
      hostFunctions: unlistedOf(p.hostFunctions),
      allowedHosts: unlistedOf(hosts),
      allowedPaths: unlistedOf(paths),
    },
  };
}

/** What changes with every call, and all that crosses for it. */
export function pluginCounters(p: LivePlugin): PluginCounters {
  return { id: p.id, calls: p.calls, errors: p.errors };
}
