// An \`expect.error\` pattern matched against a call's error under a time limit: the pattern is a
// person's (or a file's) and may backtrack without end.
import * as vm from 'node:vm';

/** How long an `expect.error` pattern may take to match a call's error before the call fails. */
export const ERROR_MATCH_TIMEOUT_MS = 1000;

// The pattern is compiled and run in a context of its own under vm's timeout, which interrupts
// V8's backtracking: a call file is run on the extension host's thread too.
const matchContext = vm.createContext(Object.create(null) as object);
const matchScript = new vm.Script('new RegExp(pattern).test(subject)');

/**
 * Whether `pattern` matches `subject`: 'too slow' when matching took longer than `timeoutMs`, 'gave
 * up' when the engine threw (out of backtracking stack, or a pattern that does not compile).
 */
export function matchesWithin(pattern: string, subject: string, timeoutMs: number): boolean | 'too slow' | 'gave up' {
  const context = matchContext as { pattern?: string; subject?: string };
  context.pattern = pattern;
  context.subject = subject;
  try {
    return matchScript.runInContext(matchContext, { timeout: timeoutMs }) === true;
  } catch (error) {
    return (error as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'too slow' : 'gave up';
  } finally {
    context.pattern = undefined;
    context.subject = undefined;
  }
}
