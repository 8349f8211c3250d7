// Bundles the runtime worker first, then every entry point with the worker's source inlined,
// so the worker needs no file of its own at run time.
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

const worker = await esbuild.build({ ...common, entryPoints: ['src/core/engine/worker.ts'], write: false, sourcemap: false });
const workerSource = worker.outputFiles[0].text;
const inlineWorker = {
  name: 'runtime-worker',
  setup(build) {
    build.onResolve({ filter: /^virtual:runtime-worker$/ }, () => ({ path: 'runtime-worker', namespace: 'virtual' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual' }, () => ({
      contents: `export default ${JSON.stringify(workerSource)};`,
      loader: 'js',
    }));
  },
};

const tests = (dir) => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);

await Promise.all([
  esbuild.build({ ...common, plugins: [inlineWorker], entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' }),
  ...(existsSync('src/extension.ts')
    ? [esbuild.build({ ...common, plugins: [inlineWorker], entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] })]
    : []),
  esbuild.build({
    ...common,
    plugins: [inlineWorker],
    entryPoints: tests('test/extension/suite'),
    outdir: 'dist',
    outbase: '.',
    external: ['vscode', 'mocha'],
  }),
  esbuild.build({
    ...common,
    plugins: [inlineWorker],
    entryPoints: [...tests('test/unit'), ...tests('bench')],
    outdir: 'dist',
    outbase: '.',
    external: ['mocha', '@extism/extism'],
  }),
]);
