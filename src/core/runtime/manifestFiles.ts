import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { PluginError } from '../model/errors';
import { Manifest, parseManifest } from '../model/manifest';

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

export function readManifest(file: string): LoadedManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new PluginError(`manifest ${file}: cannot be read`);
  }
  const manifest = parseManifest(file, text);
  const modules = manifest.modules.map((m): ManifestModuleBytes => {
    let bytes: Uint8Array;
    let moduleFile: string | null = null;
    if ('file' in m.source) {
      moduleFile = m.source.file;
      try {
        bytes = fs.readFileSync(moduleFile);
      } catch {
        throw new PluginError(`manifest ${file}: ${m.at}.path "${m.source.relative}" not found (looked for ${moduleFile})`);
      }
    } else {
      bytes = m.source.data;
    }
    if (m.hash !== undefined) {
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (hash !== m.hash) throw new PluginError(`manifest ${file}: hash mismatch for ${m.at}: expected ${m.hash}, got ${hash}`);
    }
    return { name: m.name, bytes, file: moduleFile };
  });
  const main = modules.find((m) => m.name === 'main') as ManifestModuleBytes;
  return { ...manifest, main, linked: modules.filter((m) => m !== main), stamp: stampOf([file, ...modules.map((m) => m.file)]) };
}

function stampOf(files: (string | null)[]): string {
  return files
    .map((f) => (f ? fs.statSync(f) : undefined))
    .map((st) => (st ? `${st.mtimeMs}:${st.size}` : '-'))
    .join('|');
}
