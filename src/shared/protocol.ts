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

/** A call's input or output as the call detail shows it. */
export interface BytesDetail {
  /** How it reads: text, JSON pretty-printed, a hex dump, or nothing (said in words). */
  kind: 'empty' | 'text' | 'json' | 'hex';
  /** The rendering; a first line says what was cut when something was. */
  text: string;
  /** The size of the whole. */
  bytes: number;
  /** How many of its bytes were kept (at most 64 KiB): fewer than `bytes` when it was cut. */
  kept: number;
}

/** The full input and output of one call, as far as they were kept. */
export interface CallDetail {
  spanId: number;
  /** Null when nothing of it is kept any more (pushed out by newer calls, the runtime restarted, tracing off). */
  input: BytesDetail | null;
  output: BytesDetail | null;
  /** Why it cannot be run again or added to a call file (a host function, its input cut or gone); null when it can. */
  noRerun: string | null;
  /** A failed call's stack inside plugins, innermost first; absent when none was kept. */
  frames?: FrameView[];
}

/** One line of a failed call's stack: its text, and whether its source file is in the workspace (it opens at the line). */
export interface FrameView {
  text: string;
  crossing: boolean;
  openable: boolean;
}

/** Extension -> webview. */
export type ToWebview =
  /** Everything kept in the ring buffer, replacing what the view shows (after `ready`, resume, clear). */
  | {
      type: 'snapshot';
      records: RecordView[];
      running: SpanView[];
      paused: boolean;
      maxSpans: number;
      reportRenders: boolean;
      /** A call a command revealed while the view was not listening: select it. */
      select: number | null;
    }
  /** New or updated records since the last message, oldest first. */
  | { type: 'records'; records: RecordView[] }
  /** The trace was cleared. */
  | { type: 'clear' }
  /** A command made this call (Call Plugin, a call file's Call): select it and scroll it into view. */
  | { type: 'select'; spanId: number }
  /** The detail the view asked for. */
  | { type: 'detail'; detail: CallDetail }
  /** Show only the calls whose plugin or function contains `text` (Show Calls in Trace). */
  | { type: 'filter'; text: string; failedOnly: boolean };

/** Webview -> extension. */
export type FromWebview =
  /** The script loaded and listens: send a snapshot. */
  | { type: 'ready' }
  /** The view rendered this many spans; sent only when the snapshot asked for it (under test). */
  | {
      type: 'rendered';
      spans: number;
      running: number;
      errors: number;
      /** Calls shown through the filter. */
      shown: number;
      selected: number | null;
      /** The call whose detail is shown. */
      detail: number | null;
    }
  /** Stop or resume live updates. */
  | { type: 'pause'; paused: boolean }
  /** The clear button. */
  | { type: 'clear' }
  /** The export button: save as Chrome Trace JSON. */
  | { type: 'export' }
  /** Reveal a plugin in the Live Plugins tree. */
  | { type: 'revealPlugin'; pluginId: number }
  /** A call was selected: send its detail. */
  | { type: 'detail'; spanId: number }
  /** Copy a call's input or output to the clipboard. */
  | { type: 'copy'; spanId: number; part: 'input' | 'output' }
  /** Call the same plugin and function with the same input again. */
  | { type: 'rerun'; spanId: number }
  /** Append the call (plugin, function, input) to a call file. */
  | { type: 'addToCallFile'; spanId: number }
  /** Open the source of frame `index` of a failed call's stack at its line. */
  | { type: 'openFrame'; spanId: number; index: number };

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
