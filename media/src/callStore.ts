// The calls the panel holds: every span by id (ended and running) and the plugins' life events, as
// the extension sent them, bounded as the extension's ring buffer is.
import type { LifeView, RecordView, SpanView } from '../../src/shared/protocol';

export class CallStore {
  readonly spans = new Map<number, SpanView>();
  life: LifeView[] = [];
  /** The extension's bound (extismIpc.trace.maxSpans), sent with each snapshot. */
  maxSpans = 2000;

  add(r: RecordView): void {
    if (r.kind === 'call') {
      const { kind: _kind, ...view } = r;
      this.spans.set(view.id, view);
    } else {
      this.life.push(r);
    }
  }

  /** Keeps the view bounded like the extension's ring buffer (a running call stays). */
  trim(): void {
    const extra = this.spans.size - this.maxSpans;
    if (extra > 0) {
      const ids = [...this.spans.keys()].sort((a, b) => a - b).slice(0, extra);
      for (const id of ids) if (this.spans.get(id)?.status !== 'running') this.spans.delete(id);
    }
    if (this.life.length > this.maxSpans) this.life = this.life.slice(-this.maxSpans);
  }

  clear(): void {
    this.spans.clear();
    this.life = [];
  }

  /** The top-level call above `id` (itself when it is one), as far as the view holds the calls between. */
  rootOf(id: number): SpanView | undefined {
    let s = this.spans.get(id);
    while (s && s.parentId !== null && this.spans.has(s.parentId)) s = this.spans.get(s.parentId);
    return s;
  }
}
