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

export interface SerializedError {
  kind: ErrorKind;
  message: string;
  stack?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof IpcError) return { kind: error.kind, message: error.message, stack: error.stack };
  if (error instanceof Error) return { kind: 'host', message: error.message, stack: error.stack };
  return { kind: 'host', message: String(error) };
}

export function deserializeError(e: SerializedError): IpcError {
  const error = new IpcError(e.kind, e.message);
  if (e.stack) error.stack = e.stack;
  return error;
}
