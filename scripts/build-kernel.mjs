// Assembles src/core/engine/kernel.wat into kernel.wasm with Binaryen (text -> validated binary).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';

const wat = fileURLToPath(new URL('../src/core/engine/kernel.wat', import.meta.url));
const out = wat.replace(/\.wat$/, '.wasm');
const mod = binaryen.parseText(readFileSync(wat, 'utf8'));
mod.setFeatures(binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.MutableGlobals);
if (!mod.validate()) {
  console.error('kernel.wat does not validate');
  process.exit(1);
}
mod.optimize();
const bytes = mod.emitBinary();
writeFileSync(out, bytes);
console.log(`kernel: ${bytes.length} bytes -> ${out}`);
