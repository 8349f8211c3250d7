import type { PluginInfo } from '../core';

/** Inputs kept per plugin.function, and in all (base64 grows it by a third in storage). */
export const INPUTS_PER_FUNCTION = 20;
export const INPUT_HISTORY_BYTES = 256 * 1024;
/** An input larger than this is not kept: one must not push out all the others. */
export const MAX_KEPT_INPUT_BYTES = 64 * 1024;

const STATE_KEY = 'extismIpc.inputHistory';

/** Where the history is kept: the workspace's state (a `vscode.Memento`). */
export interface HistoryStore {
  get(key: string): unknown;
  update(key: string, value: unknown): Thenable<void>;
}

/** The last Call Plugin, for Call Again: the plugin by id while it lives, else by its source. */
export interface LastCall {
  pluginId: number;
  name: string;
  source: string;
  func: string;
  input: Uint8Array;
}

/** One stored entry: [plugin.function, base64 inputs, most recent first]. A list, not an object: the key is plugin text. */
type Stored = [string, string[]][];

/**
 * The inputs given to Call Plugin, per plugin name and function, most recent first, kept in the
 * workspace's state across sessions; and the last call, kept for this session.
 */
export class CallHistory {
  private last: LastCall | undefined;
  /** Least recently used first, so the oldest functions go first when the total is over. */
  private readonly inputs: Map<string, Uint8Array[]>;

  /** `onFirstCall` runs once a call was recorded (the context key that shows Call Again). */
  constructor(private readonly state: HistoryStore, private readonly onFirstCall: () => void = () => undefined) {
    this.inputs = new Map();
    const stored = state.get(STATE_KEY);
    if (!Array.isArray(stored)) return;
    for (const entry of stored as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      const list = (entry[1] as unknown[]).filter((s): s is string => typeof s === 'string').map((s) => new Uint8Array(Buffer.from(s, 'base64')));
      this.inputs.set(entry[0], list.slice(0, INPUTS_PER_FUNCTION));
    }
  }

  lastCall(): LastCall | undefined {
    return this.last;
  }

  /**
   * Records a call as it starts (a failed call can be called again too), and with `remember` its
   * input in the history (an input the person gave, not one from code).
   */
  async recordCall(plugin: PluginInfo, func: string, input: Uint8Array, remember: boolean): Promise<void> {
    const first = this.last === undefined;
    this.last = { pluginId: plugin.id, name: plugin.name, source: plugin.source, func, input: input.slice() };
    if (first) this.onFirstCall();
    if (remember) await this.remember(plugin.name, func, input);
  }

  /** The inputs given to `plugin.func` before, most recent first. */
  recentInputs(plugin: string, func: string): readonly Uint8Array[] {
    return this.inputs.get(keyOf(plugin, func)) ?? [];
  }

  private async remember(plugin: string, func: string, input: Uint8Array): Promise<void> {
    if (input.byteLength === 0 || input.byteLength > MAX_KEPT_INPUT_BYTES) return;
    const key = keyOf(plugin, func);
    const list = (this.inputs.get(key) ?? []).filter((old) => !sameBytes(old, input));
    list.unshift(input.slice());
    this.inputs.delete(key); // to the end: the most recently used function
    this.inputs.set(key, list.slice(0, INPUTS_PER_FUNCTION));
    this.trim();
    const stored: Stored = [...this.inputs].map(([k, l]) => [k, l.map((b) => Buffer.from(b).toString('base64'))]);
    await this.state.update(STATE_KEY, stored);
  }

  /** Drops the oldest inputs of the least recently used functions until the total fits. */
  private trim(): void {
    let total = 0;
    for (const list of this.inputs.values()) for (const b of list) total += b.byteLength;
    for (const [key, list] of this.inputs) {
      while (total > INPUT_HISTORY_BYTES && list.length) total -= list.pop()!.byteLength;
      if (!list.length) this.inputs.delete(key);
      if (total <= INPUT_HISTORY_BYTES) break;
    }
  }
}

function keyOf(plugin: string, func: string): string {
  return JSON.stringify([plugin, func]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}

/** An input shown on one line, cut to `max` characters: its text, or its size when it is not UTF-8 text. */
export function inputPreview(input: Uint8Array, max = 60): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return `(${input.byteLength} bytes, not UTF-8 text)`;
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : oneLine;
}
