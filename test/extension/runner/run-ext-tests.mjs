// Drive VS Code extension tests inside a running code-server's Node extension host with headless
// Chromium (playwright-core + the system's Chromium; nothing is downloaded). Normally called by run.sh.
//
// usage: node run-ext-tests.mjs --server http://127.0.0.1:PORT --ext /abs/extension [--tests /abs/index.js]
//          [--folder /abs/workspace] [--timeout 300] [--shot out.png] [--shot-delay 0] [--logs dir] [--verbose]
// Without --tests it only opens the workbench (with the extension loaded) and takes --shot.
// Exit code: the extension host's (0 pass, 1 fail), 2 timeout, 4 "passed" without a valid
// `N passed, 0 failed` line (N > 0), 5 driver error.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, format } from 'node:util';
import { createRequire } from 'node:module';
import { createActor } from './act.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const VT = process.env.VSCODE_TEST_DIR || join(REPO, '.vscode-test');

// playwright-core: the project's devDependency first, else the copy setup.sh put in $VSCODE_TEST_DIR/pw.
// (An ES import would ignore both NODE_PATH and the fallback, so resolve it as CommonJS.)
function loadPlaywright() {
  for (const base of [REPO, join(VT, 'pw')]) {
    try { return createRequire(join(base, 'package.json'))('playwright-core'); } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error(`playwright-core not found in ${REPO}/node_modules nor ${VT}/pw: run test/extension/runner/setup.sh`);
}

const { values: a } = parseArgs({ options: {
  server: { type: 'string', default: 'http://127.0.0.1:8123' }, ext: { type: 'string' }, tests: { type: 'string' },
  folder: { type: 'string' }, shot: { type: 'string' }, timeout: { type: 'string', default: '300' },
  'shot-delay': { type: 'string', default: '0' }, logs: { type: 'string' }, verbose: { type: 'boolean' } } });
if (!a.ext) { console.error('run-ext-tests: --ext is required'); process.exit(5); }

// Workbench chatter that says nothing about the extension under test (shown with --verbose).
const NOISE = /^\[(AgentHost[^\]]*|ChatModelSelection|AccountPolicyGate|reconnection-grace-time|Service Worker)\]|ENOTFOUND open-vsx\.org|^Resolv(ing|ed) connection token|^Creating a socket|^Updating additional builtin|^Canceled: Canceled/;
const SUMMARY = /^(?:\w+: )?(\d+) passed, (\d+) failed/m;
const SHOT = /^__VSCT_SHOT__ (\S+\.png)$/;

const { chromium } = loadPlaywright();
const t0 = Date.now();
let ctx, profile, code, summary = null, done = null;
// Own signal handling (Playwright's closes Chromium but leaves this process waiting): stop waiting,
// close Chromium in `finally`, exit 128+n. Before the wait starts, exit at once; Playwright's exit
// hook then kills the Chromium it launched.
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) process.on(sig, () => {
  console.error(`[runner] ${sig}: stopping`);
  if (done) done(128 + n); else process.exit(128 + n);
});
try {
  // code-server serves every file under the authority "remote"; read it from the page config anyway.
  const html = await (await fetch(a.server + '/')).text();
  const authority = (html.match(/&quot;remoteAuthority&quot;:&quot;([^&]+)&quot;/) || [, 'remote'])[1];
  const remote = (p) => `vscode-remote://${authority}${resolve(p)}`;
  // The extension under development and the workspace folder are independent: the extension is
  // loaded from extensionDevelopmentPath wherever it lives, the window opens --folder (or none).
  const payload = [['extensionDevelopmentPath', remote(a.ext)], ['skipWelcome', 'true'], ['skipReleaseNotes', 'true']];
  if (a.tests) payload.push(['extensionTestsPath', remote(a.tests)]);
  const url = `${a.server}/?${a.folder ? `folder=${encodeURIComponent(resolve(a.folder))}&` : ''}` +
    `payload=${encodeURIComponent(JSON.stringify(payload))}`;

  profile = mkdtempSync(join(tmpdir(), 'vsct-chromium-'));
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: run setup.sh or set CHROMIUM`);
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, viewport: { width: 1400, height: 850 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
  const page = ctx.pages()[0] || await ctx.newPage();

  const exited = new Promise((r) => (done = r));
  const actor = createActor(page);  // workbench actions asked for by a test (act-protocol.ts)
  // With --vscode-option enable-smoke-test-driver the workbench reports each console line (its own and
  // the extension host's) through window.codeAutomationLog and the end through window.codeAutomationExit.
  await page.exposeFunction('codeAutomationLog', async (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    const m = SHOT.exec(text);
    if (m) {  // screenshot handshake (shot.js); write-then-rename so the test never sees half a file
      mkdirSync(dirname(m[1]), { recursive: true });
      await page.screenshot({ path: m[1] + '.tmp.png' });
      renameSync(m[1] + '.tmp.png', m[1]);
      return;
    }
    if (actor.handle(text)) return;
    const s = SUMMARY.exec(text);
    if (s) summary = { passed: +s[1], failed: +s[2] };
    if (!a.verbose && NOISE.test(text)) return;
    (type === 'error' ? console.error : console.log)(text);
  });
  await page.exposeFunction('codeAutomationExit', (c, logs) => {
    if (a.logs && Array.isArray(logs)) for (const { relativePath, contents } of logs) {
      const f = join(a.logs, relativePath); mkdirSync(dirname(f), { recursive: true }); writeFileSync(f, contents);
    }
    done(c);
  });
  page.on('pageerror', (e) => console.error('[page error]', e.message));

  await page.goto(url);
  if (a.tests) {
    const timer = setTimeout(() => done('timeout'), Number(a.timeout) * 1000);
    code = await exited;
    done = null;
    clearTimeout(timer);
    if (code === 'timeout') { console.error(`[runner] TIMEOUT after ${a.timeout}s`); code = 2; }
    // A crashed remote extension host is reported as exit code 0: demand the suite's own summary line.
    else if (code === 0 && (!summary || summary.failed > 0 || summary.passed === 0)) {
      console.error(`[runner] exit code 0 but the test summary is ${JSON.stringify(summary)} (extension host crashed?): failing`);
      code = 4;
    } else if (typeof code !== 'number') code = 5;
  } else {
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    await page.waitForTimeout(Number(a['shot-delay']) * 1000);
    code = 0;
  }
  if (a.shot) { mkdirSync(dirname(resolve(a.shot)), { recursive: true }); await page.screenshot({ path: a.shot }); }
} catch (e) {
  console.error('[runner] error:', e && e.stack || e);
  code = 5;
} finally {
  await ctx?.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
}
console.log(`[runner] extension host exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
// Plain closing line for CI; never claim a clean pass unless the exit code is 0 as well.
if (summary) console.log(`${summary.passed} passed, ${code === 0 ? summary.failed : Math.max(summary.failed, 1)} failed`);
process.exit(code);
