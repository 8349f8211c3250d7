import * as assert from 'node:assert/strict';
import { closeHosts, startHost } from './helpers';
import { allShapes, exportOf, expected, shapeName, shapeWat } from './moduleShapes';
import { assemble, writeModule } from './wat';

async function outcome(p: Promise<unknown>): Promise<Error | null> {
  try {
    await p;
    return null;
  } catch (error) {
    return error as Error;
  }
}

function check(what: string, error: Error | null, want: RegExp | null): void {
  if (error) assert.doesNotMatch(error.message, /internal failure/, `${what}: ${error.message}`);
  if (want === null) {
    assert.equal(error, null, `${what} should succeed: ${error?.message}`);
    return;
  }
  assert.ok(error, `${what} should fail with ${want}`);
  assert.ok(error.name === 'PluginError' || error.name === 'PolicyError', `${what}: a ${error.name}: ${error.message}`);
  assert.match(error.message, want, what);
}

describe('odd module shapes: each a clear PluginError, never an internal failure', function () {
  this.timeout(120_000);
  afterEach(closeHosts);

  it(`${allShapes().length} shapes: memory under another name, imported or not a memory; exports with parameters, i64 or float results, globals, kernel names; start-ups that trap or take parameters`, async () => {
    const host = startHost();
    let id = 0;
    const seen = { registered: 0, refused: 0, called: 0, failed: 0 };
    for (const shape of allShapes()) {
      const name = shapeName(shape);
      const file = writeModule(name, await assemble(shapeWat(shape)));
      // a registration that fails spends no id: the next live plugin gets the next one
      const want = expected(shape, file, id + 1);
      const registering = host.register(file);
      const refused = await outcome(registering);
      check(`register ${name}`, refused, want.register);
      if (refused) {
        seen.refused++;
        continue;
      }
      id++;
      seen.registered++;
      const info = await registering as { id: number };
      const failed = await outcome(host.call(info.id, exportOf(shape)));
      check(`call ${name}.${exportOf(shape)}`, failed, want.call);
      if (failed) seen.failed++;
      else seen.called++;
      await host.unregister(info.id);
    }
    assert.ok(seen.refused >= 20 && seen.failed >= 20 && seen.called >= 10, JSON.stringify(seen));
  });

  it('a library on its own, called from another plugin through call_plugin, says what it is too', async () => {
    const file = writeModule('helper', await assemble('(module (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1))))'));
    const host = startHost();
    const helper = await host.register(file);
    assert.deepEqual(helper.exports, ['add']);
    const what = `plugin #1 \\(helper\\): ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an Extism plugin on its own: it exports no memory, and its export "add" takes 2 parameters`;
    check('call helper.add', await outcome(host.call(helper.id, 'add')), new RegExp(`^${what}`));
    const launcher = await host.register('launcher');
    check('call_plugin helper.add', await outcome(host.call(launcher.id, 'call', `${helper.id}:add:`)), new RegExp(what));
  });
});
