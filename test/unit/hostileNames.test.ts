import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeHosts, pluginsDir, rejects, startHost, text } from './helpers';

/** A module importing functions `() -> ()` by the names given, and nothing else. */
function importing(names: [string, string][]): Uint8Array {
  const str = (s: string) => [Buffer.byteLength(s), ...Buffer.from(s)];
  const entries = names.flatMap(([m, n]) => [...str(m), ...str(n), 0x00, 0x00]);
  const content = [names.length, ...entries];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, content.length, ...content]);
}

describe('names from a module are data', () => {
  afterEach(closeHosts);

  it('imports named after Object.prototype members are not offered, and nothing is polluted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-names-'));
    try {
      const cases: [string, string][] = [
        ['__proto__', 'polluted'], ['env', 'constructor'], ['extism:host/user', 'toString'], ['extism:host/env', 'hasOwnProperty'],
        ['wasi_snapshot_preview1', 'constructor'], ['constructor', 'name'], ['env', '__proto__'],
      ];
      const host = startHost({ pluginDirs: [dir, pluginsDir], wasi: true });
      for (const [i, [module, name]] of cases.entries()) {
        const file = path.join(dir, `names_${i}.wasm`);
        fs.writeFileSync(file, importing([[module, name]]));
        await rejects(host.register(file), 'PluginError', new RegExp(`imports (the )?function "${module.replace(/[$^_]/g, '.')}"\\."${name}"( \\(\\) -> \\(\\))?, which (no linked module, host function or binding supplies|this host does not offer)`));
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
      const run = await host.register('run');
      assert.equal(text(await host.call(run.id, 'run')), '{"count":3,"total":3,"vowels":"aeiouAEIOU"}');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
