import { checkedRemedy, Remedy } from './remedy';
import { checkedFrames, StackFrame } from './stackFrames';

/** Why an operation failed: refused by policy, failed inside a plugin, or a fault of the host. */
export type ErrorKind = 'policy' | 'plugin' | 'timeout' | 'cancelled' | 'host';

export class IpcError extends Error {
  /** What would let it succeed, when the host knows (a grant, a host-function module). */
  remedy?: Remedy;
  /** Where inside plugins it failed: innermost frame first, crossings between plugins included. */
  frames?: StackFrame[];
  /** Notes on the stack, once per plugin (one built without debug info, say). */
  notes?: string[];

  constructor(readonly kind: ErrorKind, message: string, remedy?: Remedy) {
    super(message);
    this.name = kindNames[kind];
    if (remedy) this.remedy = remedy;
  }
}

/** An error that says the same with more context keeps the remedy of the one it wraps. */
export function keepRemedy<E extends IpcError>(wrapper: E, cause: unknown): E {
  if (cause instanceof IpcError && cause.remedy && !wrapper.remedy) wrapper.remedy = cause.remedy;
  return wrapper;
}

const kindNames: Record<ErrorKind, string> = {
  policy: 'PolicyError',
  plugin: 'PluginError',
  timeout: 'TimeoutError',
  cancelled: 'CancelledError',
  host: 'HostError',
};

/** A refusal: the policy does not allow what was asked. */
export class PolicyError extends IpcError {
  constructor(message: string, remedy?: Remedy) {
    super('policy', message, remedy);
  }
}

/** A plugin trapped, set an error, returned non-zero, or is missing what was asked of it. */
export class PluginError extends IpcError {
  constructor(message: string, remedy?: Remedy) {
    super('plugin', message, remedy);
  }
}

export class TimeoutError extends IpcError {
  constructor(message: string, remedy?: Remedy) {
    super('timeout', message, remedy);
  }
}

/** A call stopped because its caller cancelled it. */
export class CancelledError extends IpcError {
  constructor(message: string) {
    super('cancelled', message);
  }
}

/** The host failed: a bug or a resource of the host, not something the plugin did. */
export class HostError extends IpcError {
  constructor(message: string, remedy?: Remedy) {
    super('host', message, remedy);
  }
}

/**
 * A JavaScript error the host did not expect (a bug, not the plugin's fault or a refusal): the user
 * is told it is the host's fault and where, never the raw text; the original stack stays on the
 * error for the log. A known error passes unchanged.
 */
export function internalError(where: string, error: unknown): IpcError {
  let name = 'a value that cannot be read';
  let stack: unknown;
  try {
    if (error instanceof IpcError) return error;
    name = error instanceof Error ? String(error.name) : typeof error;
    stack = error instanceof Error ? error.stack : undefined;
  } catch {
    // what user code threw may be a Proxy whose every trap throws: it is not looked at again
  }
  const failure = new HostError(`${where}: internal failure of the host (${name}); the details are in the log`);
  if (typeof stack === 'string' && stack) failure.stack = `${failure.name}: ${failure.message}\ncaused by ${stack}`;
  return failure;
}

export interface SerializedError {
  kind: ErrorKind;
  message: string;
  stack?: string;
  remedy?: Remedy;
  frames?: StackFrame[];
  notes?: string[];
}

export function serializeError(error: unknown): SerializedError {
  try {
    if (error instanceof IpcError) {
      return {
        kind: error.kind,
        message: error.message,
        stack: error.stack,
        ...(error.remedy ? { remedy: error.remedy } : {}),
        ...(error.frames ? { frames: error.frames } : {}),
        ...(error.notes ? { notes: error.notes } : {}),
      };
    }
    if (error instanceof Error) return { kind: 'host', message: String(error.message), stack: typeof error.stack === 'string' ? error.stack : undefined };
    return { kind: 'host', message: String(error) };
  } catch {
    return { kind: 'host', message: 'a value that cannot be read' };
  }
}

export function deserializeError(e: SerializedError): IpcError {
  const error = new IpcError(e.kind, e.message, checkedRemedy(e.remedy));
  if (e.stack) error.stack = e.stack;
  const frames = checkedFrames(e.frames);
  if (frames) error.frames = frames;
  if (Array.isArray(e.notes)) error.notes = e.notes.filter((n): n is string => typeof n === 'string');
  return error;
}
