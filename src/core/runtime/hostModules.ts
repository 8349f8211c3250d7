import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HostModuleProblem, thrownText, UserHostEntry, userHostEntries } from '../model/userHostFunctions';

/** The outcome of loading the host-function modules: what loaded, and each file that did not, why. */
export interface LoadedHostModules {
  entries: UserHostEntry[];
  failures: { file: string; reason: string }[];
}

const EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

function reasonOf(error: unknown): string {
  if (error instanceof HostModuleProblem) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `it threw ${thrownText(error)}`;
}

/**
 * Loads the JS modules that supply host functions, in the runtime's process. A file is evaluated
 * again only when it changed (mtime and size), so a host that reconfigures keeps the modules' state.
 */
export class HostModuleLoader {
  private readonly loaded = new Map<string, { stamp: string; entries: UserHostEntry[] }>();
  /** Names this loader's instances of ES modules: unique even when a process holds two copies of this code. */
  private readonly runtime = randomUUID();

  async load(files: readonly string[]): Promise<LoadedHostModules> {
    const out: LoadedHostModules = { entries: [], failures: [] };
    for (const file of files) {
      try {
        out.entries.push(...(await this.loadFile(file)));
      } catch (error) {
        out.failures.push({ file, reason: reasonOf(error) });
      }
    }
    return out;
  }

  private async loadFile(file: string): Promise<UserHostEntry[]> {
    if (!path.isAbsolute(file)) throw new HostModuleProblem('is not an absolute path');
    if (!EXTENSIONS.has(path.extname(file))) throw new HostModuleProblem('is not a .js, .mjs or .cjs module');
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new HostModuleProblem('does not exist');
    }
    if (!stat.isFile()) throw new HostModuleProblem('is not a file');
    const stamp = `${stat.mtimeMs}:${stat.size}`;
    const cached = this.loaded.get(file);
    if (cached?.stamp === stamp) return cached.entries;
    const entries = userHostEntries(file, await evaluate(file, `${this.runtime}:${stamp}`));
    this.loaded.set(file, { stamp, entries });
    return entries;
  }
}

/**
 * The module's export: `module.exports`, or the default export of an ES module. `version` (the
 * runtime and the file's stamp) names the instance of an ES module.
 */
async function evaluate(file: string, version: string): Promise<unknown> {
  if (path.extname(file) !== '.mjs') {
    const require = createRequire(file);
    try {
      delete require.cache[require.resolve(file)];
      const exported = require(file) as { __esModule?: boolean; default?: unknown; [Symbol.toStringTag]?: unknown } | null;
      // Node 22.12+ require()s an ES module too, giving its namespace: load it as one, below
      if (exported?.[Symbol.toStringTag] !== 'Module') {
        return exported && exported.__esModule && 'default' in exported ? exported.default : exported;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    }
  }
  // an ES module is cached by URL for the life of the process: the runtime and the stamp in the
  // query give each runtime its own instance (its own state), and a changed file a fresh one
  const namespace = (await import(`${pathToFileURL(file).href}?version=${encodeURIComponent(version)}`)) as Record<string, unknown>;
  if (!Object.hasOwn(namespace, 'default')) throw new HostModuleProblem('has no default export (export default { "<module>": { ... } })');
  return namespace.default;
}
