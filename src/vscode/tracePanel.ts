import * as vscode from 'vscode';
import type { PluginHost, TraceRecord } from '../core';
import { dispatch, FromWebview, Handlers, RecordView, ToWebview } from '../shared/protocol';
import type { CallDetails } from './callDetail';
import { toRecordView, toSpanView } from './spanView';
import { showWebviewPage, WebviewPage } from './webviewHtml';
import { WebviewMessageLog } from './webviewMessageLog';

export const CALLS_VIEW = 'extismIpc.calls';
const FLUSH_MS = 50;
const KEPT_MESSAGES = 200;

/** The messages between the panel and its webview (kept only under ExtensionMode.Test). */
export class PanelMessageLog extends WebviewMessageLog<ToWebview, FromWebview> {
  constructor() {
    super(KEPT_MESSAGES);
  }
}

/**
 * The "Inter-Plugin Calls" webview view. Ready, snapshot, deltas: the webview says `ready` each time
 * it loads (first show, shown again after being hidden), gets the ring buffer as a snapshot, then
 * batched deltas while visible and not paused. The ring buffer is the core's TraceStore.
 */
export class TracePanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private paused = false;
  private queue: RecordView[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: { dispose(): void }[] = [];
  /** The listeners of the current webview view, disposed with it. */
  private viewDisposables: vscode.Disposable[] = [];
  /** A call a command revealed that the view has not been told of (it was not listening). */
  private pendingSelect: number | null = null;
  /** A filter set while the view was not listening. */
  private pendingFilter: Extract<ToWebview, { type: 'filter' }> | undefined;

  constructor(
    private readonly host: PluginHost,
    private readonly extensionUri: vscode.Uri,
    private readonly maxSpans: () => number,
    private readonly details: CallDetails,
    private readonly messageLog?: PanelMessageLog,
  ) {
    this.disposables.push(
      host.trace.onRecord((r) => this.enqueue(r)),
      host.trace.onClear(() => {
        this.queue = [];
        this.pendingSelect = null;
        details.clear();
        this.post({ type: 'clear' });
      }),
    );
  }

  /** The webview is loaded and has asked for its snapshot. */
  get isReady(): boolean {
    return this.ready;
  }

  get isVisible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    showWebviewPage(view.webview, this.extensionUri, PANEL_PAGE);
    const handlers: Handlers<FromWebview> = {
      ready: () => {
        this.ready = true;
        this.sendSnapshot();
        this.sendFilter();
      },
      rendered: () => undefined,
      pause: (m) => {
        this.paused = m.paused;
        if (!m.paused) this.sendSnapshot();
      },
      clear: () => void vscode.commands.executeCommand('extismIpc.clearTrace'),
      export: () => void vscode.commands.executeCommand('extismIpc.exportTrace'),
      revealPlugin: (m) => void vscode.commands.executeCommand('extismIpc.revealPlugin', m.pluginId),
      detail: (m) => void this.details.detail(m.spanId).then((detail) => this.post({ type: 'detail', detail })),
      copy: (m) => void this.details.copy(m.spanId, m.part),
      rerun: (m) => void this.details.rerun(m.spanId),
      addToCallFile: (m) => void this.details.addToCallFile(m.spanId),
      openFrame: (m) => void this.details.openFrame(m.spanId, m.index),
    };
    this.disposeView();
    this.viewDisposables = [
      view.webview.onDidReceiveMessage((m: unknown) => {
        dispatch(handlers, m);
        this.messageLog?.got(m);
      }),
      view.onDidChangeVisibility(() => {
        // Hidden: the webview's document is discarded; it says `ready` again when shown.
        if (!view.visible) this.ready = false;
      }),
      view.onDidDispose(() => {
        if (this.view !== view) return;
        this.view = undefined;
        this.ready = false;
        this.disposeView();
      }),
    ];
  }

  /** Shows the panel (used by Show Trace). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CALLS_VIEW}.focus`);
  }

  /** Shows the panel with only the calls whose plugin or function contains `text`. */
  async filter(text: string, failedOnly: boolean): Promise<void> {
    this.pendingFilter = { type: 'filter', text, failedOnly };
    await this.reveal();
    if (this.ready) this.sendFilter();
  }

  private sendFilter(): void {
    const filter = this.pendingFilter;
    this.pendingFilter = undefined;
    if (filter) this.post(filter);
  }

  /**
   * Selects the top-level call a command just made of `pluginId`'s `func` (the newest such span), and
   * keeps its bytes for the call detail; returns its span id when tracing recorded it.
   */
  revealCommandCall(pluginId: number, func: string, input: Uint8Array | string, output: Uint8Array): number | undefined {
    const spans = this.host.trace.spans();
    for (let i = spans.length - 1; i >= 0; i--) {
      const s = spans[i];
      if (s.parentId !== null || s.caller !== 'command' || s.calleeId !== pluginId || s.func !== func) continue;
      this.details.remember(s.id, typeof input === 'string' ? new TextEncoder().encode(input) : input, output);
      this.revealCall(s.id);
      return s.id;
    }
    return undefined;
  }

  /**
   * Selects a call (and scrolls to it); the view shows it now, or when it opens. The records before
   * it are sent first, so the view has the call when it selects it.
   */
  revealCall(spanId: number): void {
    if (!this.view || !this.ready || this.paused) {
      this.pendingSelect = spanId;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
    this.post({ type: 'select', spanId });
  }

  private enqueue(record: TraceRecord): void {
    if (!this.ready || this.paused) return;
    this.queue.push(toRecordView(record));
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.queue.length) return;
    const records = this.queue;
    this.queue = [];
    this.post({ type: 'records', records });
  }

  private sendSnapshot(): void {
    this.queue = [];
    const trace = this.host.trace;
    const max = this.maxSpans();
    this.post({
      type: 'snapshot',
      records: trace.all().slice(-max).map(toRecordView),
      running: trace.runningSpans().map(toSpanView),
      paused: this.paused,
      maxSpans: max,
      reportRenders: this.messageLog !== undefined,
      select: this.pendingSelect,
    });
    this.pendingSelect = null;
  }

  private post(message: ToWebview): void {
    if (!this.view || !this.ready) return;
    this.messageLog?.sent(message);
    void this.view.webview.postMessage(message);
  }

  private disposeView(): void {
    for (const d of this.viewDisposables.splice(0)) d.dispose();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.disposeView();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const PANEL_PAGE: WebviewPage = {
  title: 'Inter-Plugin Calls',
  script: 'webview.js',
  style: 'webview.css',
  body: `<header class="toolbar" role="toolbar" aria-label="Trace actions">
  <button id="pause" type="button" aria-pressed="false" title="Pause live updates">Pause</button>
  <button id="clear" type="button" title="Clear the trace">Clear</button>
  <button id="export" type="button" title="Export as Chrome Trace JSON (Perfetto, chrome://tracing)">Export…</button>
  <span id="summary" class="summary" role="status" aria-live="polite"></span>
</header>
<div class="filters" role="search">
  <input id="filter" type="search" placeholder="Filter: plugin or function" aria-label="Show only calls whose plugin or function contains this text" spellcheck="false">
  <label class="check" title="Show only calls that failed (and the calls around them)"><input id="failedOnly" type="checkbox"> Failed only</label>
</div>
<main class="split">
  <section id="calls" class="calls" aria-label="Calls">
    <ul id="tree" class="tree" role="tree" aria-label="Calls, nested by caller" tabindex="0"></ul>
    <p id="empty" class="empty">No calls yet. Run <em>Extism: Call Plugin…</em>, or call a plugin from another extension.</p>
    <p id="noMatch" class="empty" hidden>No call matches the filter.</p>
    <button id="newCalls" class="new-calls" type="button" hidden title="Scroll to the newest call and follow new ones"></button>
  </section>
  <aside class="side">
    <section class="timeline" aria-label="Timeline">
      <div class="timeline-bar">
        <button id="pin" type="button" aria-pressed="false" title="Keep this call in the timeline while new calls come">Pin</button>
      </div>
      <div id="timeline" class="lanes"></div>
    </section>
    <section id="detail" class="detail" aria-label="Call detail" hidden></section>
  </aside>
</main>`,
};

export const SHOW_CALLS_OF = 'extismIpc.showCallsOf';

/**
 * "Show Calls in Trace": the panel filtered to a plugin (a Live Plugins node), a plugin.function (an
 * export node), or a text; from the palette it asks for the text. `failedOnly` shows only failures.
 */
export function registerPanelCommands(panel: TracePanel, host: PluginHost): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(SHOW_CALLS_OF, async (arg?: unknown, options?: { failedOnly?: boolean }) => {
      let text: string | undefined;
      if (typeof arg === 'string') text = arg;
      else if (typeof arg === 'object' && arg !== null && 'kind' in arg) {
        const node = arg as { kind: string; id?: number; pluginId?: number; name?: string };
        const plugin = host.plugin((node.kind === 'export' ? node.pluginId : node.id) ?? -1);
        if (plugin) text = node.kind === 'export' ? `${plugin.name}.${node.name ?? ''}` : plugin.name;
      } else {
        text = await vscode.window.showInputBox({ title: 'Show Calls in Trace', prompt: 'Show only the calls whose plugin or function contains this text (empty: all calls)' });
      }
      if (text === undefined) return;
      await panel.filter(text, options?.failedOnly ?? false);
    }),
  ];
}
