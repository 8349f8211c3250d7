import type { CompiledModule, Engine, HostFunctionTable, HttpRequest, HttpResponse, InstanceSpec, ModuleBytes, PluginInstance, PluginMemory } from '../model/engine';
import { IpcError, PluginError } from '../model/errors';
import { FuelMeter } from './fuelMeter';
import { WasmInstance } from './instance';
import { ModuleCache, WasmModule } from './moduleCache';
import { SyncHttpClient } from './syncHttp';
import { TimeoutGuard } from './timeoutGuard';
import { WasiEnvironment } from './wasi';

function compiled(m: CompiledModule): WasmModule {
  if (!(m instanceof WasmModule)) throw new Error('engine: a module compiled by another engine');
  return m;
}

/** The engine of this project: V8's WebAssembly, our kernel, Node's WASI, HTTP made synchronous. */
export class WasmEngine implements Engine {
  private readonly modules = new ModuleCache();
  private readonly guard: TimeoutGuard;
  private readonly httpClient = new SyncHttpClient();
  readonly fuel = new FuelMeter();

  /** `cancelState` (from `guardState`): calls may be cancelled by whoever shares it. */
  constructor(cancelState?: SharedArrayBuffer) {
    this.guard = new TimeoutGuard(cancelState);
  }

  compile(bytes: ModuleBytes, maxPages: number, label: string, fuel: boolean): CompiledModule {
    return this.modules.get(bytes, maxPages, label, fuel);
  }

  instantiate(spec: InstanceSpec, hostFunctions: (memory: PluginMemory) => HostFunctionTable): PluginInstance {
    const linked = new Map<string, WebAssembly.Module>();
    for (const [name, m] of spec.linked) linked.set(name, compiled(m).module);
    const main = compiled(spec.module);
    try {
      // every module of the plugin that imports WASI gets its own, from the same grant
      const grant = spec.wasi;
      const wasi = grant ? () => new WasiEnvironment(grant) : null;
      // linked modules share one kernel: a plugin that links any keeps the kernel an instance of its own
      const merged = linked.size === 0 ? main.merged : null;
      const options = { maxPages: spec.maxPages, wasi, wasiHint: spec.wasiHint, pluginName: spec.name, linked, source: main.source, merged, fuel: this.fuel };
      return new WasmInstance(spec.label, merged ?? main.module, options, hostFunctions);
    } catch (error) {
      if (error instanceof IpcError) throw error;
      throw new PluginError(`${spec.label} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  runGuarded<T>(timeoutMs: number, job: () => T, cancelTag?: number): T {
    return this.guard.run(timeoutMs, job, cancelTag);
  }

  isTimeout(error: unknown): boolean {
    return this.guard.isTimeout(error);
  }

  timeoutStack(): object | null {
    return this.guard.timeoutStack();
  }

  isCancelled(error: unknown): boolean {
    return this.guard.isCancelled(error);
  }

  /** While debugging, no call runs out of time: a paused call is not a slow one. */
  set debugging(on: boolean) {
    this.guard.debugging = on;
  }

  http(request: HttpRequest): HttpResponse {
    return this.httpClient.request(request);
  }
}
