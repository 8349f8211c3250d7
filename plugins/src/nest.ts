// nest: the benchmark's driver for nested calls.
//
// export nest(): input layout (little-endian):
//     u32 callee id | u32 k | u32 n = function-name length | n name bytes | payload
//   calls export <name> of plugin <callee id> k times with the payload and outputs
//   the last call's output (no output at all, i.e. empty, if k = 0). The name and the
//   payload are copied into Extism blocks once; each intermediate output is freed.
//   A header that does not fit the input fails with "nest: input too short".

import { call_plugin } from "./lib/ipc";
import { free, input_length, input_load_u64, input_load_u8, inputRangeToBlock, outputBlock, setError } from "./lib/mem";

function inputU32(at: u64): u32 {
  return <u32>input_load_u8(at)
    | (<u32>input_load_u8(at + 1) << 8)
    | (<u32>input_load_u8(at + 2) << 16)
    | (<u32>input_load_u8(at + 3) << 24);
}

export function nest(): i32 {
  const len = input_length();
  if (len < 12) {
    setError("nest: input too short");
    return 1;
  }
  const head = input_load_u64(0);
  const id = <u64>(<u32>head);
  const k = <u32>(head >> 32);
  const nameLen = <u64>inputU32(8);
  if (12 + nameLen > len) {
    setError("nest: input too short");
    return 1;
  }
  const func = inputRangeToBlock(12, nameLen);
  const payload = inputRangeToBlock(12 + nameLen, len - 12 - nameLen);
  let out: u64 = 0;
  for (let i: u32 = 0; i < k; i++) {
    if (out != 0) free(out);
    out = call_plugin(id, func, payload);
  }
  free(func);
  if (payload != 0) free(payload);
  if (k != 0) outputBlock(out);
  return 0;
}
