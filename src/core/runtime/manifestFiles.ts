import { createHash } from 'node:crypto';
import { PluginError } from '../model/errors';
import { Manifest, parseManifest } from '../model/manifest';
import { FileRefusal, readChecked } from './files';

/** One module of a manifest with its bytes. */
export interface ManifestModuleBytes {
  name: string;
  bytes: Uint8Array;
  /** The file it was read from, or null for inline `data`. */
  file: string | null;
}

/** A manifest read from disk: its fields, and its modules' bytes with their hashes checked. */
export interface LoadedManifest extends Manifest {
  /** The module whose exports are the plugin's. */
  main: ManifestModuleBytes;
  /** The others: the main module's imports from these names are linked to their exports. */
  linked: ManifestModuleBytes[];
  /** Tells one version of the manifest and its module files from another. */
  stamp: string;
}

const LIMIT = 'maxModuleBytes';

/** Reads a manifest and its module files: regular files only, each of at most `maxBytes`. */
export function readManifest(file: string, maxBytes: number): LoadedManifest {
  const stamps: string[] = [];
  const read = (path: string, what: string, where = ''): Buffer => {
    try {
      const { bytes, stamp } = readChecked(path, maxBytes, LIMIT);
      stamps.push(stamp);
      return bytes;
    } catch (error) {
      if (!(error instanceof FileRefusal)) throw error;
      const at = where && (error.reason === 'not found' ? ` (looked for ${where})` : ` (${where})`);
      throw new PluginError(`manifest ${file}: ${what ? `${what} ` : ''}${error.reason}${at}`);
    }
  };
  const text = read(file, '').toString('utf8');
  const manifest = parseManifest(file, text, maxBytes);
  const modules = manifest.modules.map((m): ManifestModuleBytes => {
    let bytes: Uint8Array;
    let moduleFile: string | null = null;
    if ('file' in m.source) {
      moduleFile = m.source.file;
      bytes = read(moduleFile, `${m.at}.path "${m.source.relative}"`, moduleFile);
    } else {
      bytes = m.source.data;
      stamps.push('-');
    }
    if (m.hash !== undefined) {
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (hash !== m.hash) throw new PluginError(`manifest ${file}: hash mismatch for ${m.at}: expected ${m.hash}, got ${hash}`);
    }
    return { name: m.name, bytes, file: moduleFile };
  });
  const main = modules.find((m) => m.name === 'main') as ManifestModuleBytes;
  return { ...manifest, main, linked: modules.filter((m) => m !== main), stamp: stamps.join('|') };
}
