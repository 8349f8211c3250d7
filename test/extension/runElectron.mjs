// `npm run test:extension`: the extension tests in desktop VS Code through @vscode/test-electron.
// It downloads VS Code unless VSCODE_EXECUTABLE names an installed one. Machines without internet
// run the same suite with `npm run test:extension:offline` (part of `npm test`) instead.
import { runTests } from '@vscode/test-electron';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const workspace = mkdtempSync(join(tmpdir(), 'extism-ipc-ws-'));
try {
  const code = await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    extensionDevelopmentPath: repo,
    extensionTestsPath: join(repo, 'dist', 'test', 'extension', 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
  process.exitCode = code;
} catch (error) {
  console.error(`test:extension: ${error instanceof Error ? error.message : String(error)}`);
  if (!process.env.VSCODE_EXECUTABLE) {
    console.error('VS Code could not be started or downloaded: set VSCODE_EXECUTABLE to an installed VS Code, or run `npm run test:extension:offline`.');
  }
  process.exitCode = 1;
}
