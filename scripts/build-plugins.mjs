#!/usr/bin/env node
// Builds the sample plugins: every plugins/src/*.ts (not files in subfolders) to
// plugins/<basename>.wasm with the AssemblyScript compiler API (asc.main), all in this
// one process: the compiles are spread over a few worker threads (one per CPU).
//
//   node scripts/build-plugins.mjs [--force] [--verbose] [name ...]
//
//   --force    rebuild even when a .wasm is newer than everything it depends on
//   --verbose  list each module's imports and exports
//   --jobs=N   compile on N threads (default: one per CPU; 1 = no worker threads)
//   name ...   build only these plugins (basenames, e.g. count_vowels)
//
// Every plugin is built with -O3, no source map, the default (incremental) runtime and
// `--use abort=lib/abort/ipcAbort` (plugins/src/lib/abort.ts is added as an extra entry)
// so no module imports `env.abort`: an abort reports its message through Extism's
// error_set and traps. A file can add or override compiler options with a comment in
// its first lines:
//   // asc-options: --runtime stub --use abort=
// and declare that it must have no imports at all (plain wasm, not an Extism plugin):
//   // imports: none
// or that it may also import WASI (wasi_snapshot_preview1.*; the host must grant WASI):
//   // imports: wasi
// Every built module is checked: imports only from extism:host/env, extism:host/user,
// or env.{register_plugin,call_plugin,unregister_plugin} (plus wasi_snapshot_preview1.*
// for `// imports: wasi` files, the modules a file names in `// links: a b`, which a
// manifest links in, and those it names in `// host modules: a b`, whose functions the
// user's host-function modules supply). Exit code 1 on any error.

import asc from "assemblyscript/asc";
import { readFileSync, rmSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pluginsDir = path.join(root, "plugins");
const srcDir = path.join(pluginsDir, "src");
const ABORT_ENTRY = "lib/abort.ts";
const ABORT_ALIAS = "abort=lib/abort/ipcAbort";
const ALLOWED_MODULES = new Set(["extism:host/env", "extism:host/user"]);
const ALLOWED_ENV = new Set(["register_plugin", "call_plugin", "unregister_plugin"]);
const WASI_MODULE = "wasi_snapshot_preview1"; // allowed only with `// imports: wasi`

const argv = process.argv.slice(2);
const verbose = argv.includes("--verbose");
const force = argv.includes("--force");
const jobsArg = argv.find((a) => a.startsWith("--jobs="));
const jobsOpt = jobsArg ? Number(jobsArg.slice(7)) : 0;
const unknown = argv.filter((a) => a.startsWith("-") && a !== "--verbose" && a !== "--force" && a !== jobsArg);
if (jobsArg && !(Number.isInteger(jobsOpt) && jobsOpt >= 1)) {
  console.error(`build-plugins: --jobs=N needs a positive integer`);
  process.exit(2);
}
if (unknown.length) {
  console.error(`build-plugins: unknown option(s) ${unknown.join(" ")}`);
  process.exit(2);
}
const only = new Set(argv.filter((a) => !a.startsWith("-")));

/** Directives from the comment lines at the top of a source file. */
function directives(source) {
  const extra = [];
  let noImports = false;
  let wasi = false;
  const links = [];
  for (const line of source.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "") continue;
    if (!t.startsWith("//")) break;
    const m = /^\/\/\s*asc-options:\s*(.*)$/.exec(t);
    if (m) extra.push(...m[1].trim().split(/\s+/).filter(Boolean));
    if (/^\/\/\s*imports:\s*none\s*$/.test(t)) noImports = true;
    if (/^\/\/\s*imports:\s*wasi\s*$/.test(t)) wasi = true;
    const l = /^\/\/\s*(?:links|host modules):\s*(.*)$/.exec(t);
    if (l) links.push(...l[1].trim().split(/\s+/).filter(Boolean));
  }
  return { extra, noImports, wasi, links };
}

async function mtime(file) {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return -1;
  }
}

async function newestIn(dir) {
  let newest = -1;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    const t = e.isDirectory() ? await newestIn(p) : await mtime(p);
    if (t > newest) newest = t;
  }
  return newest;
}

/** Checks a built module's imports; returns a list of problems. */
function checkModule(name, module, noImports, wasi, links = []) {
  const problems = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    const what = `${imp.module}.${imp.name} (${imp.kind})`;
    if (noImports) problems.push(`${name}: must have no imports, imports ${what}`);
    else if (imp.module === "env") {
      if (!ALLOWED_ENV.has(imp.name)) problems.push(`${name}: forbidden import ${what}`);
    } else if (imp.module === WASI_MODULE) {
      if (!wasi) problems.push(`${name}: forbidden import ${what} (WASI needs \`// imports: wasi\`)`);
    } else if (!ALLOWED_MODULES.has(imp.module) && !links.includes(imp.module)) problems.push(`${name}: forbidden import ${what}`);
  }
  return problems;
}

function describe(module) {
  const imports = WebAssembly.Module.imports(module).map((i) =>
    i.kind === "function" ? `${i.module}.${i.name}` : `${i.module}.${i.name} (${i.kind})`,
  );
  const exports = WebAssembly.Module.exports(module).map((e) =>
    e.kind === "function" ? e.name : `${e.name} (${e.kind})`,
  );
  return `    imports: ${imports.length ? imports.join(", ") : "(none)"}\n    exports: ${exports.join(", ")}`;
}

/** Compiles one plugin (runs in a worker thread); returns what the main thread prints. */
async function compile({ file, outRel, extra }) {
  const customAbort = extra.some((a, i) => a.startsWith("abort=") && (extra[i - 1] === "--use" || extra[i - 1] === "-u"));
  const args = [
    file,
    ...(customAbort ? [] : [ABORT_ENTRY, "--use", ABORT_ALIAS]),
    "--baseDir", srcDir,
    "--outFile", `../${outRel}`,
    "-O3",
    "--noColors",
    ...extra,
  ];
  const t0 = performance.now();
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  let error = null;
  try {
    const result = await asc.main(args, { stdout, stderr });
    if (result.error) error = result.error.message;
  } catch (err) {
    error = String(err && err.stack ? err.stack : err);
  }
  return { error, diagnostics: stderr.toString().trim(), ms: performance.now() - t0 };
}

if (!isMainThread) {
  parentPort.on("message", async (job) => {
    parentPort.postMessage({ index: job.index, ...(await compile(job)) });
  });
}

/** Runs the compile jobs on a few worker threads (the compiler is CPU-bound). */
async function runJobs(jobs, onResult) {
  if (!jobs.length) return;
  const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const threads = Math.max(1, Math.min(jobs.length, jobsOpt || cpus));
  if (threads === 1) {
    // In this thread: no worker start-up, one compiler warm-up.
    for (const job of jobs) onResult({ index: job.index, ...(await compile(job)) });
    return;
  }
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const workers = [];
    const feed = (w) => {
      if (next < jobs.length) w.postMessage(jobs[next++]);
    };
    for (let t = 0; t < threads; t++) {
      const w = new Worker(fileURLToPath(import.meta.url), { argv: [] });
      workers.push(w);
      w.on("message", (msg) => {
        onResult(msg);
        if (++done === jobs.length) {
          for (const x of workers) x.terminate();
          resolve();
        } else feed(w);
      });
      w.on("error", (err) => {
        for (const x of workers) x.terminate();
        reject(err);
      });
      feed(w);
    }
  });
}

async function main() {
  const started = performance.now();
  const entries = await readdir(srcDir, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => e.name)
    .sort();
  const names = files.map((f) => f.slice(0, -3));
  for (const n of only) {
    if (!names.includes(n)) {
      console.error(`build-plugins: no plugin source plugins/src/${n}.ts`);
      process.exit(1);
    }
  }

  // A .wasm is up to date if newer than its source, plugins/src/lib/, this script and
  // the compiler / PDK packages.
  const shared = Math.max(
    await newestIn(path.join(srcDir, "lib")),
    await mtime(fileURLToPath(import.meta.url)),
    await mtime(path.join(root, "node_modules/assemblyscript/package.json")),
    await newestIn(path.join(root, "node_modules/@extism/as-pdk/lib")),
  );

  const plugins = [];
  for (const file of files) {
    const name = file.slice(0, -3);
    if (only.size && !only.has(name)) continue;
    const outRel = `${name}.wasm`;
    const source = await readFile(path.join(srcDir, file), "utf8");
    const { extra, noImports, wasi, links } = directives(source);
    const outTime = await mtime(path.join(pluginsDir, outRel));
    const fresh = !force && outTime > 0 && outTime >= Math.max(shared, await mtime(path.join(srcDir, file)));
    plugins.push({ index: plugins.length, file, name, outRel, extra, noImports, wasi, links, fresh, result: null });
  }

  let failures = 0;
  let built = 0;
  let upToDate = 0;
  let printed = 0;
  // Reports finished plugins in source order, as soon as all earlier ones are done.
  const flush = () => {
    while (printed < plugins.length && (plugins[printed].fresh || plugins[printed].result)) {
      const p = plugins[printed++];
      const r = p.result;
      if (r && r.error) {
        failures++;
        console.error(`FAILED  plugins/src/${p.file}: ${r.error}`);
        if (r.diagnostics) console.error(r.diagnostics.replace(/^/gm, "    "));
        continue;
      }
      if (r && r.diagnostics) console.error(r.diagnostics.replace(/^/gm, `    ${p.name}: `));
      let bytes, module;
      try {
        bytes = readFileSync(path.join(pluginsDir, p.outRel));
        module = new WebAssembly.Module(bytes);
      } catch (err) {
        failures++;
        console.error(`FAILED  plugins/${p.outRel}: ${err.message}`);
        continue;
      }
      const problems = checkModule(p.name, module, p.noImports, p.wasi, p.links);
      if (problems.length) {
        failures++;
        for (const x of problems) console.error(`FAILED  ${x}`);
        rmSync(path.join(pluginsDir, p.outRel), { force: true }); // never leave a bad module behind
        continue;
      }
      const size = `${(bytes.length / 1024).toFixed(1)} KiB`;
      if (r) {
        built++;
        console.log(`built   plugins/${p.outRel}  ${size}  ${r.ms.toFixed(0)} ms` + (p.extra.length ? `  [${p.extra.join(" ")}]` : ""));
      } else {
        upToDate++;
        console.log(`fresh   plugins/${p.outRel}  ${size}  (up to date; --force rebuilds)`);
      }
      if (verbose) console.log(describe(module));
    }
  };

  flush();
  const jobs = plugins.filter((p) => !p.fresh).map(({ index, file, outRel, extra }) => ({ index, file, outRel, extra }));
  await runJobs(jobs, (msg) => {
    plugins[msg.index].result = msg;
    flush();
  });
  flush();

  const total = ((performance.now() - started) / 1000).toFixed(2);
  if (failures) {
    console.error(`build-plugins: ${failures} plugin(s) failed (${built} built, ${upToDate} up to date, ${total} s)`);
    process.exit(1);
  }
  console.log(`build-plugins: ${built} built, ${upToDate} up to date in ${total} s`);
}

if (isMainThread) {
  main().catch((err) => {
    console.error(`build-plugins: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}
