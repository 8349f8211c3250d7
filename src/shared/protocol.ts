// The messages between the extension and the "Inter-Plugin Calls" webview. Imported by both sides,
// so this file imports neither `vscode` nor the DOM: plain data only.
import type { LifeEvent, Span } from './traceRecords';

/**
 * One call as the panel shows it: the core's span with its caller as text and its byte previews
 * already rendered (the bytes stay behind).
 */
export type SpanView = Omit<Span, 'kind' | 'caller' | 'callerName' | 'inputHead' | 'outputHead'> & {
  /** `command`, `api`, `cli`, or `#3 run` for a plugin. */
  caller: string;
  inputPreview: string;
  outputPreview: string;
};

/** A plugin started or ended: the core's life event as it is. */
export type LifeView = LifeEvent;

export type RecordView = ({ kind: 'call' } & SpanView) | LifeView;

/** Extension -> webview. */
export type ToWebview =
  /** Everything kept in the ring buffer, replacing what the view shows (after `ready`, resume, clear). */
  | { type: 'snapshot'; records: RecordView[]; running: SpanView[]; paused: boolean; maxSpans: number; reportRenders: boolean }
  /** New or updated records since the last message, oldest first. */
  | { type: 'records'; records: RecordView[] }
  /** The trace was cleared. */
  | { type: 'clear' };

/** Webview -> extension. */
export type FromWebview =
  /** The script loaded and listens: send a snapshot. */
  | { type: 'ready' }
  /** The view rendered this many spans; sent only when the snapshot asked for it (under test). */
  | { type: 'rendered'; spans: number; running: number; errors: number }
  /** Stop or resume live updates. */
  | { type: 'pause'; paused: boolean }
  /** The clear button. */
  | { type: 'clear' }
  /** The export button: save as Chrome Trace JSON. */
  | { type: 'export' }
  /** Reveal a plugin in the Live Plugins tree. */
  | { type: 'revealPlugin'; pluginId: number };

/** A handler for each message type, checked at compile time on both sides. */
export type Handlers<M extends { type: string }> = { [K in M['type']]: (message: Extract<M, { type: K }>) => void };

/** Dispatches a message to its handler; unknown or malformed input is ignored. */
export function dispatch<M extends { type: string }>(handlers: Handlers<M>, message: unknown): void {
  if (typeof message !== 'object' || message === null) return;
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(handlers, type)) return;
  const handler = (handlers as unknown as Record<string, (m: M) => void>)[type];
  handler(message as M);
}
