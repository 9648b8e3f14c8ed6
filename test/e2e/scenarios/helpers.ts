// Shared pieces of the UI scenarios: run folders on disk, the engine CLI, and reading what a
// webview shows (table cells, texts) so a scenario can compare it with the records on disk.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { REPO_ROOT } from '../../runner/codeServer';
import { TINY_CONFIG } from '../../runner/workspace';
import type { Driver } from '../driver';

// Case-insensitive: innerText applies CSS text-transform, and the dashboard shows e.g. "COMPLETED".
export const RUN_STATES = /\b(queued|running|completed|failed|stopped)\b/i;

/** The extension's default runs folder, relative to the workspace. */
export const RUNS_FOLDER = '.advprop-runs';

/** Run folders under the default runs folder (`.advprop-runs`) of the scenario's workspace. */
export function runFolders(workspace: string): string[] {
  const root = path.join(workspace, RUNS_FOLDER);
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).map((n) => path.join(root, n)).filter((p) => fs.existsSync(path.join(p, 'status.json')));
}

export function runState(runDir: string): string | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')).state; } catch { return undefined; }
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * Makes sure a dashboard webview is showing: the extension may open it when a run starts; if
 * none shows up, use "Fast AdvProp: Open Dashboard" and pick the run if it asks which.
 */
export async function ensureDashboard(d: Driver, waitMs = 20_000): Promise<void> {
  const shown = await d.poll(() => d.findWebviewFrame({ text: RUN_STATES }), waitMs, 'a dashboard', 500).catch(() => undefined);
  if (shown) return;
  await d.command('Fast AdvProp: Open Dashboard');
  const runs = runFolders(d.workspace).map((p) => path.basename(p));
  const labels = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 3000, 'a run picker')
    .catch(() => [] as string[]);
  if (labels.length) await d.pick(labels.find((l) => runs.some((r) => l.includes(r))) ?? labels[0], { filter: false });
}

/** A workspace config like the tiny one, with overrides (JSON text for workspaceFiles). */
export function tinyConfigText(over: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...TINY_CONFIG, ...over }, null, 2) + '\n';
}

/**
 * Runs the engine CLI (`node dist/cli.js ARGS`) in `cwd`, as a terminal user would next to the
 * extension; rejects with the tail of its output when it exits non-zero.
 */
export function engine(args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`engine ${args.join(' ')} exited ${code ?? signal}: ${out.slice(-1500)}`));
    });
  });
}

/** The webview frame holding `selector` (and `text`, if given); waits for it. */
export function webviewFrame(d: Driver, selector: string, timeout = 30_000, text?: string | RegExp): Promise<Frame> {
  return d.poll(() => d.findWebviewFrame({ selector, text }), timeout, `a webview with ${selector}`, 300);
}

/** innerText of every cell (th and td) of each row matched by `rowSelector`, whitespace-collapsed. */
export async function tableCells(f: Frame, rowSelector: string): Promise<string[][]> {
  return f.$$eval(rowSelector, (rows) => rows.map((r) => Array.from(r.querySelectorAll('th, td')).map((c) =>
    ((c as unknown as { innerText: string }).innerText || '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim())));
}

/** innerText of the first element matching `selector` (whitespace-collapsed, '' when absent). */
export async function textOf(f: Frame, selector: string): Promise<string> {
  const el = await f.$(selector);
  if (!el) return '';
  return ((await el.evaluate((e) => (e as unknown as { innerText: string }).innerText)) || '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Polls until `read` returns a value that `ok` accepts; on timeout the error names the last value
 * seen, so a wrong number in the panel reads as such in the report.
 */
export async function expectWebview<T>(d: Driver, what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeout = 15_000): Promise<string> {
  return d.step(what, async () => {
    let last: T | undefined;
    let lastErr: unknown;
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      try {
        last = await read();
        if (ok(last)) return JSON.stringify(last).slice(0, 200);
      } catch (e) { lastErr = e; }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${what}: panel shows ${JSON.stringify(last)}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
  });
}

/** The pointer to the activity bar's empty part, so no hover tooltip (e.g. a tab's "Close") is in the picture. */
export async function park(d: Driver): Promise<void> {
  await d.step('park the pointer', async () => { await d.page.mouse.move(24, 600); return ''; });
}

/**
 * Stop Training from the palette, pick the run, wait for "stopped". A palette click lost to a
 * re-render shows no picker, so the command is tried once more then.
 */
export async function stopFromPalette(d: Driver, dir: string): Promise<void> {
  await d.step('Stop Training from the palette opens the run picker', async () => {
    for (let attempt = 1; ; attempt++) {
      await d.command('Fast AdvProp: Stop Training');
      const labels = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 5000, 'the run picker')
        .catch((e: Error) => { if (attempt >= 2) throw e; return undefined; });
      if (labels) return labels.join(', ');
    }
  });
  await d.pick(path.basename(dir), { filter: false });
  await d.check(`${path.basename(dir)} stops`, () => d.poll(() => (runState(dir) === 'stopped' ? 'stopped' : undefined), 30_000, 'state "stopped"'));
}

/**
 * Start Sweep's last two prompts after the base config: "Type the axes…" with `axes`, then Enter
 * on the seeds box (one seed per point).
 */
export async function typeSweepAxes(d: Driver, axes: string): Promise<void> {
  await d.pick('Type the axes…', { filter: false });
  await d.step('type the axes', async () => {
    const input = d.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(axes);
    await d.page.keyboard.press('Enter');
    return '';
  });
  await d.step('seeds: none (one per point)', async () => {
    await d.page.waitForTimeout(500);
    await d.page.keyboard.press('Enter');
    return '';
  });
}

/** The first folder with a sweep.json in the workspace's runs folder, if any. */
export function sweepFolder(workspace: string): string | undefined {
  const runs = path.join(workspace, RUNS_FOLDER);
  return fs.existsSync(runs) ? fs.readdirSync(runs).map((n) => path.join(runs, n)).find((p) => fs.existsSync(path.join(p, 'sweep.json'))) : undefined;
}
