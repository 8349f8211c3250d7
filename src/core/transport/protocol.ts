// The protocol between a face's PluginHost and the runtime, whatever carries it (a direct call, a
// worker thread, a child process): a request map typed both ways, and batched events.
import type { ProfiledCall } from '../model/cpuProfile';
import type { SerializedError } from '../model/errors';
import type { LoadOptions } from '../model/loadOptions';
import type { LogEntry } from '../model/logging';
import type { Caller, PluginCounters, PluginInfo } from '../model/registry';
import type { TraceRecord } from '../../shared/traceRecords';
import type { RuntimeSettings } from '../model/runtimeSettings';
import type { HeldModule, HostFunctionsLoad } from '../model/userHostFunctions';
import type { SpanData } from '../model/spanData';
import type { SpanBatch } from './spanCodec';
import type { DebugCallOptions, InspectorAddress } from '../model/debugging';

/** Each request the runtime serves: its parameters and its result. */
export interface Requests {
  /** The first request of a runtime: its settings, and the ids a runtime it replaces handed out. */
  start: { params: { settings: RuntimeSettings; lastPluginId: number; lastSpanId: number }; result: void };
  /** New settings. */
  configure: { params: RuntimeSettings; result: void };
  /** Load a plugin by path or name. */
  register: { params: { target: string; options: LoadOptions }; result: PluginInfo };
  /**
   * Load the JS modules that supply host functions (absolute paths, later ones overriding earlier
   * ones); a file changed since it was loaded is loaded again. Takes the ones that load and names
   * each that did not; `held` versions (a top level that did not finish in time) are not run.
   */
  hostFunctions: { params: { files: string[]; held?: HeldModule[] }; result: HostFunctionsLoad };
  /** Call an export of a live plugin; `hostContext` is what its host functions' `hostContext()` gives. */
  call: { params: { caller: Exclude<Caller, number>; callerName?: string; id: number; func: string; input: Uint8Array; hostContext?: unknown; debug?: DebugCallOptions }; result: Uint8Array };
  /** A call as `call`, under the inspector's CPU profiler (sampling every `intervalUs`): its output and the profile. */
  profileCall: {
    params: { caller: Exclude<Caller, number>; id: number; func: string; input: Uint8Array; hostContext?: unknown; intervalUs: number };
    result: ProfiledCall;
  };
  /** Load a live plugin again from its (changed) files, keeping its id and vars. */
  reload: { params: { id: number }; result: PluginInfo };
  unregister: { params: { id: number }; result: void };
  unregisterAll: { params: Record<string, never>; result: void };
  /**
   * Opens (or closes) the runtime's V8 inspector on a loopback port for a debugger: only a runtime
   * in a child process of its own can be debugged.
   */
  inspector: { params: { open: boolean }; result: InspectorAddress | null };
  /** What the runtime kept of a recent call's input and output (only while tracing); null when not kept. */
  spanData: { params: { spanId: number }; result: SpanData | null };
}

export type Method = keyof Requests;
export type Params<M extends Method> = Requests[M]['params'];
export type Result<M extends Method> = Requests[M]['result'];

/**
 * A handler for every method, checked at compile time: the runtime side must serve them all. Only
 * loading modules may take its time (a Promise); requests after it wait their turn. `seq` is the
 * request's number, by which a call is cancelled: that travels beside the protocol, since the
 * runtime's thread is busy with the call (see `Carrier.cancel`).
 */
export type RequestHandlers = { [M in Method]: (params: Params<M>, seq: number) => M extends 'hostFunctions' | 'profileCall' ? Promise<Result<M>> : Result<M> };

export type RequestMessage = { [M in Method]: { seq: number; method: M; params: Params<M> } }[Method];

/** A reply carries what happened during its request, so a request costs one message back. */
export type ReplyMessage = (
  | { [M in Method]: { type: 'reply'; seq: number; method: M; ok: true; result: Result<M> } }[Method]
  | { type: 'reply'; seq: number; method: Method; ok: false; error: SerializedError }
) & { events?: EventsMessage };

/**
 * What the runtime reports as it happens, batched. A plugin's description (bounded names and lists,
 * see `pluginInfo`) crosses when it is added or changes; a call sends only its counters.
 */
export type RuntimeEvent =
  | { type: 'pluginAdded'; plugin: PluginInfo }
  | { type: 'pluginRemoved'; id: number }
  /** Its description changed (a reload, the host functions serving it): the whole of it, once. */
  | { type: 'pluginChanged'; plugin: PluginInfo }
  /** It was called: its counters, all that crosses per call. */
  | ({ type: 'pluginCounted' } & PluginCounters)
  /** A life event, or a span still running (ended spans travel packed in a SpanBatch). */
  | { type: 'record'; record: TraceRecord }
  | { type: 'log'; entry: LogEntry };

export interface EventsMessage {
  type: 'events';
  events: RuntimeEvent[];
  spans: SpanBatch;
}

/** Everything the runtime sends. */
export type RuntimeMessage = ReplyMessage | EventsMessage;

/** A message and the buffers it hands over (they are moved, not copied, where the carrier can). */
export interface Outgoing<T> {
  message: T;
  transfer: ArrayBuffer[];
}
