// The core's public API: what the VS Code face, the CLI and other extensions build on.
export { PluginHost } from './host';
export type { HostOptions, PluginsChange } from './host';
export { IpcError, PolicyError, PluginError, TimeoutError } from './errors';
export type { ErrorKind } from './errors';
export type { Event } from './events';
export type { LogLevel } from './hostFunctions';
export { normalizePolicy, defaultPolicy } from './policy';
export type { Policy, PolicyOptions, PermissionRule } from './policy';
export type { Caller, PluginInfo } from './registry';
export { TraceStore, formatTraceTree, toChromeTrace, preview } from './trace';
export type { Span, LifeEvent, TraceRecord } from './trace';
export type { LoadOptions, LogEntry } from './engine/runtime';
