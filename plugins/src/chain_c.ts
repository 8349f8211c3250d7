// chain_c: last link of the chain A -> B -> C (see chain_a.ts).
//
// export step(): outputs the input with ASCII a-z upper-cased (other bytes as they
//   are), followed by "|c".
//   Expected: chain_c.step("x|a|b") == "X|A|B|c"; chain_c.step("") == "|c".

import { copyInput, input_length, outputBytes } from "./lib/mem";

export function step(): i32 {
  const len = <i32>input_length();
  const buf = new Uint8Array(len + 2);
  const p = buf.dataStart;
  copyInput(0, p, <usize>len);
  for (let i = 0; i < len; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 97 && c <= 122) store<u8>(p + <usize>i, c - 32);
  }
  store<u8>(p + <usize>len, 124); // '|'
  store<u8>(p + <usize>len + 1, 99); // 'c'
  outputBytes(p, <usize>(len + 2));
  return 0;
}
