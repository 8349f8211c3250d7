#!/usr/bin/env node
// Builds the C test plugins, which carry DWARF and a name section as real PDK builds do: every
// test/fixtures/c/*.c to test/fixtures/c/build/<basename>.wasm with clang and wasm-ld
//   clang --target=wasm32 -nostdlib -O1 -g -Wl,--no-entry -Wl,--export-dynamic
// (caller.c with -gdwarf-5, the others with clang's default DWARF 4), then two copies of
// callee.wasm: callee.stripped.wasm (the .debug_* sections removed, the name section kept) and
// callee.nonames.wasm (every custom section removed); from hot.wasm: hot.stripped.wasm.
//
//   node scripts/build-c-plugins.mjs [--force] [--require]
//
//   --force    rebuild even when a .wasm is newer than its sources
//   --require  fail when clang is missing (CI); without it a missing clang skips the build with a
//              message (the tests that need these plugins then fail, naming this script)
//
// clang, lld and wasi-libc are Debian packages: apt-get install -y clang lld wasi-libc
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'test', 'fixtures', 'c');
const outDir = path.join(srcDir, 'build');
const argv = process.argv.slice(2);
const unknown = argv.filter((a) => a !== '--force' && a !== '--require');
if (unknown.length) {
  console.error(`build-c-plugins: unknown option(s) ${unknown.join(' ')}`);
  process.exit(2);
}
const force = argv.includes('--force');
const clang = process.env.CLANG || 'clang';
const DWARF5 = new Set(['caller']);

try {
  execFileSync(clang, ['--version'], { stdio: 'ignore' });
} catch {
  const message = `build-c-plugins: ${clang} not found; the C test plugins (DWARF fixtures) were not built. Install: apt-get install -y clang lld wasi-libc`;
  if (argv.includes('--require')) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const headers = readdirSync(srcDir).filter((f) => f.endsWith('.h')).map((f) => path.join(srcDir, f));
const newestHeader = Math.max(0, ...headers.map((h) => statSync(h).mtimeMs));
let built = 0;
for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort()) {
  const name = file.slice(0, -2);
  const out = path.join(outDir, `${name}.wasm`);
  const newest = Math.max(newestHeader, statSync(path.join(srcDir, file)).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= newest) continue;
  const debug = DWARF5.has(name) ? ['-gdwarf-5'] : ['-g'];
  // run in the sources' folder: DWARF names the file relative to it and records it as the compilation dir
  execFileSync(clang, ['--target=wasm32', '-nostdlib', '-O1', ...debug, '-Wl,--no-entry', '-Wl,--export-dynamic', '-o', out, file], {
    cwd: srcDir,
    stdio: 'inherit',
    // clang runs any wasm-opt on PATH after linking, and npm puts Binaryen's (node_modules/.bin)
    // there: it would drop the name section the fixtures are built to have
    env: { ...process.env, PATH: (process.env.PATH ?? '').split(path.delimiter).filter((d) => !d.includes(`node_modules${path.sep}.bin`)).join(path.delimiter) },
  });
  built++;
  if (name === 'callee') {
    const bytes = readFileSync(out);
    writeFileSync(path.join(outDir, 'callee.stripped.wasm'), withoutCustomSections(bytes, (n) => n.startsWith('.debug_')));
    writeFileSync(path.join(outDir, 'callee.nonames.wasm'), withoutCustomSections(bytes, () => true));
  }
  if (name === 'hot') writeFileSync(path.join(outDir, 'hot.stripped.wasm'), withoutCustomSections(readFileSync(out), (n) => n.startsWith('.debug_')));
}
console.log(`c plugins: ${built} built -> ${path.relative(root, outDir)}`);

/** The module without the custom sections whose name `drop` accepts. */
function withoutCustomSections(bytes, drop) {
  const parts = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    const [size, next] = leb(bytes, at);
    const end = next + size;
    let keep = true;
    if (id === 0) {
      const [nameLength, nameAt] = leb(bytes, next);
      keep = !drop(Buffer.from(bytes.subarray(nameAt, nameAt + nameLength)).toString('utf8'));
    }
    if (keep) parts.push(bytes.subarray(start, end));
    at = end;
  }
  return Buffer.concat(parts);
}

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}
