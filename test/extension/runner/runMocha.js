// Mocha runner for suites that run inside the VS Code extension host (CommonJS on purpose: the
// extension host loads `extensionTestsPath` with require()).
//
//   // <compiled tests>/index.js
//   const runSuite = require('<repo>/test/extension/runner/runMocha.js');
//   exports.run = () => runSuite(__dirname);
//
// Loads every `*.test.js` below `dir` (recursively, sorted), tdd UI (suite/test/setup/teardown),
// and ends with the plain line `N passed, M failed` that run-ext-tests.mjs and CI read.
// Environment (the extension host inherits run.sh's): VSCODE_TEST_GREP filters tests by title,
// VSCODE_TEST_MOCHA_TIMEOUT sets the per-test timeout in ms (default 20000).
'use strict';
const path = require('path');
const fs = require('fs');

function loadMocha(dir) {
  // The extension host ignores NODE_PATH: resolve mocha from the suite's folder, then from this
  // file's folder, i.e. the project's node_modules. mocha >= 12 is an ES module; Node 24 (code-server's
  // extension host) require()s it, and lib/mocha.cjs is the same class for older hosts.
  const entry = require.resolve('mocha', { paths: [dir, __dirname] });
  let Mocha;
  try {
    Mocha = require(entry);
  } catch (e) {
    if (e.code !== 'ERR_REQUIRE_ESM') throw e;
    Mocha = require(path.join(path.dirname(entry), 'lib', 'mocha.cjs'));
  }
  return Mocha.default || Mocha;
}

function findTests(dir) {
  const out = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory() && ent.name !== 'node_modules') out.push(...findTests(p));
    else if (ent.isFile() && ent.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

module.exports = function runSuite(dir, options = {}) {
  const Mocha = loadMocha(dir);
  const mocha = new Mocha({
    ui: 'tdd', color: false, reporter: 'spec',
    timeout: Number(process.env.VSCODE_TEST_MOCHA_TIMEOUT) || 20000,
    ...(process.env.VSCODE_TEST_GREP ? { grep: process.env.VSCODE_TEST_GREP } : {}),
    ...options,
  });
  const files = findTests(dir);
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js files below ${dir}`));
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const s = runner.stats || {};
        const passed = s.passes || 0, failed = s.failures ?? failures, skipped = s.pending || 0;
        console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
        if (failed > 0) reject(new Error(`${failed} tests failed.`));
        else if (passed === 0) reject(new Error('no test passed (none ran?)'));
        else resolve();
      });
    } catch (e) {
      reject(e);
    }
  });
};
