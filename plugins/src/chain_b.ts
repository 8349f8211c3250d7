// chain_b: middle link of the chain A -> B -> C (see chain_a.ts).
//
// export step(): registers chain_c (once per instance), calls chain_c.step with
//   input + "|b" and outputs C's output unchanged.
//   Expected: chain_b.step("x|a") == "X|A|B|c"; chain_b.step("y") == "Y|B|c".

import { registerPlugin, callPluginBlock } from "./lib/ipc";
import { inputToBlockWithSuffix, outputBlock } from "./lib/mem";

let nextId: u64 = 0;

export function step(): i32 {
  if (nextId == 0) nextId = registerPlugin("chain_c");
  outputBlock(callPluginBlock(nextId, "step", inputToBlockWithSuffix("|b"), true));
  return 0;
}
