// echo: binary-safe echo.
//
// export echo():   output = the input bytes unchanged (copied input -> Extism block
//                  8 bytes per host call, never through this module's memory).
// export length(): output = the input length as decimal text, e.g. "13".

import { input_length, inputToBlock, outputBlock, outputString } from "./lib/mem";

export function echo(): i32 {
  outputBlock(inputToBlock());
  return 0;
}

export function length(): i32 {
  outputString(input_length().toString());
  return 0;
}
