// allowed_paths maps host directories to guest paths, as Extism's manifest does. A host directory
// written with the `ro:` prefix ({"ro:/data": "/data"}) is granted read-only, as in Extism: the
// plugin may read it and never change it (the engine refuses every write through it). The prefix
// stays part of the key wherever grants are merged or shown, so one host directory may be granted
// twice, once read-only, under two guest paths.

export const READ_ONLY_PREFIX = 'ro:';

/** One granted directory as the engine preopens it. */
export interface GrantedDirectory {
  /** The host directory, without the prefix. */
  host: string;
  /** Where the plugin sees it. */
  guest: string;
  readOnly: boolean;
}

/** An allowed_paths key split into its host directory and whether it is read-only. */
export function parseAllowedPath(key: string): { host: string; readOnly: boolean } {
  return key.startsWith(READ_ONLY_PREFIX) ? { host: key.slice(READ_ONLY_PREFIX.length), readOnly: true } : { host: key, readOnly: false };
}

/** The key with its host directory rewritten (made absolute, say), the prefix kept. */
export function mapAllowedPathHost(key: string, rewrite: (host: string) => string): string {
  const { host, readOnly } = parseAllowedPath(key);
  return (readOnly ? READ_ONLY_PREFIX : '') + rewrite(host);
}

/** Why an allowed_paths entry cannot be honoured, or null when it can; the caller names where it is. */
export function allowedPathRefusal(key: string): string | null {
  const { host } = parseAllowedPath(key);
  return host === '' ? `"${key}" names no host directory` : null;
}

/** The granted directories of an allowed_paths map, in its order. */
export function grantedDirectories(allowedPaths: Readonly<Record<string, string>>): GrantedDirectory[] {
  return Object.entries(allowedPaths).map(([key, guest]) => ({ ...parseAllowedPath(key), guest }));
}
