// The trace as plain data: what the runtime records and every view renders, the webview included.
// No Node, vscode or DOM imports.
import type { StackFrame } from '../core/model/stackFrames';

/**
 * Who asked for a call or a spawn: a live plugin's id, or a face of the host; `callFile` is a call
 * of a call file, whose span's `callerName` names the call and its file.
 */
export type Caller = number | 'command' | 'cli' | 'api' | 'callFile';

/** A top-level call made for a call of a call file: the file's path and the call's name. */
export interface CallFileCaller {
  callFile: string;
  name: string;
}

/** The `callerName` of a call file's span: `samples.extism-calls.json › vowels`. */
export function callFileCallerName(c: CallFileCaller): string {
  return `${c.callFile.replace(/^.*[\\/]/, '')} › ${c.name}`;
}

/** Who called, in words: `#3 run` for a plugin, the call file and call's name, or the face. */
export function callerText(s: { caller: Caller; callerName: string }): string {
  return typeof s.caller === 'number' ? `#${s.caller} ${s.callerName}` : s.caller === 'callFile' ? s.callerName : s.caller;
}

/** One call into a plugin, by a person, the API or another plugin. Times are ms since the epoch. */
export interface Span {
  kind: 'call';
  id: number;
  parentId: number | null;
  caller: Caller;
  callerName: string;
  calleeId: number;
  calleeName: string;
  func: string;
  inputBytes: number;
  outputBytes: number;
  /** The first bytes of input and output, for a preview. */
  inputHead: Uint8Array;
  outputHead: Uint8Array;
  depth: number;
  start: number;
  durationMs: number;
  status: 'running' | 'ok' | 'error';
  error?: string;
  /** A failed call's stack inside plugins (kept in the runtime; it never crosses with the span). */
  frames?: readonly StackFrame[];
  /** A call through a binding: the import it came through, such as `extism:host/user.count_vowels`. */
  bound?: string;
  /**
   * A call of a host function the user supplied, such as `extism:host/user.kv_read`: the caller and
   * callee are the plugin that called it, `func` its name; bytes are what it read and stored.
   */
  host?: string;
  /**
   * When fuel is counted: the units the callee's own code spent in this call (its callees' excluded),
   * and `fuelTotal`, what the call spent with every call under it.
   */
  fuel?: number;
  fuelTotal?: number;
}

/**
 * A plugin started, ended, or was reloaded from its changed files; `parentId` is the plugin that
 * spawned it. `register-failed`: a registration or spawn that failed before the plugin lived (no id
 * was spent: `pluginId` is 0, `name` the target, `reason` why). `restart`: the runtime was stopped
 * and every plugin unloaded (`pluginId` 0, `name` empty, `reason` who or what asked).
 */
export interface LifeEvent {
  kind: 'spawn' | 'unregister' | 'reload' | 'register-failed' | 'restart';
  time: number;
  pluginId: number;
  name: string;
  parentId: number | null;
  /** The span during which it happened, if any. */
  spanId: number | null;
  reason?: string;
}

export type TraceRecord = Span | LifeEvent;

export const PREVIEW_BYTES = 48;

/** What a span called: `#4 count_vowels.count_vowels`, or `host extism:host/user.kv_read` for a host function. */
export function calleeLabel(s: Pick<Span, 'calleeId' | 'calleeName' | 'func' | 'host'>): string {
  return s.host !== undefined ? `host ${s.host}` : `#${s.calleeId} ${s.calleeName}.${s.func}`;
}
