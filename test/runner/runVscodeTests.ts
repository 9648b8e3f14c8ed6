// Runs the mocha integration suite (out/test/integration/index.js) inside a real VS Code extension
// host with this repository loaded as the extension under development.
//
//   node out/test/runner/runVscodeTests.js [--install-only]
//
// 1. A VS Code executable ($VSCODE_EXECUTABLE, or one @vscode/test-electron cached in .vscode-test/)
//    -> @vscode/test-electron runTests. A download is tried only with FAST_ADVPROP_TRY_DOWNLOAD=1,
//    since Microsoft's update servers are unreachable on the offline CI machines.
// 2. Otherwise code-server 4.100.3 (bundles VS Code 1.100.3, installed on demand into
//    .cache/code-server) + headless Chromium via playwright-core.
//
// Environment: FAST_ADVPROP_TEST_GREP (mocha grep), FAST_ADVPROP_TEST_RESULTS (results JSON; default test-artifacts/vscode/results.json),
// FAST_ADVPROP_VSCODE_TIMEOUT_MS (whole-suite limit, default 900000), CHROMIUM_PATH, and for checking
// the launcher itself FAST_ADVPROP_EXTENSION_PATH / FAST_ADVPROP_TESTS_INDEX.
// FAST_ADVPROP_UNTRUSTED=1: workspace trust ENABLED and the workspace NOT trusted (Restricted Mode);
// only the suite in test/integration/untrusted.test.ts runs, always on code-server (test-electron
// forces --disable-workspace-trust), artifacts in test-artifacts/vscode-untrusted/.
// Exit code: 0 when every test passed; the last line is `vscode-integration: N passed, M failed`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, SetupError, ensureCodeServer, makeLogger, secs, startSession, stopRunProcesses } from './codeServer';
import { TINY_CONFIG_FILE, UNTRUSTED_SUITE, tinyWorkspaceFiles, untrustedWorkspaceFiles } from './workspace';

const UNTRUSTED = process.env.FAST_ADVPROP_UNTRUSTED === '1';
const log = makeLogger(UNTRUSTED ? 'vscode-tests untrusted' : 'vscode-tests');
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', UNTRUSTED ? 'vscode-untrusted' : 'vscode');
// Overridable so the launcher itself can be checked against a throwaway extension.
const TESTS_INDEX = path.resolve(process.env.FAST_ADVPROP_TESTS_INDEX || path.join(REPO_ROOT, 'out', 'test', 'integration', 'index.js'));
const EXTENSION_PATH = path.resolve(process.env.FAST_ADVPROP_EXTENSION_PATH || REPO_ROOT);
const TIMEOUT_MS = Number(process.env.FAST_ADVPROP_VSCODE_TIMEOUT_MS || 15 * 60 * 1000);

interface Results { passed: number; failed: number; pending?: number; failures?: { title: string; error: string }[] }

function readResults(file: string): Results | undefined {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as Results; } catch { return undefined; }
}

function platformExecutable(dir: string): string | undefined {
  const candidates = process.platform === 'darwin'
    ? ['Visual Studio Code.app/Contents/MacOS/Electron', 'Visual Studio Code - Insiders.app/Contents/MacOS/Electron']
    : process.platform === 'win32' ? ['Code.exe', 'Code - Insiders.exe'] : ['code', 'code-insiders'];
  return candidates.map((c) => path.join(dir, c)).find((p) => fs.existsSync(p));
}

/** A VS Code build @vscode/test-electron downloaded earlier (.vscode-test/vscode-<platform>-<version>/). */
function cachedVscode(): string | undefined {
  const root = path.join(REPO_ROOT, '.vscode-test');
  if (!fs.existsSync(root)) return undefined;
  const dirs = fs.readdirSync(root).filter((d) => d.startsWith('vscode-')).sort().reverse();
  for (const d of dirs) {
    const exe = platformExecutable(path.join(root, d));
    if (exe) return exe;
  }
  return undefined;
}

async function runWithElectron(executable: string | undefined, workspace: string, env: Record<string, string>): Promise<number> {
  const { runTests } = await import('@vscode/test-electron');
  log(executable ? `using VS Code at ${executable} via @vscode/test-electron` : 'downloading VS Code via @vscode/test-electron');
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-vsc-ud-'));
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'files.autoSave': 'off', 'workbench.startupEditor': 'none' }));
  try {
    return await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: EXTENSION_PATH,
      extensionTestsPath: TESTS_INDEX,
      extensionTestsEnv: env,
      // test-electron itself adds --skip-welcome, --disable-workspace-trust, --disable-updates.
      launchArgs: [workspace, '--disable-extensions', '--user-data-dir', userData],
    });
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (typeof code === 'number') return code;
    throw e;
  } finally {
    fs.rmSync(userData, { recursive: true, force: true });
  }
}

async function runWithCodeServer(env: Record<string, string>): Promise<number> {
  const session = await startSession({
    artifactsDir: ARTIFACTS,
    workspaceFiles: UNTRUSTED ? untrustedWorkspaceFiles() : tinyWorkspaceFiles(),
    env,
    untrusted: UNTRUSTED,
    extensionTestsPath: TESTS_INDEX,
    extensionDevelopmentPath: EXTENSION_PATH,
    onAutomationLog: (text) => console.log(`  ${text}`),
  });
  const t = Date.now();
  try {
    log(`running ${path.relative(REPO_ROOT, TESTS_INDEX)} in the extension host (limit ${TIMEOUT_MS / 1000}s)`);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      session.testsExit,
      new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      await session.page.screenshot({ path: path.join(ARTIFACTS, 'TIMEOUT.png') }).catch(() => undefined);
      log(`ERROR: the suite did not finish within ${TIMEOUT_MS / 1000}s (screenshot TIMEOUT.png)`);
      return 1;
    }
    log(`extension tests exited with code ${code} after ${secs(t)}s`);
    if (code !== 0) await session.page.screenshot({ path: path.join(ARTIFACTS, 'FAIL-tests.png') }).catch(() => undefined);
    return code;
  } finally {
    await session.close();
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--install-only')) {
    ensureCodeServer();
    log('code-server is installed');
    return 0;
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!fs.existsSync(TESTS_INDEX)) throw new SetupError(`${TESTS_INDEX} is missing: run \`node scripts/build.mjs\` first`);
  const main = JSON.parse(fs.readFileSync(path.join(EXTENSION_PATH, 'package.json'), 'utf8')).main as string | undefined;
  if (main && !fs.existsSync(path.resolve(EXTENSION_PATH, main))) {
    log(`warning: ${main} is missing (run \`npm run build\`); the extension cannot activate`);
  }
  const resultsFile = path.resolve(process.env.FAST_ADVPROP_TEST_RESULTS || path.join(ARTIFACTS, 'results.json'));
  fs.rmSync(resultsFile, { force: true });
  const env: Record<string, string> = { FAST_ADVPROP_TEST_RESULTS: resultsFile, FAST_ADVPROP_TEST: '1' };
  if (UNTRUSTED) {
    // Only the untrusted suite: the others assume a trusted workspace (they train).
    Object.assign(env, { FAST_ADVPROP_UNTRUSTED: '1', FAST_ADVPROP_TEST_GREP: UNTRUSTED_SUITE });
    log('workspace trust ENABLED, workspace folder NOT trusted (Restricted Mode)');
  } else {
    // An FAST_ADVPROP_UNTRUSTED=0 or stray value must not leak a half-set mode into the host.
    env.FAST_ADVPROP_UNTRUSTED = '';
  }

  let code: number;
  const explicit = process.env.VSCODE_EXECUTABLE;
  if (explicit && !fs.existsSync(explicit)) throw new SetupError(`VSCODE_EXECUTABLE=${explicit} does not exist`);
  // Electron VS Code needs a display on Linux; a cached build is then only used when one exists
  // (an explicit VSCODE_EXECUTABLE is trusted: the caller may wrap it in xvfb-run).
  const cached = explicit ? undefined : cachedVscode();
  const headlessLinux = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
  if (cached && headlessLinux) log(`note: ignoring cached ${cached}: no DISPLAY; using code-server instead`);
  const electronExe = UNTRUSTED ? undefined : explicit || (headlessLinux ? undefined : cached);
  if (UNTRUSTED && (explicit || cached)) log('note: the untrusted-workspace suite always runs on code-server (@vscode/test-electron disables workspace trust)');
  if (!UNTRUSTED && (electronExe || process.env.FAST_ADVPROP_TRY_DOWNLOAD === '1')) {
    // Electron runs the workspace passed on the command line; make it the same tiny workspace.
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-vsc-ws-'));
    for (const [rel, content] of Object.entries(tinyWorkspaceFiles())) {
      fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      fs.writeFileSync(path.join(ws, rel), content);
    }
    try {
      code = await runWithElectron(electronExe, ws, env);
    } catch (e) {
      if (electronExe) throw e;
      log(`VS Code download failed (${String((e as Error).message || e).split('\n')[0]}); falling back to code-server`);
      code = await runWithCodeServer(env);
    } finally {
      await stopRunProcesses(ws);
      try { fs.cpSync(path.join(ws, '.advprop-runs'), path.join(ARTIFACTS, 'advprop-runs'), { recursive: true }); } catch { /* none */ }
      fs.rmSync(ws, { recursive: true, force: true });
    }
  } else {
    code = await runWithCodeServer(env);
  }

  const r = readResults(resultsFile);
  if (r) {
    for (const f of r.failures || []) console.log(`  FAILED: ${f.title}\n    ${f.error.split('\n').join('\n    ')}`);
    if (code === 0 && r.failed > 0) code = 1;
    if (UNTRUSTED && r.passed + r.failed === 0) {
      // The grep matched nothing: the suite was not defined (mode not seen by the host?).
      console.log(`  FAILED: no test matched "${UNTRUSTED_SUITE}" in untrusted mode`);
      r.failed = 1;
      if (code === 0) code = 1;
    }
    console.log(`vscode-integration: ${r.passed} passed, ${r.failed} failed${r.pending ? `, ${r.pending} pending` : ''} (${UNTRUSTED ? 'UNTRUSTED ' : ''}${TINY_CONFIG_FILE} workspace; logs in ${path.relative(REPO_ROOT, ARTIFACTS)})`);
  } else {
    // No results file: the test index never ran to the end (load error, crash, timeout).
    log(`no results file at ${resultsFile}: the suite did not run to completion`);
    console.log('vscode-integration: 0 passed, 1 failed (suite did not complete)');
    if (code === 0) code = 1;
  }
  return code;
}

main().then((code) => process.exit(code), (e) => {
  if (e instanceof SetupError) console.error(`\nERROR: ${e.message}\n`);
  else console.error(`\nERROR: ${(e as Error).stack || e}\n`);
  console.log('vscode-integration: 0 passed, 1 failed (could not run)');
  process.exit(2);
});
