import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HeldModule, HostModuleProblem, thrownText, UserHostEntry, userHostEntries } from '../model/userHostFunctions';

/** The outcome of loading the host-function modules: what loaded, and each file that did not, why. */
export interface LoadedHostModules {
  entries: UserHostEntry[];
  failures: { file: string; reason: string }[];
  /** The versions of files whose top level did not finish in time: not run again unless asked. */
  held: HeldModule[];
}

/** How a load is bounded: the time limit of a module's top level, and the versions not to run. */
export interface HostModuleLimits {
  /** ms; 0: none. */
  timeoutMs: number;
  held?: readonly HeldModule[];
}

/** Runs a job under a time limit, as the runtime runs calls (the engine's guard). */
export interface HostModuleGuard {
  runGuarded<T>(timeoutMs: number, job: () => T): T;
  isTimeout(error: unknown): boolean;
}

const EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
/** `require` of an ES module: refused (Node 20), or with top-level await (Node 22.12+). */
const LOAD_AS_ESM = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

/** A version of a module held back: its top level did not finish in time (now, or when last loaded). */
class HeldVersion extends HostModuleProblem {
  constructor(readonly stamp: string, message: string) {
    super(message);
  }
}

function timedOut(stamp: string, timeoutMs: number): HeldVersion {
  return new HeldVersion(stamp, `its top level did not finish within ${timeoutMs} ms (callTimeoutMs) and was stopped; it is not run again until the file changes (save it again to retry)`);
}

function reasonOf(error: unknown): string {
  try {
    if (error instanceof HostModuleProblem) return error.message;
    if (error instanceof Error) return `${thrownText(error.name)}: ${thrownText(error)}`;
  } catch {
    // a Proxy or a revoked one: described below, without touching it again
  }
  return `it threw ${thrownText(error)}`;
}

function codeOf(error: unknown): unknown {
  try {
    return (error as { code?: unknown } | null)?.code;
  } catch {
    return undefined;
  }
}

/**
 * Loads the JS modules that supply host functions, in the runtime's process. A file is evaluated
 * again only when it changed (mtime and size), so a host that reconfigures keeps the modules' state.
 *
 * A module's top level runs under the call time limit. CommonJS (and, on Node 22.12+, an ES module
 * `require` can load) runs under the engine's guard, which interrupts even a tight loop. Any other
 * ES module is first evaluated in a short-lived worker thread, which is terminated when its time
 * is up; only a module whose top level finished there is imported here, and that import must
 * settle within the limit too. A module stopped this way is held: the same version of the file is
 * not run again (the face passes the held versions back, so a new runtime does not run it either).
 */
export class HostModuleLoader {
  private readonly loaded = new Map<string, { stamp: string; entries: UserHostEntry[] }>();
  /** Names this loader's instances of ES modules: unique even when a process holds two copies of this code. */
  private readonly runtime = randomUUID();

  constructor(private readonly guard: HostModuleGuard) {}

  async load(files: readonly string[], limits: HostModuleLimits = { timeoutMs: 0 }): Promise<LoadedHostModules> {
    const out: LoadedHostModules = { entries: [], failures: [], held: [] };
    const held = new Map((limits.held ?? []).map((h) => [h.file, h.stamp]));
    for (const file of files) {
      try {
        out.entries.push(...(await this.loadFile(file, limits.timeoutMs, held.get(file))));
      } catch (error) {
        if (error instanceof HeldVersion) out.held.push({ file, stamp: error.stamp });
        out.failures.push({ file, reason: reasonOf(error) });
      }
    }
    return out;
  }

  private async loadFile(file: string, timeoutMs: number, heldStamp: string | undefined): Promise<UserHostEntry[]> {
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
    if (heldStamp === stamp) {
      throw new HeldVersion(stamp, 'was not run: its top level did not finish in time when this version was loaded before; it runs again when the file changes (save it again to retry)');
    }
    const cached = this.loaded.get(file);
    if (cached?.stamp === stamp) return cached.entries;
    const entries = userHostEntries(file, await this.evaluate(file, stamp, timeoutMs));
    this.loaded.set(file, { stamp, entries });
    return entries;
  }

  /**
   * The module's export: `module.exports`, or the default export of an ES module. The runtime and
   * the file's stamp name the instance of an ES module.
   */
  private async evaluate(file: string, stamp: string, timeoutMs: number): Promise<unknown> {
    if (path.extname(file) !== '.mjs') {
      const require = createRequire(file);
      try {
        delete require.cache[require.resolve(file)];
        const exported = this.guard.runGuarded(timeoutMs, () => require(file)) as { __esModule?: boolean; default?: unknown; [Symbol.toStringTag]?: unknown } | null;
        // Node 22.12+ require()s an ES module too, giving its namespace: its top level finished
        // under the guard; it is loaded as an ES module below, for an instance of this version
        if (exported?.[Symbol.toStringTag] !== 'Module') {
          return exported && exported.__esModule && 'default' in exported ? exported.default : exported;
        }
        return await this.importModule(file, stamp, timeoutMs, false);
      } catch (error) {
        if (this.guard.isTimeout(error)) throw timedOut(stamp, timeoutMs);
        if (!LOAD_AS_ESM.has(codeOf(error) as string)) throw error;
      }
    }
    return this.importModule(file, stamp, timeoutMs, true);
  }

  private async importModule(file: string, stamp: string, timeoutMs: number, vet: boolean): Promise<unknown> {
    // an ES module is cached by URL for the life of the process: the runtime and the stamp in the
    // query give each runtime its own instance (its own state), and a changed file a fresh one
    const url = `${pathToFileURL(file).href}?version=${encodeURIComponent(`${this.runtime}:${stamp}`)}`;
    if (timeoutMs > 0 && vet && !(await topLevelFinishes(url, timeoutMs))) throw timedOut(stamp, timeoutMs);
    const namespace = (await settlesWithin(import(url) as Promise<Record<string, unknown>>, timeoutMs)) ?? null;
    if (namespace === null) throw timedOut(stamp, timeoutMs);
    if (!Object.hasOwn(namespace, 'default')) throw new HostModuleProblem('has no default export (export default { "<module>": { ... } })');
    return namespace.default;
  }
}

/** The promise's value, or null when it has not settled within `timeoutMs` (0: no limit). */
async function settlesWithin<T>(promise: Promise<T>, timeoutMs: number): Promise<T | null> {
  if (timeoutMs <= 0) return promise;
  // an import that never settles stays pending; its failure must not go unhandled
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

// Imports the module and says whether that finished; its output goes nowhere (it runs for real after).
const VET = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.url).then(() => parentPort.postMessage(true), () => parentPort.postMessage(true));
`;

/**
 * Whether an ES module's top level (its imports included) finishes within `timeoutMs`, tried in a
 * worker thread that is terminated when the time is up: `import()` cannot be interrupted on the
 * runtime's own thread. A module that throws counts as finished: the real import reports it.
 */
function topLevelFinishes(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let worker: Worker;
    const done = (finished: boolean): void => {
      clearTimeout(timer);
      worker.removeAllListeners();
      worker.on('error', () => undefined);
      void worker.terminate().then(() => resolve(finished), () => resolve(finished));
    };
    try {
      worker = new Worker(VET, { eval: true, workerData: { url }, stdout: true, stderr: true });
    } catch {
      // no thread to try it in: the import below is bounded by its settling only
      resolve(true);
      return;
    }
    worker.stdout.resume();
    worker.stderr.resume();
    // the time counts from when the thread runs, not from its start-up
    worker.on('online', () => {
      timer = setTimeout(() => done(false), timeoutMs);
    });
    worker.on('message', () => done(true));
    worker.on('error', () => done(true));
    worker.on('exit', () => done(true));
  });
}
