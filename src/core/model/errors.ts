/** Why an operation failed: refused by policy, failed inside a plugin, or a fault of the host. */
export type ErrorKind = 'policy' | 'plugin' | 'timeout' | 'host';

export class IpcError extends Error {
  constructor(readonly kind: ErrorKind, message: string) {
    super(message);
    this.name = kindNames[kind];
  }
}

const kindNames: Record<ErrorKind, string> = {
  policy: 'PolicyError',
  plugin: 'PluginError',
  timeout: 'TimeoutError',
  host: 'HostError',
};

/** A refusal: the policy does not allow what was asked. */
export class PolicyError extends IpcError {
  constructor(message: string) {
    super('policy', message);
  }
}

/** A plugin trapped, set an error, returned non-zero, or is missing what was asked of it. */
export class PluginError extends IpcError {
  constructor(message: string) {
    super('plugin', message);
  }
}

export class TimeoutError extends IpcError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/** The host failed: a bug or a resource of the host, not something the plugin did. */
export class HostError extends IpcError {
  constructor(message: string) {
    super('host', message);
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
}

export function serializeError(error: unknown): SerializedError {
  try {
    if (error instanceof IpcError) return { kind: error.kind, message: error.message, stack: error.stack };
    if (error instanceof Error) return { kind: 'host', message: String(error.message), stack: typeof error.stack === 'string' ? error.stack : undefined };
    return { kind: 'host', message: String(error) };
  } catch {
    return { kind: 'host', message: 'a value that cannot be read' };
  }
}

export function deserializeError(e: SerializedError): IpcError {
  const error = new IpcError(e.kind, e.message);
  if (e.stack) error.stack = e.stack;
  return error;
}
