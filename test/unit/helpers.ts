import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { HostOptions, PluginHost, RuntimeTransport } from '../../src/core';

/** The repository root, from the bundled test in dist/test/unit. */
export const root = path.resolve(__dirname, '..', '..', '..');
export const pluginsDir = path.join(root, 'plugins');
export const cli = path.join(root, 'dist', 'cli.js');
/** The bundled runtime entry that the worker and child-process transports run. */
export const runtimeEntry = path.join(root, 'dist', 'runtime.js');
export const transports: Record<'inProcess' | 'worker' | 'childProcess', RuntimeTransport> = {
  inProcess: { kind: 'in-process' },
  worker: { kind: 'worker', entry: runtimeEntry },
  childProcess: { kind: 'child-process', entry: runtimeEntry },
};

export function wasm(name: string): string {
  return path.join(pluginsDir, `${name}.wasm`);
}

const open = new Set<PluginHost>();

/** A host on the sample plugins, in-process unless told; closed after each test by `closeHosts`. */
export function startHost(options: HostOptions = {}, transport: RuntimeTransport = transports.inProcess): PluginHost {
  const host = new PluginHost({ pluginDirs: [pluginsDir], ...options }, transport);
  open.add(host);
  return host;
}

export async function closeHosts(): Promise<void> {
  await Promise.all([...open].map((h) => h.dispose()));
  open.clear();
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

/** Asserts that the promise rejects with an error of that name whose message matches. */
export async function rejects(promise: Promise<unknown>, name: string, message: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected a ${name} matching ${message}, but it resolved`);
  assert.equal(caught.name, name, `wrong error: ${caught.message}`);
  assert.match(caught.message, message);
  return caught;
}
