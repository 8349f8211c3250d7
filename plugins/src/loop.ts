// loop: a runaway plugin.
//
// export spin(): loops forever (no host calls inside the loop); only a timeout stops it.
// export ok():   outputs "ok" (to check the plugin still works after a stopped spin).

import { outputString } from "./lib/mem";

let spins: u64 = 0;

export function spin(): i32 {
  while (true) {
    spins++;
  }
  return 0;
}

export function ok(): i32 {
  outputString("ok");
  return 0;
}
