import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The `extism:host/env` imports a hand-written test plugin may use, as WAT. */
export const ENV_IMPORTS = `
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "length_unsafe" (func $length_unsafe (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "log_warn" (func $log_warn (param i64)))
  (import "extism:host/env" "log_error" (func $log_error (param i64)))
`;

/** `$input_block`: the input, copied into a new block (needs ENV_IMPORTS). */
export const INPUT_BLOCK = `
  (func $input_block (result i64) (local $n i64) (local $p i64) (local $i i64)
    (local.set $n (call $input_length))
    (local.set $p (call $alloc (local.get $n)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $p) (local.get $i)) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (local.get $p))
`;

interface Binaryen {
  parseText(text: string): {
    setFeatures(features: number): void;
    validate(): number;
    emitBinary(): Uint8Array;
    dispose(): void;
  };
  Features: { MVP: number; MutableGlobals: number };
}

let binaryen: Binaryen | undefined;

/** Assembles WAT with Binaryen (an ES module with top-level await, so imported, not required). */
export async function assemble(wat: string): Promise<Uint8Array> {
  binaryen ??= ((await import('binaryen')) as unknown as { default: Binaryen }).default;
  const mod = binaryen.parseText(wat);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.MutableGlobals);
    if (!mod.validate()) throw new Error('test module does not validate');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** Writes a module to a fresh temporary directory as `<name>.wasm`; returns its path. */
export function writeModule(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-wat-'));
  const file = path.join(dir, `${name}.wasm`);
  fs.writeFileSync(file, bytes);
  return file;
}
