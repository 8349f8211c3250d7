// How the calls of a call file went: one outcome a call, one a check; what one run of a call gave.
import type { CallSpec } from './model/callFile';
import type { StackFrame } from './model/stackFrames';
import type { Span } from '../shared/traceRecords';

/** How one assertion (one `expect` of a call, or the call's not failing) went. */
export interface CheckOutcome {
  /** The `expect`'s name, when it has one. */
  name?: string;
  /** Where the `expect` is in the file (`calls[0].expect[1]`), or the call's place for a call without one. */
  at: string;
  passed: boolean;
  /** Why it did not pass, in one line. */
  reason?: string;
  /** What was expected and what came, as text, for a diff. */
  expected?: string;
  actual?: string;
  /** A line diff of them, or where bytes first differ (a snapshot's). */
  diff?: string;
  /** What it did besides passing or failing: a snapshot written or updated, the time measured. */
  note?: string;
  /** It compares with a snapshot (which the editor can update). */
  snapshot?: boolean;
}

/** How one call of a call file went. */
export interface CallOutcome {
  call: CallSpec;
  /** Every `expect` of the call held (a call without one: it did not fail). */
  passed: boolean;
  /** The call is not a call that can run (its `problem`): it was not run. */
  invalid?: boolean;
  durationMs: number;
  output?: Uint8Array;
  /** The call's error, when it failed. */
  error?: string;
  /** Why it did not pass, in one line: the first failed check's, after its name. */
  reason?: string;
  /** What was expected and what came, as text, for a diff: the first failed check's. */
  expected?: string;
  actual?: string;
  /** Each `expect` of the call (one for a call without any: that it did not fail). */
  checks: CheckOutcome[];
  /** The checks' notes: snapshots written or updated, times measured. */
  notes: string[];
  /** The spans of this call, its nested calls included. */
  spans: Span[];
  /** Where inside plugins it failed (when it failed there): innermost frame first. */
  frames?: StackFrame[];
  /** The fuel it spent, its nested calls included (when fuel was counted). */
  fuel?: number;
}

/** What one run of a call gave. */
export interface RunResult {
  output?: Uint8Array;
  error?: string;
  frames?: StackFrame[];
  spans: Span[];
  /** Its time in the plugin (its outermost span's), or the time it took here when it has no span. */
  ms: number;
}

export function invalidOutcome(call: CallSpec): CallOutcome {
  const reason = call.problem ?? 'is not a call';
  return { call, passed: false, invalid: true, durationMs: 0, reason, spans: [], checks: [{ at: call.at, passed: false, reason }], notes: [] };
}
