// Appending a call that was made to a call file, with its actual output as what it must give back:
// a recorded file replays green on the same plugins.
import { snapshotOf } from './snapshots';
import { CallFileError } from './callFile';

/** A call that was made, as a call file holds it. */
export interface RecordedCall {
  plugin: string;
  function: string;
  input: Uint8Array;
  output: Uint8Array;
  config?: Record<string, string>;
  wasi?: boolean;
  allowedHosts?: string[];
  allowedPaths?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * The text of `file` (`existing`, or undefined to create it) with `call` appended to its `calls`,
 * named `plugin.function` (then `plugin.function 2`...), its input and output as text when they
 * are text and base64 otherwise; `hostFunctions` added to the file's when missing.
 */
export function appendRecordedCall(file: string, existing: string | undefined, call: RecordedCall, hostFunctions: readonly string[] = []): string {
  let raw: Record<string, unknown> = { calls: [] };
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch {
      throw new CallFileError(`${file}: is not valid JSON: the call is not recorded`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CallFileError(`${file}: must be a JSON object with a "calls" list: the call is not recorded`);
    raw = parsed as Record<string, unknown>;
  }
  const calls = raw.calls ?? [];
  if (!Array.isArray(calls)) throw new CallFileError(`${file}: "calls" must be a list: the call is not recorded`);
  if (hostFunctions.length) {
    const listed = Array.isArray(raw.hostFunctions) ? (raw.hostFunctions as unknown[]) : [];
    raw.hostFunctions = [...listed, ...hostFunctions.filter((h) => !listed.includes(h))];
  }
  const names = new Set(calls.map((c: unknown) => (typeof c === 'object' && c !== null ? (c as { name?: unknown }).name : undefined)).filter((n) => typeof n === 'string'));
  const base = `${call.plugin.replace(/^.*[\\/]/, '').replace(/\.(wasm|json)$/i, '')}.${call.function}`;
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base} ${n}`;
  const input = snapshotOf(call.input);
  const output = snapshotOf(call.output);
  const entry: Record<string, unknown> = {
    name,
    plugin: call.plugin,
    function: call.function,
    input: 'output' in input ? input.output : { base64: input.base64 },
  };
  if (call.config && Object.keys(call.config).length) entry.config = { ...call.config };
  if (call.wasi) entry.wasi = true;
  if (call.allowedHosts?.length) entry.allowedHosts = [...call.allowedHosts];
  if (call.allowedPaths && Object.keys(call.allowedPaths).length) entry.allowedPaths = { ...call.allowedPaths };
  if (call.timeoutMs !== undefined) entry.timeoutMs = call.timeoutMs;
  entry.expect = 'output' in output ? { output: output.output } : { base64: output.base64 };
  raw.calls = [...calls, entry];
  return `${JSON.stringify(raw, null, 2)}\n`;
}
