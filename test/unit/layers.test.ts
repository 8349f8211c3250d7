// The import rules of the layered core, read from the sources: each file's imports, resolved, must
// stay inside what its layer may reach.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { root } from './helpers';

interface Rule {
  /** Which files the rule is for (paths relative to the repository root). */
  files: RegExp;
  /** Project files they may import. */
  may: RegExp[];
  /** Packages and Node modules they may import; anything else is refused. */
  packages: RegExp;
  why: string;
}

// the trace records are plain data that the core, the extension and the webview all speak
const MODEL = /^src\/core\/model\/|^src\/shared\/traceRecords\.ts$/;
const ANY_NODE = /^node:/;
// the one bounded file reader: a leaf (node:fs and model/ only) that the faces share with the runtime
const FILES = /^src\/core\/runtime\/files\.ts$/;
// what a call file's calls take in, how they are judged and reported: shared by the runner and the SDK engine
const CALL_CHECKS = /^src\/core\/(callFileInputs|callJudging|callOutcome|errorPatternMatch)\.ts$/;
const RULES: Rule[] = [
  { files: MODEL, may: [MODEL], packages: /^node:path$/, why: 'model/ is plain data and rules: no I/O, no Wasm, nothing above it' },
  {
    files: /^src\/core\/engine\/demangler\.ts$/,
    may: [MODEL],
    packages: /^gecko-profiler-demangle\/index_bg\.(js|wasm)$/,
    why: 'the demangler wraps one library: the Firefox profiler\'s, its wasm and glue',
  },
  { files: /^src\/core\/engine\/(?!demangler\.ts$)/, may: [MODEL, /^src\/core\/engine\//], packages: ANY_NODE, why: 'engine/ implements the engine interface and imports only model/' },
  { files: FILES, may: [MODEL], packages: ANY_NODE, why: 'runtime/files.ts is shared with the faces: it stays a leaf' },
  { files: /^src\/core\/runtime\//, may: [MODEL, /^src\/core\/runtime\//], packages: ANY_NODE, why: 'runtime/ is written against the engine interface, never engine/' },
  {
    files: /^src\/core\/transport\//,
    may: [MODEL, /^src\/core\/(runtime|engine|transport)\//],
    packages: ANY_NODE,
    why: 'transport/ composes the runtime and carries the protocol; it never reaches the facade',
  },
  { files: /^src\/core\/pluginHost\.ts$/, may: [MODEL, /^src\/core\/transport\//], packages: ANY_NODE, why: 'the facade talks to the runtime only through a transport' },
  { files: /^src\/core\/snapshotStore\.ts$/, may: [MODEL, FILES], packages: ANY_NODE, why: 'the snapshot store reads and writes one file beside a call file' },
  {
    files: /^src\/core\/sdkEngine\.ts$/,
    may: [MODEL, /^src\/core\/(callRunner|snapshotStore)\.ts$/, CALL_CHECKS],
    packages: /^(node:.*|@extism\/extism)$/,
    why: 'the SDK engine runs call files on @extism/extism, loaded when asked for; only the CLI reaches it, so the extension never bundles the SDK',
  },
  {
    files: CALL_CHECKS,
    may: [MODEL, FILES, /^src\/core\/snapshotStore\.ts$/, CALL_CHECKS],
    packages: ANY_NODE,
    why: 'a call file\'s calls read, judged and reported: rules on a call\'s results that both engines share, with no host',
  },
  {
    files: /^src\/core\/callRunner\.ts$/,
    may: [MODEL, /^src\/core\/pluginHost\.ts$/, FILES, /^src\/core\/snapshotStore\.ts$/, CALL_CHECKS],
    packages: ANY_NODE,
    why: 'the call-file runner drives a host through its public face (and reads input files with the one bounded reader)',
  },
  {
    files: /^src\/core\/index\.ts$/,
    // moduleSummary and kernelPlan are pure readings of a module's bytes (the overview of a .wasm),
    // kernelPath a feature test of this V8 (printed by the faces): no engine state
    may: [MODEL, /^src\/core\/(pluginHost|callRunner|callFileInputs|callOutcome)\.ts$/, FILES, /^src\/core\/engine\/(moduleSummary|kernelPath|kernelPlan)\.ts$/],
    packages: /^$/,
    why: 'the public API exports nothing from engine/ (but its pure module summary and kernel plan), runtime/ or transport/ (but the bounded file reader, a leaf)',
  },
  {
    files: /^src\/(cli|cliArgs|cliTest|cliFuelBaseline|cliText)\.ts$/,
    may: [/^src\/core\/index\.ts$/, /^src\/(cliArgs|cliTest|cliFuelBaseline|cliText)\.ts$/, /^src\/core\/sdkEngine\.ts$/],
    packages: ANY_NODE,
    why: 'the CLI is a face: it imports only core/index (and the SDK engine, which only it uses)',
  },
  {
    files: /^src\/(extension\.ts|vscode\/)/,
    may: [/^src\/core\/index\.ts$/, /^src\/vscode\//, /^src\/shared\//],
    packages: /^(vscode|node:.*)$/,
    why: 'the VS Code face imports only core/index of the core',
  },
  { files: /^src\/shared\//, may: [/^src\/shared\//], packages: /^$/, why: 'shared/ is what the extension and the webview both speak: no core, no vscode, no DOM' },
  { files: /^media\/src\//, may: [/^src\/shared\//, /^media\/src\//], packages: /^$/, why: 'the webview speaks only the shared protocol' },
];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [rel] : [];
  });
}

/** Every module a file names in an import, an export ... from, a require() or an import(). */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g, /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g, /\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]);
  return found;
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (fs.existsSync(path.join(root, candidate)) && fs.statSync(path.join(root, candidate)).isFile()) return candidate;
  }
  throw new Error(`${from}: cannot resolve "${spec}"`);
}

describe('the layers of the core', () => {
  const files = [...sources('src'), ...sources('media/src')];

  it('reads the imports it checks', () => {
    assert.deepEqual(importsOf(`import * as a from 'node:fs';\nimport type { B } from './b';\nexport { C } from "../c";\nconst d = require('d');`), ['node:fs', './b', '../c', 'd']);
    assert.ok(files.length > 30, `only ${files.length} sources found`);
    for (const f of files) assert.ok(RULES.some((r) => r.files.test(f)), `${f} is under no rule`);
  });

  it('every file imports only what its layer may reach', () => {
    const broken: string[] = [];
    for (const file of files) {
      const rule = RULES.find((r) => r.files.test(file));
      if (!rule) continue;
      for (const spec of importsOf(fs.readFileSync(path.join(root, file), 'utf8'))) {
        const target = resolveImport(file, spec);
        if (target === null ? !rule.packages.test(spec) : !target.endsWith('.wasm') && !rule.may.some((m) => m.test(target))) {
          broken.push(`${file} imports ${spec}: ${rule.why}`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});
