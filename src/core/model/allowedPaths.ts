// Extism's allowed_paths may mark a host directory read-only with the `ro:` prefix
// ({"ro:/data": "/data"}). Node's WASI has no read-only preopens, so such an entry is refused
// wherever it comes from, rather than granted with write access the person did not give.

export const READ_ONLY_PREFIX = 'ro:';

/** Why an allowed_paths entry cannot be honoured, or null when it can; the caller names where it is. */
export function readOnlyPathRefusal(host: string): string | null {
  if (!host.startsWith(READ_ONLY_PREFIX)) return null;
  return (
    `"${host}" asks for a read-only directory (the "${READ_ONLY_PREFIX}" prefix), which this host cannot give: ` +
    `Node's WASI has no read-only preopens. Grant "${host.slice(READ_ONLY_PREFIX.length)}" without the prefix (the plugin may then write to it) or leave it out`
  );
}
