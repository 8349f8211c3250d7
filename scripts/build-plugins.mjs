#!/usr/bin/env node
// Builds the sample plugins: every plugins/src/*.ts (not files in subfolders) to
// plugins/<basename>.wasm with the AssemblyScript compiler API, all in this process.
//
//   node scripts/build-plugins.mjs [--force] [--verbose] [name ...]
//
//   --force    rebuild even when a .wasm is newer than everything it depends on
//   --verbose  list each module's imports and exports
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
// Every built module is checked: imports only from extism:host/env, extism:host/user,
// or env.{register_plugin,call_plugin,unregister_plugin}. Exit code 1 on any error.

import asc from "assemblyscript/asc";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pluginsDir = path.join(root, "plugins");
const srcDir = path.join(pluginsDir, "src");
const ABORT_ENTRY = "lib/abort.ts";
const ABORT_ALIAS = "abort=lib/abort/ipcAbort";
const ALLOWED_MODULES = new Set(["extism:host/env", "extism:host/user"]);
const ALLOWED_ENV = new Set(["register_plugin", "call_plugin", "unregister_plugin"]);

const argv = process.argv.slice(2);
const verbose = argv.includes("--verbose");
const force = argv.includes("--force");
const unknown = argv.filter((a) => a.startsWith("-") && a !== "--verbose" && a !== "--force");
if (unknown.length) {
  console.error(`build-plugins: unknown option(s) ${unknown.join(" ")}`);
  process.exit(2);
}
const only = new Set(argv.filter((a) => !a.startsWith("-")));

/** Directives from the comment lines at the top of a source file. */
function directives(source) {
  const extra = [];
  let noImports = false;
  for (const line of source.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "") continue;
    if (!t.startsWith("//")) break;
    const m = /^\/\/\s*asc-options:\s*(.*)$/.exec(t);
    if (m) extra.push(...m[1].trim().split(/\s+/).filter(Boolean));
    if (/^\/\/\s*imports:\s*none\s*$/.test(t)) noImports = true;
  }
  return { extra, noImports };
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
function checkModule(name, module, noImports) {
  const problems = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    const what = `${imp.module}.${imp.name} (${imp.kind})`;
    if (noImports) problems.push(`${name}: must have no imports, imports ${what}`);
    else if (imp.module === "env") {
      if (!ALLOWED_ENV.has(imp.name)) problems.push(`${name}: forbidden import ${what}`);
    } else if (!ALLOWED_MODULES.has(imp.module)) problems.push(`${name}: forbidden import ${what}`);
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

  let failures = 0;
  let built = 0;
  let upToDate = 0;
  for (const file of files) {
    const name = file.slice(0, -3);
    if (only.size && !only.has(name)) continue;
    const outRel = `${name}.wasm`;
    const outAbs = path.join(pluginsDir, outRel);
    const source = await readFile(path.join(srcDir, file), "utf8");
    const { extra, noImports } = directives(source);

    const outTime = await mtime(outAbs);
    const fresh = !force && outTime > 0 && outTime >= Math.max(shared, await mtime(path.join(srcDir, file)));

    if (!fresh) {
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
      let result;
      try {
        result = await asc.main(args, { stdout, stderr });
      } catch (err) {
        result = { error: err };
      }
      const ms = performance.now() - t0;
      const diagnostics = stderr.toString().trim();
      if (result.error) {
        failures++;
        console.error(`FAILED  plugins/src/${file}: ${result.error.message}`);
        if (diagnostics) console.error(diagnostics.replace(/^/gm, "    "));
        continue;
      }
      if (diagnostics) console.error(diagnostics.replace(/^/gm, `    ${name}: `));
      const bytes = await readFile(outAbs);
      const module = new WebAssembly.Module(bytes);
      const problems = checkModule(name, module, noImports);
      if (problems.length) {
        failures++;
        for (const p of problems) console.error(`FAILED  ${p}`);
        continue;
      }
      built++;
      console.log(
        `built   plugins/${outRel}  ${(bytes.length / 1024).toFixed(1)} KiB  ${ms.toFixed(0)} ms` +
          (extra.length ? `  [${extra.join(" ")}]` : ""),
      );
      if (verbose) console.log(describe(module));
    } else {
      const bytes = await readFile(outAbs);
      const module = new WebAssembly.Module(bytes);
      const problems = checkModule(name, module, noImports);
      if (problems.length) {
        failures++;
        for (const p of problems) console.error(`FAILED  ${p}`);
        continue;
      }
      upToDate++;
      console.log(`fresh   plugins/${outRel}  ${(bytes.length / 1024).toFixed(1)} KiB  (up to date; --force rebuilds)`);
      if (verbose) console.log(describe(module));
    }
  }

  const total = ((performance.now() - started) / 1000).toFixed(2);
  if (failures) {
    console.error(`build-plugins: ${failures} plugin(s) failed (${built} built, ${upToDate} up to date, ${total} s)`);
    process.exit(1);
  }
  console.log(`build-plugins: ${built} built, ${upToDate} up to date in ${total} s`);
}

main().catch((err) => {
  console.error(`build-plugins: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
