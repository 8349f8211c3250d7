import type { SerializedError } from '../errors';
import type { LogLevel } from '../hostFunctions';
import type { Policy } from '../policy';
import type { Caller, PluginInfo } from '../registry';
import type { TraceRecord } from '../trace';
import type { LoadOptions, LogEntry } from './runtime';
import type { SpanBatch } from './spanCodec';

/** Requests from the extension host (or CLI) to the runtime worker, with the type of their result. */
export interface Requests {
  /** Replace the policy and runtime settings. */
  configure: {
    args: { policy: Policy; tracing: boolean; logLevel: LogLevel | 'off'; wasiHint: string; lastPluginId: number; lastSpanId: number };
    result: void;
  };
  /** Load a plugin by path or name. */
  register: { args: { target: string; options: LoadOptions }; result: PluginInfo };
  /** Call an export of a live plugin. */
  call: { args: { caller: Exclude<Caller, number>; id: number; func: string; input: Uint8Array }; result: Uint8Array };
  unregister: { args: { id: number }; result: void };
  unregisterAll: { args: Record<string, never>; result: void };
}

export type Op = keyof Requests;

export type RequestMessage = { [K in Op]: { seq: number; op: K; args: Requests[K]['args'] } }[Op];

/** What the runtime reports as it happens, batched. */
export type RuntimeEvent =
  | { type: 'pluginAdded'; plugin: PluginInfo }
  | { type: 'pluginRemoved'; id: number }
  | { type: 'pluginChanged'; plugin: PluginInfo }
  /** A life event, or a span still running (ended spans travel packed in a SpanBatch). */
  | { type: 'record'; record: TraceRecord }
  | { type: 'log'; entry: LogEntry };

export type WorkerMessage =
  | { type: 'reply'; seq: number; ok: true; result: unknown }
  | { type: 'reply'; seq: number; ok: false; error: SerializedError }
  | { type: 'events'; events: RuntimeEvent[]; spans: SpanBatch };
