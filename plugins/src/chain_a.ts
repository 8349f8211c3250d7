// chain_a: first link of a three-plugin chain A -> B -> C.
//
// export step(): registers chain_b (once per instance), calls chain_b.step with
//   input + "|a" and outputs B's output unchanged.
//   B calls chain_c.step with its input + "|b"; C upper-cases its input and adds "|c".
//   Expected: chain_a.step("x") == "X|A|B|c"
//             (C gets "x|a|b" -> "X|A|B" + "|c"; B and A pass it on unchanged).

import { registerPlugin, callPluginBlock } from "./lib/ipc";
import { inputToBlockWithSuffix, outputBlock } from "./lib/mem";

let nextId: u64 = 0;

export function step(): i32 {
  if (nextId == 0) nextId = registerPlugin("chain_b");
  outputBlock(callPluginBlock(nextId, "step", inputToBlockWithSuffix("|a"), true));
  return 0;
}
