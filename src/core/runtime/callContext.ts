import type { PluginMemory } from '../model/engine';
import { PluginError } from '../model/errors';
import type { LogThreshold } from '../model/logging';
import { PluginVars, setPluginVar } from './pluginVars';

/**
 * A block of a plugin's memory as `@extism/extism`'s `PluginOutput` gives it to a host function: a
 * DataView of its bytes, with `text()`, `string()`, `json()`, `bytes()` and `arrayBuffer()`. The
 * bytes are a copy, so the view stays valid whatever the plugin does next.
 */
export class BlockView extends DataView<ArrayBuffer> {
  private static readonly decoder = new TextDecoder();

  json(): unknown {
    return JSON.parse(this.string());
  }

  text(): string {
    return this.string();
  }

  string(): string {
    return BlockView.decoder.decode(this);
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, this.byteOffset, this.byteLength);
  }

  arrayBuffer(): ArrayBuffer {
    return this.buffer as ArrayBuffer;
  }
}

/** Log levels as the SDK names them: `silent` is this host's `off`. */
export type SdkLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** What a call context needs of the runtime, for the plugin whose host function runs. */
export interface CallContextHost {
  plugin: PluginVars & { logLevel: LogThreshold | null };
  memory: PluginMemory;
  /** The host context of the top-level call under way (null when none was given). */
  hostContext(): unknown;
  /** The log threshold the runtime applies to plugins. */
  logLevel(): LogThreshold;
  /** The bytes a host function read from or stored into plugin memory, for its span. */
  read(bytes: Uint8Array): void;
  stored(bytes: Uint8Array): void;
  /** `plugin #3 (kv).count_vowels: host function extism:host/user.kv_read`, for errors. */
  where(): string;
}

const encoder = new TextEncoder();

function toOffset(addr: bigint | number): bigint {
  if (typeof addr === 'bigint') return addr;
  return Number.isSafeInteger(addr) && addr >= 0 ? BigInt(addr) : -1n;
}

/**
 * The first argument of every host function the user supplies: the methods of the SDK's
 * `CallContext` with the same meaning, on this host's checked Extism memory.
 */
export class CallContext {
  constructor(private readonly host: CallContextHost) {}

  hostContext<T = unknown>(): T {
    return this.host.hostContext() as T;
  }

  /** A new block of `size` bytes in the plugin's memory; its offset. */
  alloc(size: bigint | number): bigint {
    const n = toOffset(size);
    if (n < 0n) throw new PluginError(`${this.host.where()}: alloc(${String(size)}): not a size`);
    return this.host.memory.alloc(n, `${this.host.where()}: alloc`);
  }

  /** The block at `addr` as a view of a copy of its bytes; null for 0 or anything that is not a block. */
  read(addr: bigint | number): BlockView | null {
    const offs = toOffset(addr);
    if (offs <= 0n || this.host.memory.blockLength(offs) === 0n) return null;
    const bytes = this.host.memory.readBlock(offs, `${this.host.where()}: read`).slice();
    this.host.read(bytes);
    return new BlockView(bytes.buffer);
  }

  /** Copies a string (as UTF-8) or bytes into a new block; its offset. */
  store(input: string | Uint8Array): bigint {
    const bytes = typeof input === 'string' ? encoder.encode(input) : input;
    if (!(bytes instanceof Uint8Array)) throw new PluginError(`${this.host.where()}: store takes a string or a Uint8Array`);
    this.host.stored(bytes);
    return this.host.memory.writeBlock(bytes, `${this.host.where()}: store`);
  }

  length(addr: bigint | number): bigint {
    const offs = toOffset(addr);
    return offs <= 0n ? 0n : this.host.memory.blockLength(offs);
  }

  getVariable(name: string): BlockView | null {
    const value = this.host.plugin.vars.get(String(name));
    return value === undefined ? null : new BlockView(value.slice().buffer);
  }

  setVariable(name: string, value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? encoder.encode(value) : value;
    if (!(bytes instanceof Uint8Array)) throw new PluginError(`${this.host.where()}: setVariable takes a string or a Uint8Array`);
    setPluginVar(this.host.plugin, String(name), bytes.slice(), `${this.host.where()}: setVariable`);
  }

  deleteVariable(name: string): void {
    this.host.plugin.vars.delete(String(name));
  }

  /** Fails the plugin's call with this message once the plugin returns, as the SDK's does. */
  setError(err: string | Error | null = null): void {
    const message = err instanceof Error ? err.message : err;
    if (!message) throw new PluginError(`${this.host.where()}: setError needs a message`);
    this.host.memory.setError(this.host.memory.writeBlock(encoder.encode(message), `${this.host.where()}: setError`));
  }

  get logLevel(): SdkLogLevel {
    const level = this.host.plugin.logLevel ?? this.host.logLevel();
    return level === 'off' ? 'silent' : level;
  }

  /** The plugin's own log level from now on, as `get_log_level` reports it and its logs pass. */
  set logLevel(level: SdkLogLevel) {
    const known: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];
    if (!known.includes(level)) throw new PluginError(`${this.host.where()}: logLevel "${String(level)}" is not one of ${known.join(', ')}`);
    this.host.plugin.logLevel = level === 'silent' ? 'off' : level;
  }
}
