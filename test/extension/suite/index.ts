// extensionTestsPath: runs every compiled *.test.js next to this file with the project's in-host
// mocha runner (tdd UI; prints `N passed, M failed`, which run.sh checks).
import * as path from 'node:path';

/** dist/test/extension/suite -> the repository root. */
const repo = path.resolve(__dirname, '..', '..', '..', '..');

export function run(): Promise<void> {
  const runSuite = require(path.join(repo, 'test', 'extension', 'runner', 'runMocha.js')) as (dir: string) => Promise<void>;
  return runSuite(__dirname);
}
