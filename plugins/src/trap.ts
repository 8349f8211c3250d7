// trap: failures on purpose.
//
// export trap(): hits `unreachable` (a wasm trap, no error message set).
// export fail(): sets the error "deliberate failure" (error_set) and returns 1.
// export ok():   outputs "ok".

import { outputString, setError } from "./lib/mem";

export function trap(): i32 {
  unreachable();
  return 0;
}

export function fail(): i32 {
  setError("deliberate failure");
  return 1;
}

export function ok(): i32 {
  outputString("ok");
  return 0;
}
