import type { LogLevel } from './logging';
import { LOG_LEVELS } from './logging';

/** A log message is cut at this many bytes (UTF-8), with a note saying how much was cut. */
export const MAX_LOG_MESSAGE_BYTES = 64 * 1024;
/** What one top-level call (and every call under it) may log; past it, messages are dropped. */
export const MAX_LOG_BYTES_PER_CALL = 1024 * 1024;

function cutNote(cut: number): string {
  return `… (${cut} more bytes cut; a log message is limited to ${MAX_LOG_MESSAGE_BYTES / 1024} KiB)`;
}

/** A message's bytes as text, cut at the message limit; only the kept bytes are decoded. */
export function logMessageText(bytes: Uint8Array): string {
  const kept = Math.min(bytes.byteLength, MAX_LOG_MESSAGE_BYTES);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, kept).toString('utf8');
  return kept < bytes.byteLength ? text + cutNote(bytes.byteLength - kept) : text;
}

/** The same limit for a message that is already text (room left for a note a cut message carries). */
export function capLogMessage(message: string): string {
  if (message.length <= MAX_LOG_MESSAGE_BYTES / 3) return message;
  const bytes = Buffer.from(message, 'utf8');
  return bytes.byteLength <= MAX_LOG_MESSAGE_BYTES + 256 ? message : logMessageText(bytes);
}

export interface Dropped {
  pluginId: number;
  level: LogLevel;
  message: string;
}

/**
 * Counts the bytes logged under one top-level call (the key: its span id, or null outside calls)
 * and refuses messages past the limit; `end` gives the one line that says how much was dropped.
 */
export class LogBudget {
  private key: number | null = null;
  private used = 0;
  private droppedMessages = 0;
  private droppedBytes = 0;
  private droppedLevel: LogLevel = 'trace';
  private droppedBy = 0;

  /** Whether this message may be logged; the caller calls `end` first when the key changed. */
  admit(key: number | null, pluginId: number, level: LogLevel, message: string): boolean {
    this.key = key;
    const bytes = message.length;
    if (this.used + bytes <= MAX_LOG_BYTES_PER_CALL) {
      this.used += bytes;
      return true;
    }
    this.used = MAX_LOG_BYTES_PER_CALL + 1;
    this.droppedMessages++;
    this.droppedBytes += bytes;
    this.droppedBy = pluginId;
    if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(this.droppedLevel)) this.droppedLevel = level;
    return false;
  }

  isFor(key: number | null): boolean {
    return key === this.key;
  }

  /** Ends the budget of the current call: the line to log about what was dropped, if anything was. */
  end(): Dropped | null {
    const dropped: Dropped | null = this.droppedMessages
      ? {
          pluginId: this.droppedBy,
          level: this.droppedLevel,
          message:
            `${this.droppedMessages} log messages (${this.droppedBytes} characters) dropped: ` +
            `a call may log ${MAX_LOG_BYTES_PER_CALL / (1024 * 1024)} MiB`,
        }
      : null;
    this.key = null;
    this.used = 0;
    this.droppedMessages = 0;
    this.droppedBytes = 0;
    this.droppedLevel = 'trace';
    return dropped;
  }
}
