import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { root } from './helpers';

/** The C plugins built with DWARF by scripts/build-c-plugins.mjs (clang, lld). */
export const cDir = path.join(root, 'test', 'fixtures', 'c');
export function cPlugin(name: string): string {
  const file = path.join(cDir, 'build', `${name}.wasm`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: build it with node scripts/build-c-plugins.mjs (needs clang, lld: apt-get install -y clang lld wasi-libc)`);
  return file;
}

/** The line of the first line of `file` (in the C fixtures) that contains `text`. */
export function lineOf(file: string, text: string): number {
  const lines = fs.readFileSync(path.join(cDir, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} not in ${file}`);
  return i + 1;
}

export function relayInput(calleeId: number, func: string): Uint8Array {
  const input = Buffer.alloc(8 + func.length);
  input.writeBigUInt64LE(BigInt(calleeId), 0);
  input.write(func, 8, 'latin1');
  return input;
}
