// Bundles the entry points: the runtime (run as a child process or worker thread of a face), the
// CLI, the extension, and the tests and bench.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
};

const tests = (dir) => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/core/transport/runtimeMain.ts'], outfile: 'dist/runtime.js' }),
  // @extism/extism (a dependency) is loaded from node_modules, and only for test --engine sdk|both
  esbuild.build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', external: ['@extism/extism'] }),
  esbuild.build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.build({
    ...common,
    entryPoints: tests('test/extension/suite'),
    outdir: 'dist',
    outbase: '.',
    external: ['vscode', 'mocha'],
  }),
  esbuild.build({
    ...common,
    entryPoints: [...tests('test/unit'), ...tests('bench')],
    outdir: 'dist',
    outbase: '.',
    external: ['mocha', '@extism/extism', 'binaryen'],
  }),
]);
