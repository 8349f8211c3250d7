// spawner: a spawn bomb.
//
// export spawn(): registers another `spawner` and calls its `spawn` with the same
//   input, without end; only the host's limits (live plugins, spawns per plugin,
//   call depth, timeout) stop it. Never succeeds under a sane policy.

import { registerPlugin, callPluginBlock } from "./lib/ipc";
import { inputToBlock, outputBlock } from "./lib/mem";

export function spawn(): i32 {
  const id = registerPlugin("spawner");
  outputBlock(callPluginBlock(id, "spawn", inputToBlock(), true));
  return 0;
}
