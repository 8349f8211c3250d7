// The runtime worker: every plugin lives and runs here, off the extension host's main thread.
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../errors';
import { defaultPolicy } from '../policy';
import type { TraceRecord } from '../trace';
import type { RequestMessage, RuntimeEvent, WorkerMessage } from './protocol';
import { Runtime } from './runtime';
import { SpanEncoder } from './spanCodec';

const port = parentPort!;

// Node calls its WASI experimental; that is for us to know, not for every user's terminal.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /WASI/.test(warning.message)) return;
  console.error(`${warning.name}: ${warning.message}`);
});
const FLUSH_INTERVAL_MS = 100;
let events: RuntimeEvent[] = [];
const spans = new SpanEncoder();
const changed = new Set<number>();
let lastFlush = performance.now();

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Sends what happened so far; during a long call, with the spans still running, so views stay live. */
function flush(midCall: boolean): void {
  for (const id of changed) {
    const plugin = runtime.plugin(id);
    if (plugin) events.push({ type: 'pluginChanged', plugin });
  }
  changed.clear();
  if (midCall) for (const span of runtime.runningSpans()) events.push({ type: 'record', record: span });
  if (events.length || spans.size) {
    const batch = spans.take();
    post({ type: 'events', events, spans: batch }, [batch.numbers.buffer as ArrayBuffer, batch.heads.buffer as ArrayBuffer]);
  }
  events = [];
  lastFlush = performance.now();
}

function queue(event: RuntimeEvent): void {
  events.push(event);
  maybeFlush();
}

function maybeFlush(): void {
  if (performance.now() - lastFlush > FLUSH_INTERVAL_MS) flush(true);
}

const runtime = new Runtime(defaultPolicy, {
  pluginAdded: (plugin) => queue({ type: 'pluginAdded', plugin }),
  pluginRemoved: (id) => {
    changed.delete(id);
    queue({ type: 'pluginRemoved', id });
  },
  pluginChanged: (id) => changed.add(id),
  record: (record: TraceRecord) => {
    if (record.kind === 'call') {
      spans.add(record);
      // reading the clock costs more than encoding a span: look every 64 spans
      if ((spans.size & 63) === 0) maybeFlush();
    } else {
      queue({ type: 'record', record });
    }
  },
  log: (entry) => queue({ type: 'log', entry }),
  callStarted: (span) => {
    events.push({ type: 'record', record: span });
    flush(false);
  },
});

function handle(message: RequestMessage): { result: unknown; transfer?: ArrayBuffer[] } {
  switch (message.op) {
    case 'configure':
      runtime.configure(message.args.policy);
      runtime.tracing = message.args.tracing;
      runtime.logLevel = message.args.logLevel;
      runtime.wasiHint = message.args.wasiHint;
      runtime.continueAfter(message.args.lastPluginId, message.args.lastSpanId);
      return { result: undefined };
    case 'register':
      return { result: runtime.register(message.args.target, message.args.options) };
    case 'call': {
      const { caller, id, func, input } = message.args;
      const output = runtime.call(caller, id, func, input);
      return { result: output, transfer: [output.buffer as ArrayBuffer] };
    }
    case 'unregister':
      runtime.unregister(message.args.id);
      return { result: undefined };
    case 'unregisterAll':
      runtime.unregisterAll();
      return { result: undefined };
  }
}

port.on('message', (message: RequestMessage) => {
  let reply: WorkerMessage;
  let transfer: ArrayBuffer[] = [];
  try {
    const done = handle(message);
    reply = { type: 'reply', seq: message.seq, ok: true, result: done.result };
    transfer = done.transfer ?? [];
  } catch (error) {
    reply = { type: 'reply', seq: message.seq, ok: false, error: serializeError(error) };
  }
  flush(false);
  post(reply, transfer);
});
