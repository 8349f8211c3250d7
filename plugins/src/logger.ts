// logger: Extism's log host functions and get_log_level.
//
// export log_all(): input ignored. Logs, in this order,
//   log_trace("trace message"), log_debug("debug message"), log_info("info message"),
//   log_warn("warn message"), log_error("error message")
//   (each argument: the Extism memory offset of a block holding the UTF-8 text, no
//   terminator; the block is handed to the host, which may free it, so it is not freed
//   here), then outputs "logged". A host drops the messages below its log level.
// export level(): input ignored. Outputs get_log_level() as signed decimal text:
//   0 trace, 1 debug, 2 info, 3 warn, 4 error; "off" is host-specific (this project's
//   host: 2147483647; the JS SDK: its priority for "silent", or -1 for a non-finite one).

import { log_debug, log_error, log_info, log_warn } from "@extism/as-pdk/lib/env";
import { outputString, writeString } from "./lib/mem";

@external("extism:host/env", "log_trace")
declare function log_trace(offs: u64): void;

@external("extism:host/env", "get_log_level")
declare function get_log_level(): i32;

export function log_all(): i32 {
  log_trace(writeString("trace message"));
  log_debug(writeString("debug message"));
  log_info(writeString("info message"));
  log_warn(writeString("warn message"));
  log_error(writeString("error message"));
  outputString("logged");
  return 0;
}

export function level(): i32 {
  outputString(get_log_level().toString());
  return 0;
}
