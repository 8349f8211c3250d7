// Builds the "Inter-Plugin Calls" webview: type-checks media/src against the DOM lib, then bundles
// it (with src/shared/protocol.ts) into media/dist/webview.js. usage: node media/build.mjs [--production]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
await esbuild.build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(here, 'dist', 'webview.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  sourcemap: production ? false : 'inline',
  minify: production,
  logLevel: 'warning',
});
