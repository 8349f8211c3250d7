import * as fs from 'node:fs';
import * as path from 'node:path';
import { PolicyError } from '../model/errors';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A plugin name as register_plugin takes it: letters, digits, `_`, `-`, `.`; no paths. */
export function checkPluginName(name: string, who = 'register_plugin'): string {
  const bare = name.endsWith('.wasm') ? name.slice(0, -5) : name;
  if (!NAME.test(bare) || bare.includes('..')) {
    throw new PolicyError(
      `${who}: "${name}" is not a plugin name (names only: letters, digits, "_", "-", "."; no paths)`,
    );
  }
  return bare;
}

/**
 * The file of a plugin name: `<name>.json` (an Extism manifest) or `<name>.wasm`; the first plugin
 * directory that has either wins, and in it the manifest.
 */
export function resolvePluginName(name: string, dirs: readonly string[], who = 'register_plugin'): string {
  const bare = checkPluginName(name, who);
  for (const dir of dirs) {
    for (const ext of ['.json', '.wasm']) {
      const file = path.join(dir, `${bare}${ext}`);
      if (fs.existsSync(file)) return file;
    }
  }
  const where = dirs.length ? dirs.join(', ') : '(no plugin directories)';
  throw new PolicyError(`${who}: no plugin named "${bare}" in ${where}`);
}

/** Whether a target given by a person (CLI, command) is a file path rather than a plugin name. */
export function isPathTarget(target: string): boolean {
  return target.includes('/') || target.includes('\\') || path.isAbsolute(target);
}

export function isManifestPath(file: string): boolean {
  return /\.json$/i.test(file);
}

export function pluginNameOfPath(file: string): string {
  return path.basename(file).replace(/\.(wasm|json)$/i, '');
}
