/** The shape of `vscode.Event`, so the VS Code adapter is a one-liner. */
export type Event<T> = (listener: (e: T) => void) => { dispose(): void };

/** A small synchronous emitter; the core's own, so it never needs `vscode`. */
export class Emitter<T> {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(e: T): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(e);
      } catch (error) {
        console.error('extism-ipc: event listener failed', error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
