// bound_relay: one import, `extism:host/user.target(i64) -> i64`, that the host binds to any
// plugin's export (tests and the bench bind it to echo.echo, pong.bounce, loop.spin ...).
//
// export relay():  output = target(input).
// export repeat(): input `u32 k | payload` (LE) -> calls target(payload) k times and outputs the
//                  last output (empty if k = 0); each intermediate output is freed. An input
//                  shorter than 4 bytes fails with "repeat: input too short".

import { free, input_length, input_load_u8, inputRangeToBlock, inputToBlock, outputBlock, setError } from "./lib/mem";

// @ts-ignore: decorator
@external("extism:host/user", "target")
declare function target(input: u64): u64;

export function relay(): i32 {
  const input = inputToBlock();
  const out = target(input);
  if (input != 0) free(input);
  outputBlock(out);
  return 0;
}

export function repeat(): i32 {
  const len = input_length();
  if (len < 4) {
    setError("repeat: input too short");
    return 1;
  }
  const k = <u32>input_load_u8(0) | (<u32>input_load_u8(1) << 8) | (<u32>input_load_u8(2) << 16) | (<u32>input_load_u8(3) << 24);
  const payload = inputRangeToBlock(4, len - 4);
  let out: u64 = 0;
  for (let i: u32 = 0; i < k; i++) {
    if (out != 0) free(out);
    out = target(payload);
  }
  if (payload != 0) free(payload);
  if (k != 0) outputBlock(out);
  return 0;
}
