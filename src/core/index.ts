// The core's public API: what the VS Code face, the CLI and other extensions build on.
export { PluginHost } from './pluginHost';
export type { HostOptions, PluginsChange, RuntimeStop, RuntimeTransport } from './pluginHost';
export { IpcError, PolicyError, PluginError, TimeoutError } from './model/errors';
export type { ErrorKind } from './model/errors';
export type { MissingImport, Remedy } from './model/remedy';
export { hostFunctionStub, isOldAbiImport } from './model/hostFunctionStub';
export type { Event } from './model/events';
export { LOG_LEVELS, isLogLevel } from './model/logging';
export type { LogEntry, LogLevel, LogThreshold } from './model/logging';
export type { LoadOptions } from './model/loadOptions';
export { normalizePolicy, defaultPolicy, POLICY_RANGES } from './model/policy';
export { formatBytes, MAX_TIMEOUT_MS, wholeNumberIn } from './model/numbers';
export { allowedPathRefusal, mapAllowedPathHost, parseAllowedPath, READ_ONLY_PREFIX } from './model/allowedPaths';
export type { Range } from './model/numbers';
export type { Policy, PolicyOptions, PermissionRule } from './model/policy';
export type { PluginRule } from './model/pluginRules';
export { parseImport, parseTarget, USER_MODULE } from './model/bindings';
export type { Binding, BindingOptions } from './model/bindings';
export type { Caller, PluginInfo } from './model/registry';
export { SPAN_DATA_ARENA, SPAN_DATA_BYTES, SPAN_DATA_CALLS } from './model/spanData';
export type { SpanData } from './model/spanData';
export { iconLabelText, markdownCode, markdownText, notificationText, terminalText, visibleText } from './model/displayText';
export { TraceStore, formatTraceTree, toChromeTrace, preview } from './model/trace';
export type { Span, LifeEvent, TraceRecord } from '../shared/traceRecords';
// the one bounded reader of files a user names: regular files only, size-limited, never blocking on a FIFO
export { FileRefusal, readFileChecked } from './runtime/files';
export { CallSession, findCallFiles, readCallFile, runCallFile } from './callRunner';
export type { CallOutcome } from './callRunner';
export { CALL_FILE_SUFFIX, callOffsets, CallFileError, parseCallFile } from './model/callFile';
export type { CallFile, CallSpec, Expectation } from './model/callFile';
export { isRuntimeExport, splitExports, visibleExports } from './model/runtimeExports';
// the one reading of the engine's a face may do: pure, bytes in and plain data out, no engine state
export { summarizeModule } from './engine/moduleSummary';
export { PLUGIN_ENTRY_FILE } from './model/debugging';
export type { DebugCallOptions, InspectorAddress } from './model/debugging';
export { guessPdk, importServed, importServer } from './model/moduleSummary';
export type { ExternKind, ImportContext, ImportServer, ModuleExport, ModuleImport, ModuleMemory, ModuleSummary, ModuleSummaryResult, PdkGuess, Producers } from './model/moduleSummary';
export type { ServedImport } from './model/userHostFunctions';
