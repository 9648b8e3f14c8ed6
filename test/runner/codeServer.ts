// Real VS Code without Microsoft's download servers: code-server (from the npm registry) bundles
// VS Code 1.100.3 with a Node extension host, and Debian's Chromium, driven by playwright-core,
// plays the workbench. Shared by the integration-test launcher and the UI e2e driver.
//
// Everything here is self-contained on purpose: a fresh clone (or CI) has no ../shared folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
// 4.100.3 is the last code-server on npm whose engines field accepts Node 20 (4.101+ wants 22).
export const CODE_SERVER_VERSION = process.env.FAST_ADVPROP_CODE_SERVER_VERSION || '4.100.3';
export const CODE_SERVER_HOME = process.env.FAST_ADVPROP_CODE_SERVER_HOME || path.join(REPO_ROOT, '.cache', 'code-server');
const CODE_SERVER_PKG = path.join(CODE_SERVER_HOME, 'node_modules', 'code-server');
const CODE_SERVER_ENTRY = path.join(CODE_SERVER_PKG, 'out', 'node', 'entry.js');
const MARKER = path.join(CODE_SERVER_HOME, `.installed-${CODE_SERVER_VERSION}`);

const T0 = Date.now();
export const secs = (t = T0): string => ((Date.now() - t) / 1000).toFixed(1);
export function makeLogger(tag: string): (...a: unknown[]) => void {
  return (...a) => console.log(`[${tag} +${secs()}s]`, ...a);
}
const log = makeLogger('code-server');

export class SetupError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function isInstalled(): boolean {
  return fs.existsSync(MARKER) && fs.existsSync(CODE_SERVER_ENTRY)
    && fs.existsSync(path.join(CODE_SERVER_PKG, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'))
    && fs.existsSync(path.join(CODE_SERVER_PKG, 'lib', 'vscode', 'extensions', 'node_modules'));
}

function npm(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): void {
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n$ npm ${args.join(' ')}\n`);
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (r.status !== 0) {
    const tail = fs.readFileSync(opts.logFile, 'utf8').split('\n').slice(-40).join('\n');
    throw new SetupError(`npm ${args.join(' ')} failed (exit ${r.status ?? r.signal}). Last lines of ${opts.logFile}:\n${tail}\n`
      + 'Native builds need: apt-get install build-essential python3 pkg-config libkrb5-dev libsecret-1-dev ripgrep');
  }
}

/**
 * Installs code-server into .cache/code-server once (about a minute); afterwards a file check.
 * Returns the path of its entry script.
 */
export function ensureCodeServer(): string {
  if (isInstalled()) return CODE_SERVER_ENTRY;
  const t = Date.now();
  const major = Number(process.versions.node.split('.')[0]);
  if (CODE_SERVER_VERSION === '4.100.3' && major !== 20) {
    log(`warning: code-server ${CODE_SERVER_VERSION} expects Node 20, this is ${process.version}`);
  }
  fs.mkdirSync(CODE_SERVER_HOME, { recursive: true });
  const logFile = path.join(CODE_SERVER_HOME, 'install.log');
  fs.writeFileSync(logFile, `install of code-server ${CODE_SERVER_VERSION} at ${new Date().toISOString()}\n`);
  log(`installing code-server ${CODE_SERVER_VERSION} into ${CODE_SERVER_HOME} (once; about a minute; log: ${logFile})`);
  // Its own package.json, so npm treats this folder as a root and never touches the project's.
  fs.writeFileSync(path.join(CODE_SERVER_HOME, 'package.json'), JSON.stringify({ name: 'fast-advprop-code-server', private: true }, null, 2));
  // The build scripts put caches (ripgrep, node-gyp) in TMPDIR; a private one keeps /tmp clean.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-csinst-'));
  // Under `npm test` the parent npm exports npm_config_local_prefix, loglevel=silent, etc.; the
  // nested installs must see only their own settings (npm re-reads the npmrc files itself).
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  const env: NodeJS.ProcessEnv = {
    ...clean,
    TMPDIR: tmp,
    // code-server's postinstall.sh refuses to run as root unless this is set (npm 11 no longer
    // knows --unsafe-perm but still exports the variable).
    npm_config_unsafe_perm: 'true',
    // node-pty's install runs `npx node-gyp`; without a TTY npx cancels unless told yes.
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  try {
    // Phase 1: fetch only, so the ripgrep cache can be seeded before any script runs.
    npm(['install', '--ignore-scripts', '--save-exact', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`],
      { cwd: CODE_SERVER_HOME, env, logFile });
    seedRipgrepCache(tmp, env, logFile);
    // Phase 2: code-server's postinstall runs `npm install` in lib/vscode plus native builds
    // (kerberos, node-pty, argon2 fall back to node-gyp since GitHub prebuilds are unreachable).
    npm(['rebuild', '--foreground-scripts', 'code-server', 'argon2'], { cwd: CODE_SERVER_HOME, env, logFile });
    if (!fs.existsSync(path.join(CODE_SERVER_PKG, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'))) {
      throw new SetupError(`code-server postinstall left no ripgrep binary; see ${logFile}`);
    }
    const v = spawnSync(process.execPath, [CODE_SERVER_ENTRY, '--version'], {
      env: { ...process.env, ...privateXdg(path.join(tmp, 'xdg')), TMPDIR: tmp }, encoding: 'utf8',
    });
    if (v.status !== 0) throw new SetupError(`code-server --version failed:\n${v.stdout}${v.stderr}`);
    fs.writeFileSync(MARKER, `${v.stdout.trim().split('\n').pop()}\n`);
    log(`code-server installed in ${secs(t)}s: ${v.stdout.trim().split('\n').pop()}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return CODE_SERVER_ENTRY;
}

// @vscode/ripgrep's postinstall downloads rg from api.github.com (unreachable offline, ~30 s of
// retries, then failure). It first looks in $TMPDIR/vscode-ripgrep-cache-<pkgver>/, so put the
// system's rg there. With no rg installed we let it try the download (works with internet).
function seedRipgrepCache(tmp: string, env: NodeJS.ProcessEnv, logFile: string): void {
  const rg = which('rg');
  if (!rg) { log('warning: no rg on PATH (apt-get install ripgrep); @vscode/ripgrep will try to download it'); return; }
  const shrink = JSON.parse(fs.readFileSync(path.join(CODE_SERVER_PKG, 'lib', 'vscode', 'npm-shrinkwrap.json'), 'utf8'));
  const pkgVer: string | undefined = shrink.packages?.['node_modules/@vscode/ripgrep']?.version;
  if (!pkgVer) throw new SetupError('no @vscode/ripgrep in code-server\'s npm-shrinkwrap.json');
  const packDir = fs.mkdtempSync(path.join(tmp, 'rgpack-'));
  npm(['pack', '--silent', `@vscode/ripgrep@${pkgVer}`], { cwd: packDir, env, logFile });
  const tgz = fs.readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new SetupError('npm pack @vscode/ripgrep produced no tarball');
  const x = spawnSync('tar', ['xzf', tgz], { cwd: packDir });
  if (x.status !== 0) throw new SetupError(`tar xzf ${tgz} failed`);
  const postinstall = fs.readFileSync(path.join(packDir, 'package', 'lib', 'postinstall.js'), 'utf8');
  const tag = /const VERSION = '([^']+)'/.exec(postinstall)?.[1];
  if (!tag) throw new SetupError('could not read the ripgrep VERSION tag from @vscode/ripgrep');
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch as 'x64' | 'arm64'];
  if (process.platform !== 'linux' || !target) { log('note: not linux x64/arm64; not seeding the ripgrep cache'); return; }
  const cache = path.join(tmp, `vscode-ripgrep-cache-${pkgVer}`);
  fs.mkdirSync(cache, { recursive: true });
  const stage = fs.mkdtempSync(path.join(tmp, 'rg-'));
  fs.copyFileSync(rg, path.join(stage, 'rg'));
  fs.chmodSync(path.join(stage, 'rg'), 0o755);
  const t = spawnSync('tar', ['czf', path.join(cache, `ripgrep-${tag}-${target}.tar.gz`), '-C', stage, 'rg']);
  if (t.status !== 0) throw new SetupError('could not create the ripgrep cache tarball');
  fs.appendFileSync(logFile, `seeded ripgrep cache ${cache} (tag ${tag}) from ${rg}\n`);
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  // A zombie is dead for our purposes (its parent, often init, reaps it later).
  try { return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

/**
 * Ends the training engines that runs in this workspace started (pids from their status.json),
 * so no orphan keeps training after the session. Only a process whose command line names that
 * run folder is signalled, which guards against a recycled pid.
 */
export async function stopRunProcesses(workspace: string): Promise<void> {
  const root = path.join(workspace, '.advprop-runs');
  if (!fs.existsSync(root)) return;
  const targets: number[] = [];
  for (const name of fs.readdirSync(root)) {
    let pid: unknown;
    try { pid = JSON.parse(fs.readFileSync(path.join(root, name, 'status.json'), 'utf8')).pid; } catch { continue; }
    if (typeof pid !== 'number' || pid <= 1 || !isAlive(pid)) continue;
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { /* not linux */ }
    if (process.platform === 'linux' && !cmdline.includes(path.join(root, name))) continue;
    targets.push(pid);
  }
  if (!targets.length) return;
  log(`stopping ${targets.length} engine process(es) left running by the tests: ${targets.join(', ')}`);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    // A detached engine leads its own group (its workers included): signal the group then.
    let pgrp = 0;
    try { pgrp = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[2]); } catch { /* gone */ }
    try { process.kill(pgrp === pid ? -pid : pid, sig); } catch { /* gone */ }
  };
  for (const pid of targets) signal(pid, 'SIGTERM');
  for (let i = 0; i < 30 && targets.some(isAlive); i++) await sleep(100);
  for (const pid of targets.filter(isAlive)) signal(pid, 'SIGKILL');
}

export function privateXdg(dir: string): Record<string, string> {
  return { XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache') };
}

export function findChromium(): string {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit && !fs.existsSync(explicit)) {
    throw new SetupError(`CHROMIUM_PATH=${explicit} does not exist. Unset it to use /usr/bin/chromium (apt-get install chromium).`);
  }
  const candidates = [explicit, '/usr/bin/chromium', '/usr/bin/chromium-browser', which('chromium'), which('chromium-browser'),
    which('google-chrome'), which('google-chrome-stable')].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new SetupError('Chromium not found (looked at $CHROMIUM_PATH, /usr/bin/chromium, chromium-browser, google-chrome).\n'
      + '  The VS Code tests drive the workbench with a headless Chromium. Install it with:\n'
      + '    sudo apt-get install chromium fonts-liberation\n'
      + '  or point CHROMIUM_PATH at a Chromium/Chrome binary.');
  }
  return found;
}

export interface SessionOptions {
  /** Where logs and screenshots go (created; the caller decides whether to clear it). */
  artifactsDir: string;
  /** Files to create in the fresh workspace folder (relative path -> content). */
  workspaceFiles?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
  /** extensionTestsPath: run a test index inside the extension host instead of UI steps. */
  extensionTestsPath?: string;
  extensionDevelopmentPath?: string;
  /** Console lines from the extension host during a test run are echoed here. */
  onAutomationLog?: (text: string) => void;
  /**
   * Workspace trust ENABLED and the workspace folder NOT trusted (Restricted Mode), for testing
   * the extension's limited untrusted-workspace support. Without it trust is disabled
   * (`--disable-workspace-trust`), so every workspace counts as trusted.
   */
  untrusted?: boolean;
}

export interface Session {
  page: Page;
  browser: Browser;
  context: BrowserContext;
  workspace: string;
  artifactsDir: string;
  /** Resolves with the code the extension tests exited with (only with extensionTestsPath). */
  testsExit: Promise<number>;
  close(): Promise<void>;
}

// Workbench log lines that code-server prints on every offline start; kept in the log file only.
const AUTOMATION_NOISE = [
  /^Resolving connection token/, /^Resolved connection token/, /^Creating a socket/,
  /^Updating additional builtin extensions cache/, /^\[Service Worker\]/, /^ChatSessionStore:/,
  /ENOTFOUND open-vsx\.org/, /Cannot read properties of undefined \(reading 'add'\)/,
];

function formatConsoleArgs(args: unknown): string {
  if (!Array.isArray(args)) return String(args);
  const [fmt, ...rest] = args;
  if (typeof fmt !== 'string') return args.map((a) => JSON.stringify(a)).join(' ');
  let i = 0;
  const s = fmt.replace(/%[sdifoOc]/g, () => (i < rest.length ? String(rest[i++]) : ''));
  return [s, ...rest.slice(i).map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))].join(' ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitHttp(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('code-server exited during startup (see code-server.log)');
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not up yet */ }
    await sleep(200);
  }
  throw new Error(`timeout waiting for ${url}`);
}

// Quiet, deterministic settings: no welcome editor stealing focus from the palette, no gallery,
// update or telemetry traffic, and no autosave writing into the workspace behind the tests' back.
const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.commandCenter.enabled': false,
  'files.autoSave': 'off',
};

// Restricted Mode without any prompt: trust on, never ask at startup (a modal would block the
// workbench), open files from outside the workspace without asking. Nothing is pre-trusted: the
// user-data dir is fresh for every session and the trusted-folders list lives in it (server side)
// and in the browser's storage (a fresh, non-persistent Playwright context each time).
export const UNTRUSTED_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.untrustedFiles': 'open',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.emptyWindow': false,
};

/** Starts code-server + headless Chromium and opens the workbench on a fresh workspace. */
export async function startSession(opts: SessionOptions): Promise<Session> {
  const entry = ensureCodeServer();
  const chromiumPath = findChromium();
  // playwright-core is a devDependency; required lazily so `--help` etc. work without it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');

  fs.mkdirSync(opts.artifactsDir, { recursive: true });
  // Short private TMPDIR: the server's unix sockets live there (paths must stay < 108 chars),
  // and Chromium/VS Code state must not leak into ~/.config or /tmp.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-vsc-'));
  const ud = path.join(tmp, 'ud'), extDir = path.join(tmp, 'ext'), ws = path.join(tmp, 'ws');
  for (const d of [path.join(ud, 'User'), extDir, ws]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...(opts.untrusted ? UNTRUSTED_SETTINGS : {}), ...(opts.settings || {}) }, null, 2));
  for (const [rel, content] of Object.entries(opts.workspaceFiles || {})) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), content);
  }
  const xdgEnv = { ...privateXdg(path.join(tmp, 'xdg')), TMPDIR: tmp };
  const env: NodeJS.ProcessEnv = { ...process.env, ...xdgEnv, ...(opts.env || {}) };
  // Inside a VS Code terminal this would make code-server hand the folder to the outer window.
  delete env.VSCODE_IPC_HOOK_CLI;
  const configFile = path.join(tmp, 'code-server.yaml');
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');

  const csLog = fs.createWriteStream(path.join(opts.artifactsDir, 'code-server.log'));
  const consoleLog = fs.createWriteStream(path.join(opts.artifactsDir, 'browser-console.log'));
  const port = await freePort();
  const authority = `127.0.0.1:${port}`;
  const cs: ChildProcess = spawn(process.execPath, [entry, '--config', configFile, '--user-data-dir', ud, '--extensions-dir', extDir,
    '--bind-addr', authority, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    ...(opts.untrusted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override', '--ignore-last-opened', ws],
  // Own process group: killing only the pid leaves its file watcher / pty host children behind.
  { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  cs.stdout!.pipe(csLog); cs.stderr!.pipe(csLog);

  let browser: Browser | undefined;
  let closed = false;
  const stopServer = () => {
    if (cs.exitCode !== null || cs.signalCode !== null || cs.pid === undefined) return;
    try { process.kill(-cs.pid, 'SIGTERM'); } catch { /* gone */ }
    const pid = cs.pid;
    setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, 3000).unref();
  };
  const onSignal = (sig: NodeJS.Signals) => { stopServer(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const close = async () => {
    if (closed) return;
    closed = true;
    if (browser) await browser.close().catch(() => undefined);
    stopServer();
    // The extension starts engines in their own process group, so they outlive code-server's.
    await stopRunProcesses(ws);
    for (let i = 0; i < 50 && cs.exitCode === null && cs.signalCode === null; i++) await sleep(100);
    await sleep(300); // the group's children (file watcher, pty host) exit just after
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try { fs.cpSync(path.join(ud, 'logs'), path.join(opts.artifactsDir, 'vscode-logs'), { recursive: true }); } catch { /* none */ }
    // The workspace is deleted below; keep the runs' status/metrics for post-mortems.
    try { fs.cpSync(path.join(ws, '.advprop-runs'), path.join(opts.artifactsDir, 'advprop-runs'), { recursive: true }); } catch { /* none */ }
    await new Promise<void>((r) => csLog.end(r));
    await new Promise<void>((r) => consoleLog.end(r));
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    log(`starting code-server ${CODE_SERVER_VERSION} (pid ${cs.pid}) on http://${authority}, workspace ${ws}${opts.untrusted ? ' (workspace trust ON, folder NOT trusted)' : ''}`);
    await waitHttp(`http://${authority}/healthz`, 60000, () => cs.exitCode === null);
    log('code-server is up');

    const extPath = opts.extensionDevelopmentPath || REPO_ROOT;
    // code-server's CLI rejects --extensionDevelopmentPath/--extensionTestsPath; the workbench
    // reads them from the URL payload (the way VS Code's remote/web host does).
    const payload: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://${authority}${extPath}`]];
    if (opts.extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://${authority}${opts.extensionTestsPath}`]);
    const url = `http://${authority}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

    browser = await chromium.launch({
      executablePath: chromiumPath, headless: true,
      env: { ...process.env, ...xdgEnv } as Record<string, string>,
      // Root needs --no-sandbox; the rest stop Chromium from retrying the (closed) network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-default-apps',
        '--disable-domain-reliability', '--metrics-recording-only', '--no-default-browser-check'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.stack || e}\n`));
    let testsDone!: (code: number) => void;
    const testsExit = new Promise<number>((resolve) => { testsDone = resolve; });
    // The automation hooks @vscode/test-web uses: the extension host's console, and the exit code
    // once the test runner's run() settles.
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const text = formatConsoleArgs(args);
      consoleLog.write(`[automation.${type}] ${text}\n`);
      if (opts.onAutomationLog && text.trim() && !AUTOMATION_NOISE.some((re) => re.test(text))) opts.onAutomationLog(text);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => testsDone(code));

    log('opening the workbench in headless Chromium');
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    if (!opts.extensionTestsPath) {
      // Extensions are registered and the welcome editor settled at LifecyclePhase.Eventually;
      // pressing F1 earlier gets the palette closed by a focus change.
      await page.waitForFunction(() => performance.getEntriesByName('code/LifecyclePhase/Eventually').length > 0, null, { timeout: 90000 })
        .catch(() => log('warning: LifecyclePhase/Eventually mark not seen'));
      await page.waitForTimeout(500);
    }
    log('workbench ready');
    return { page, browser, context, workspace: ws, artifactsDir: opts.artifactsDir, testsExit, close };
  } catch (e) {
    await close();
    throw e;
  }
}
