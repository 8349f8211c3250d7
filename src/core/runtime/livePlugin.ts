import type { CompiledModule, PluginInstance } from '../model/engine';
import type { LoadOptions } from '../model/loadOptions';
import type { PluginInfo } from '../model/registry';
import type { HostedPlugin } from './hostFunctions';

/** A plugin as the runtime keeps it: what the faces see, its host-side state, its instance. */
export interface LivePlugin extends PluginInfo, HostedPlugin {
  module: CompiledModule;
  linked: ReadonlyMap<string, CompiledModule>;
  instance: PluginInstance;
  memoryMaxPages: number;
  /** What it was loaded with, to load it again the same way. */
  options: LoadOptions;
  manifestMayGrant: boolean;
}

/** A copy of what a face may see of a live plugin. */
export function pluginInfo(p: LivePlugin): PluginInfo {
  return {
    id: p.id,
    name: p.name,
    source: p.source,
    manifest: p.manifest,
    grants: { wasi: p.grants.wasi, allowedHosts: [...p.grants.allowedHosts], allowedPaths: { ...p.grants.allowedPaths }, httpResponseHeaders: p.grants.httpResponseHeaders },
    configKeys: [...p.configKeys],
    timeoutMs: p.timeoutMs,
    parentId: p.parentId,
    exports: [...p.exports],
    imports: [...p.imports],
    hostFunctions: p.hostFunctions.map((h) => ({ ...h })),
    files: [...p.files],
    reloadedAt: p.reloadedAt,
    calls: p.calls,
    errors: p.errors,
    loadedAt: p.loadedAt,
  };
}
