// Screenshot of the whole workbench, taken from inside a test running in the extension host.
// The test logs `__VSCT_SHOT__ /abs/file.png`; run-ext-tests.mjs (outside, in Chromium) sees the log
// line, takes the screenshot and writes the file; this promise resolves once the file exists.
//   const shot = require('<repo>/test/extension/runner/shot.js');
//   await shot('/abs/path/view.png');
// Webviews render 0.5-3 s after resolveWebviewView: wait for the webview's own `ready` message first.
'use strict';
const fs = require('fs');
const path = require('path');

module.exports = async function shot(file, timeoutMs = 30000) {
  file = path.resolve(file);
  // Only run.sh's driver can take screenshots; under @vscode/test-electron there is nobody to ask.
  if (process.env.VSCODE_TEST_SHOTS !== '1') {
    console.log(`shot: ${path.basename(file)} not taken (screenshots need test/extension/runner/run.sh)`);
    return null;
  }
  if (!file.endsWith('.png') || /\s/.test(file)) throw new Error(`shot: need a .png path without spaces: ${file}`);
  fs.rmSync(file, { force: true });
  console.log(`__VSCT_SHOT__ ${file}`);
  const t0 = Date.now();
  while (!fs.existsSync(file)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`shot: no ${file} after ${timeoutMs} ms (not run by run-ext-tests.mjs?)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return file;
};
