// config_counter: a counter in a var, stepped by config (tests config_get, var_get,
// var_set, var removal and the host's max_var_bytes limit).
//
// export count(): input ignored.
//   Config `step`: decimal text, optional leading '-' (missing = 1); config `label`
//   (missing = "counter"). Var `n`: the counter as decimal text (missing = 0).
//   Adds step to n, stores it, outputs `<label>=<n>`: on a fresh instance with no
//   config, "counter=1", then "counter=2", ...; with config {step:"5", label:"x"}:
//   "x=5", "x=10", ...
//   Errors (return 1): "count: config step is not a decimal number: <step>",
//   "count: var n is not a decimal number: <n>".
// export reset(): input ignored. Removes var `n` (var_set with value 0); outputs "reset".
//   The next count() starts again from 0 ("counter=1").
// export big_var(): input = decimal byte count N (e.g. "1048576"). Removes var `big`,
//   then stores var `big` = N bytes of 'x' (0x78), written 8 bytes per host call; reads
//   it back to check its length and outputs "stored N" (e.g. "stored 1048576").
//   A host over its max_var_bytes limit must fail the var_set (trap or error); if the
//   var_set returned but the var was not stored, the error is
//   "big_var: var_set did not store N bytes (host limit?)", return 1.
//   N = 0: alloc(0) may give offset 0, which var_set treats as removal: "stored 0"
//   is then output (the var is absent, or empty).
//   Bad input: error "big_var: input is not a decimal byte count", return 1.

import { Config, Var } from "@extism/as-pdk";
import { length, store_u64, store_u8, var_get, var_set } from "@extism/as-pdk/lib/env";
import { alloc, free, inputDecimal, outputString, setError, writeString } from "./lib/mem";

let parsed: i64 = 0;

/** Parses optional '-' then decimal digits into `parsed`; false if `s` is not that. */
function parseDecimal(s: string): bool {
  let i = 0;
  const n = s.length;
  let neg = false;
  if (n > 0 && s.charCodeAt(0) == 45) { neg = true; i = 1; }
  if (i >= n) return false;
  let v: i64 = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    if (v > 99999999999999999) return false; // would overflow i64
    v = v * 10 + <i64>(c - 48);
  }
  parsed = neg ? -v : v;
  return true;
}

export function count(): i32 {
  let step: i64 = 1;
  const stepText = Config.get("step");
  if (stepText !== null) {
    if (!parseDecimal(stepText)) {
      setError("count: config step is not a decimal number: " + stepText);
      return 1;
    }
    step = parsed;
  }
  const labelText = Config.get("label");
  const label = labelText !== null ? labelText : "counter";

  let n: i64 = 0;
  const prev = Var.getString("n");
  if (prev !== null) {
    if (!parseDecimal(prev)) {
      setError("count: var n is not a decimal number: " + prev);
      return 1;
    }
    n = parsed;
  }
  n += step;
  const text = n.toString();
  Var.set("n", Uint8Array.wrap(String.UTF8.encode(text)));
  outputString(label + "=" + text);
  return 0;
}

export function reset(): i32 {
  Var.remove("n");
  outputString("reset");
  return 0;
}

export function big_var(): i32 {
  const n = inputDecimal();
  if (n < 0) {
    setError("big_var: input is not a decimal byte count");
    return 1;
  }
  const len = <u64>n;
  const key = writeString("big");
  var_set(key, 0); // drop an earlier `big` so only the new one counts against the limit

  const block = alloc(len);
  if (len != 0 && block == 0) {
    free(key);
    setError("big_var: alloc(" + len.toString() + ") failed");
    return 1;
  }
  let i: u64 = 0;
  const n8 = len & ~(<u64>7);
  for (; i < n8; i += 8) store_u64(block + i, 0x7878787878787878);
  for (; i < len; i++) store_u8(block + i, 0x78);
  var_set(key, block);
  free(block);

  // Read it back: a host may report an over-limit var_set as an error without trapping.
  const back = var_get(key);
  const got: u64 = back == 0 ? 0 : length(back);
  free(back);
  free(key);
  if (got != len) {
    setError("big_var: var_set did not store " + len.toString() + " bytes (host limit?)");
    return 1;
  }
  outputString("stored " + len.toString());
  return 0;
}
