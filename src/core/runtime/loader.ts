import type { CompiledModule, Engine, FunctionImport, ModuleBytes, PluginInstance } from '../model/engine';
import { grantedDirectories } from '../model/allowedPaths';
import { PluginError } from '../model/errors';
import { dataRecord } from '../model/manifest';
import { ignoredManifestGrants, LoadOptions, pluginGrants, pluginLimits, withPluginRule } from '../model/loadOptions';
import type { LogLevel } from '../model/logging';
import { countsFuel, type Policy } from '../model/policy';
import { isOldAbiImport } from '../model/hostFunctionStub';
import { describePlugin } from '../model/registry';
import { EXTISM_ENV, importName, OWN_FUNCTIONS, OWN_MODULES, ServedImport } from '../model/userHostFunctions';
import { BoundImport, createHostFunctions, HostServices } from './hostFunctions';
import type { LivePlugin } from './livePlugin';
import { checkFile, FileRefusal, readFileChecked } from './files';
import { LoadedManifest, ManifestModuleBytes, readManifest } from './manifestFiles';
import { isManifestPath } from './resolve';

const HIDDEN_EXPORTS = new Set(['_initialize', 'hs_init']);
const WASI = 'wasi_snapshot_preview1';

/** The function imports of every module of a plugin, each once (the main module's type first). */
export function functionImportsOf(plugin: { module: CompiledModule; linked: ReadonlyMap<string, CompiledModule> }): FunctionImport[] {
  const seen = new Map<string, FunctionImport>();
  for (const m of [plugin.module, ...plugin.linked.values()]) {
    for (const imp of m.functionImports) {
      const key = importName(imp.module, imp.name);
      if (!seen.has(key)) seen.set(key, imp);
    }
  }
  return [...seen.values()];
}

/** Who asks for a load: the id it gets, its parent, and whether its manifest may grant. */
export interface LoadRequest {
  id: number;
  file: string;
  name: string;
  parent: LivePlugin | null;
  options: LoadOptions;
  /** A person chose this plugin, so its manifest may grant WASI, hosts and paths. */
  manifestMayGrant: boolean;
  /** The vars of the plugin it replaces (a reload): its start-up sees them already. */
  vars?: Map<string, Uint8Array>;
  /** Checks its bindings and resolves their targets, once its module is compiled and before it starts. */
  bind?: (plugin: LivePlugin) => BoundImport[];
}

/** Reads, compiles and starts plugins: a file or manifest in, a live plugin out. */
export class PluginLoader {
  constructor(
    private readonly engine: Engine,
    private readonly services: HostServices,
    private readonly log: (pluginId: number, level: LogLevel, message: string, name?: string) => void,
    /** Runs a plugin's start-up (its start section, `_initialize`, `hs_init`) under a time limit. */
    private readonly startUp: (plugin: LivePlugin, start: () => PluginInstance) => PluginInstance,
  ) {}

  load(policy: Policy, hints: { wasi: string; hostFunctions: string }, req: LoadRequest): LivePlugin {
    const wasiHint = hints.wasi;
    const { id, file, name, parent, manifestMayGrant } = req;
    const options = withPluginRule(policy, name, req.options);
    const who = parent ? `register_plugin: ${describePlugin(parent)}` : 'register';
    const label = `${who}: "${name}"`;
    const manifest = isManifestPath(file) ? readManifest(file, policy.maxModuleBytes) : null;
    const limits = pluginLimits(policy, manifest, options);
    const { module, linked } = this.compile(file, manifest, options, limits.memoryMaxPages, policy.maxModuleBytes, label, countsFuel(policy));
    const kernelNote = module.kernelNote();
    if (kernelNote) this.log(id, 'info', `${file}: runs with a kernel instance of its own, not merged into the module: ${kernelNote}`, name);
    const config = dataRecord({ ...(manifest?.config ?? {}), ...(options.config ?? {}) });
    const plugin: LivePlugin = {
      id,
      name,
      source: file,
      manifest: manifest ? manifest.file : null,
      parentId: parent?.id ?? null,
      exports: [],
      imports: [...module.imports],
      files: [file, ...(manifest ? [manifest.main, ...manifest.linked].flatMap((m) => (m.file ? [m.file] : [])) : []), ...Object.values(options.link ?? {})],
      reloadedAt: null,
      calls: 0,
      errors: 0,
      loadedAt: Date.now(),
      config,
      configKeys: Object.keys(config),
      grants: pluginGrants(policy, options, manifest, manifestMayGrant),
      timeoutMs: limits.timeoutMs,
      vars: req.vars ?? new Map(),
      maxVarBytes: limits.maxVarBytes,
      maxHttpResponseBytes: limits.maxHttpResponseBytes,
      httpStatus: 0,
      httpHeaders: null,
      bound: [],
      logLevel: null,
      hostFunctions: [],
      memoryMaxPages: limits.memoryMaxPages,
      module,
      linked,
      instance: undefined as unknown as PluginInstance,
      // as given, so a reload applies the rule in force then
      options: req.options,
      manifestMayGrant,
    };
    if (ignoredManifestGrants(manifest, manifestMayGrant)) {
      this.log(id, 'warn', `manifest ${manifest?.file} asks for allowed_hosts or allowed_paths; ignored, since manifests of spawned plugins may not grant (manifestGrants)`, name);
    }
    if (req.bind) plugin.bound = req.bind(plugin);
    this.checkImports(plugin, label, hints.hostFunctions);
    plugin.hostFunctions = this.servedImports(plugin);
    plugin.instance = this.startUp(plugin, () => this.instantiate(plugin, wasiHint));
    plugin.exports = plugin.instance.exportNames().filter((n) => !HIDDEN_EXPORTS.has(n));
    return plugin;
  }

  /**
   * A function import no one supplies fails the load here, saying where such functions come from,
   * rather than at instantiation with no hint.
   */
  private checkImports(plugin: LivePlugin, label: string, hint: string): void {
    const user = this.services.user.functions;
    const bound = new Set(plugin.bound.map((b) => importName(b.module, b.name)));
    const missing = functionImportsOf(plugin).filter(({ module, name }) => {
      if (module === EXTISM_ENV || module === WASI || plugin.linked.has(module)) return false;
      if (OWN_MODULES.has(module) && (OWN_FUNCTIONS.has(name) || (module === 'env' && name === 'abort'))) return false;
      return !bound.has(importName(module, name)) && !user.slot(module, name);
    });
    if (!missing.length) return;
    const oldAbi = missing.filter(isOldAbiImport);
    if (oldAbi.length) {
      const names = oldAbi.slice(0, 3).map((imp) => `"${imp.module}"."${imp.name}"`).join(', ');
      throw new PluginError(
        `${label} was built for Extism's pre-1.0 ABI (it imports ${names}${oldAbi.length > 3 ? ', …' : ''}), which no current Extism host offers; rebuild it with a current PDK`,
        { kind: 'rebuildOldAbi', plugin: plugin.name },
      );
    }
    const failed = user.failures.length ? `; host functions that did not load: ${user.failures.map((f) => `${f.file} (${f.reason})`).join('; ')}` : '';
    const list = missing.map((imp) => `"${imp.module}"."${imp.name}"${imp.type ? ` ${imp.type}` : ''}`).join(', ');
    const none = 'no linked module, host function or binding supplies';
    const which = missing.length === 1 ? `the function ${list}, which ${none}` : `functions ${none}: ${list}`;
    const imports = missing.map(({ module, name, type }) => ({ module, name, type }));
    throw new PluginError(`${label} imports ${which}; ${hint}${failed}`, { kind: 'supplyImports', plugin: plugin.name, imports });
  }

  /** Which of its imports the user's host functions serve, and from which file (a binding wins). */
  servedImports(plugin: LivePlugin): ServedImport[] {
    const user = this.services.user.functions;
    const bound = new Set(plugin.bound.map((b) => importName(b.module, b.name)));
    const served: ServedImport[] = [];
    for (const imp of functionImportsOf(plugin)) {
      const key = importName(imp.module, imp.name);
      const slot = imp.module === EXTISM_ENV || bound.has(key) || plugin.linked.has(imp.module) ? undefined : user.slot(imp.module, imp.name);
      if (slot) served.push({ import: key, file: slot.file });
    }
    return served;
  }

  /** A fresh instance of a live plugin's modules (its host-side state, vars included, stays). */
  restart(plugin: LivePlugin, wasiHint: string): PluginInstance {
    return this.startUp(plugin, () => this.instantiate(plugin, wasiHint));
  }

  private instantiate(plugin: LivePlugin, wasiHint: string): PluginInstance {
    const wasi = plugin.grants.wasi
      ? {
          directories: grantedDirectories(plugin.grants.allowedPaths),
          onOutput: (stream: 'stdout' | 'stderr', line: string) => this.log(plugin.id, stream === 'stdout' ? 'info' : 'warn', `[${stream}] ${line}`),
        }
      : null;
    const spec = { label: describePlugin(plugin), name: plugin.name, module: plugin.module, linked: plugin.linked, maxPages: plugin.memoryMaxPages, wasi, wasiHint };
    const imports = functionImportsOf(plugin);
    return this.engine.instantiate(spec, (memory) => createHostFunctions(this.services, plugin, memory, imports));
  }

  private compile(file: string, manifest: LoadedManifest | null, options: LoadOptions, maxPages: number, maxBytes: number, label: string, fuel: boolean) {
    const fromManifest = (m: ManifestModuleBytes, manifestFile: string) =>
      this.engine.compile({ key: `${manifestFile}#${m.name}`, stamp: manifest?.stamp ?? '', source: m.file ?? manifestFile, read: () => m.bytes }, maxPages, label, fuel);
    const fromFile = (path: string) => this.engine.compile(moduleFile(path, maxBytes, label), maxPages, label, fuel);
    const module = manifest ? fromManifest(manifest.main, manifest.file) : fromFile(file);
    const linked = new Map<string, CompiledModule>();
    for (const m of manifest?.linked ?? []) linked.set(m.name, fromManifest(m, manifest!.file));
    for (const [name, path] of Object.entries(options.link ?? {})) linked.set(name, fromFile(path));
    return { module, linked };
  }
}

/** A `.wasm` file, checked now (regular, within the limit) and read only if it must be compiled. */
function moduleFile(file: string, maxBytes: number, label: string): ModuleBytes {
  const refused = (error: unknown): never => {
    if (error instanceof FileRefusal) throw new PluginError(`${label}: ${file} ${error.reason}`);
    throw error;
  };
  let stamp = '';
  try {
    stamp = checkFile(file, maxBytes, 'maxModuleBytes').stamp;
  } catch (error) {
    refused(error);
  }
  const read = (): Uint8Array => {
    try {
      return readFileChecked(file, maxBytes, 'maxModuleBytes');
    } catch (error) {
      return refused(error);
    }
  };
  return { key: file, stamp, source: file, read };
}
