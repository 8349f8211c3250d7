import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_SAMPLES, demoSamples } from '../../src/vscode/samples';
import { pluginsDir } from './helpers';

describe('the bundled samples a person is offered', () => {
  it('are built samples, each named once with a description, the seed scenario first', () => {
    const built = fs.readdirSync(pluginsDir).filter((f) => f.endsWith('.wasm')).map((f) => path.basename(f, '.wasm'));
    const names = DEMO_SAMPLES.map((s) => s.name);
    assert.equal(new Set(names).size, names.length);
    for (const s of DEMO_SAMPLES) {
      assert.ok(built.includes(s.name), `${s.name} is built`);
      assert.ok(s.description.length > 10, `${s.name} says what it shows`);
    }
    assert.equal(names[0], 'run');
    assert.deepEqual(demoSamples(built).map((s) => s.name), names);
  });

  it('keep the test fixtures out', () => {
    const offered = new Set(demoSamples(fs.readdirSync(pluginsDir).map((f) => path.basename(f, '.wasm'))).map((s) => s.name));
    for (const fixture of ['spawner', 'loop', 'trap', 'badptr', 'memory_hog', 'vowels_raw', 'math_lib', 'launcher']) assert.ok(!offered.has(fixture), fixture);
  });
});
