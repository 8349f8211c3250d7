// Builds the webviews: type-checks media/src against the DOM lib, then bundles the "Inter-Plugin
// Calls" panel into media/dist/webview.js and the plugin overview into media/dist/overview.js (each
// with the src/shared protocol it speaks). usage: node media/build.mjs [--production]
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
  // the "Inter-Plugin Calls" panel, and the plugin overview (the custom editor of a .wasm)
  entryPoints: [
    { in: join(here, 'src', 'main.ts'), out: 'webview' },
    { in: join(here, 'src', 'overview.ts'), out: 'overview' },
  ],
  outdir: join(here, 'dist'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  sourcemap: production ? false : 'inline',
  minify: production,
  logLevel: 'warning',
});
