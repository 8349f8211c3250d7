import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CpuProfile, CpuProfileNode, PluginHost } from '../../src/core';
import { cli, closeHosts, startHost, transports } from './helpers';
import { cDir, cPlugin, lineOf, relayInput } from './cPlugins';
import { recordModule, symbolsOf } from '../../src/core/engine/moduleSymbols';

/** Self time by node, and each node's path of names from the root. */
function paths(profile: CpuProfile): { path: string[]; node: CpuProfileNode }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out: { path: string[]; node: CpuProfileNode }[] = [];
  const walk = (n: CpuProfileNode, above: string[]) => {
    const here = [...above, n.callFrame.functionName];
    out.push({ path: here, node: n });
    for (const c of n.children ?? []) walk(byId.get(c) as CpuProfileNode, here);
  };
  walk(profile.nodes[0], []);
  return out;
}

function hottest(profile: CpuProfile): { path: string[]; node: CpuProfileNode } {
  return paths(profile).reduce((a, b) => ((b.node.hitCount ?? 0) > (a.node.hitCount ?? 0) ? b : a));
}

describe('profiles of a call tree', () => {
  afterEach(closeHosts);
  const hot = path.join(cDir, 'hot.c');

  it('makes the function made hot the hottest frame, at its source line', async () => {
    const host = startHost();
    const p = await host.register(cPlugin('hot'));
    const { output, profile } = await host.profileCall(p.id, 'work', 'x');
    assert.equal(output.length, 8);
    const top = hottest(profile);
    assert.deepEqual(top.path, ['(root)', 'work', 'spin']);
    assert.equal(top.node.callFrame.url, hot);
    assert.equal(top.node.callFrame.lineNumber + 1, lineOf('hot.c', 'static u64 spin('));
    // every sample points at a node of the profile
    const ids = new Set(profile.nodes.map((n) => n.id));
    assert.ok((profile.samples ?? []).every((s) => ids.has(s)));
    assert.equal(profile.samples?.length, profile.timeDeltas?.length);
  });

  it('names the file\'s functions at the file\'s offsets, with no kernel frame, in a module without DWARF (merged where V8 can)', async () => {
    const file = cPlugin('hot.stripped');
    const host = startHost();
    const p = await host.register(file);
    const { profile } = await host.profileCall(p.id, 'work', 'x');
    assert.deepEqual(hottest(profile).path, ['(root)', 'work', 'spin']);
    // the file's own function starts, as V8 compiles the file as it is
    const own = new WebAssembly.Module(fs.readFileSync(file));
    recordModule(own, fs.readFileSync(file));
    const symbols = symbolsOf(own);
    assert.ok(symbols);
    const wasmNodes = paths(profile).filter(({ node }) => node.callFrame.url.startsWith('wasm://'));
    assert.ok(wasmNodes.length >= 2);
    for (const { node } of wasmNodes) {
      assert.ok(symbols.hasFunctionAt(node.callFrame.columnNumber), `${node.callFrame.functionName} at 0x${node.callFrame.columnNumber.toString(16)} starts no function of the file`);
      assert.doesNotMatch(node.callFrame.functionName, /extism:host\/env\.|extism:kernel/);
    }
  });

  it('nests the callee under a frame of its own for the crossing, in the child-process runtime', async () => {
    const host = new PluginHost({}, transports.childProcess);
    try {
      const target = await host.register(cPlugin('hot'));
      const relay = await host.register(cPlugin('caller'));
      const { profile } = await host.profileCall(relay.id, 'relay', relayInput(target.id, 'work'), { intervalUs: 200 });
      const top = hottest(profile);
      assert.deepEqual(top.path, ['(root)', 'relay', 'forward', `call_plugin → #${target.id} hot.work`, 'work', 'spin']);
      // no JavaScript of the runtime and no kernel frame between the plugins' frames
      for (const { node } of paths(profile)) {
        const url = node.callFrame.url;
        assert.ok(url === '' || url.endsWith('.c'), `a frame not folded: ${node.callFrame.functionName} ${url}`);
      }
    } finally {
      await host.dispose();
    }
  });

  it('writes a .cpuprofile from the CLI', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-'));
    const file = path.join(dir, 'hot.cpuprofile');
    const run = spawnSync(process.execPath, [cli, 'call', cPlugin('hot'), 'work', '--profile', file, '--profile-interval-us', '250'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    assert.deepEqual(hottest(profile).path, ['(root)', 'work', 'spin']);
    const bad = spawnSync(process.execPath, [cli, 'call', cPlugin('hot'), 'work', '--profile-interval-us', '250'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--profile-interval-us needs --profile FILE/);
  });
});
