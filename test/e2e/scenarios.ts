// UI scenarios: each runs in its own fresh code-server session and workspace, driven like a
// person would. To add one, append to `scenarios` (names are used for artifact folders and
// `--scenario NAME`; keep screenshot names unique across scenarios).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TINY_CONFIG_FILE, tinyWorkspaceFiles } from '../runner/workspace';
import type { Driver } from './driver';

export interface Scenario {
  name: string;
  description: string;
  /** Files for the fresh workspace (relative path -> content); default: the tiny config. */
  workspaceFiles?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and the extension host. */
  env?: Record<string, string>;
  /** Whole-scenario limit (default 6 minutes). */
  timeoutMs?: number;
  run(d: Driver): Promise<void>;
}

// Case-insensitive: innerText applies CSS text-transform, and the dashboard shows e.g. "COMPLETED".
const RUN_STATES = /\b(queued|running|completed|failed|stopped)\b/i;

/** Run folders under the default runs folder (`.advprop-runs`) of the scenario's workspace. */
export function runFolders(workspace: string): string[] {
  const root = path.join(workspace, '.advprop-runs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).map((n) => path.join(root, n)).filter((p) => fs.existsSync(path.join(p, 'status.json')));
}

export function runState(runDir: string): string | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')).state; } catch { return undefined; }
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

export const scenarios: Scenario[] = [
  {
    name: 'start-training',
    description: 'Palette "Fast AdvProp: Start Training" -> pick the workspace tiny config -> dashboard shows "completed"',
    workspaceFiles: tinyWorkspaceFiles(),
    async run(d) {
      await d.command('Fast AdvProp: Start Training');
      // The quick pick offers the built-in default and each workspace *.advprop.json by its
      // workspace-relative path; the tiny config keeps the run to a few seconds.
      await d.pick(TINY_CONFIG_FILE);
      await d.check('a run folder appears in .advprop-runs', () => d.poll(() => {
        const runs = runFolders(d.workspace);
        return runs.length ? path.basename(runs[0]) : undefined;
      }, 60_000, 'a run folder with status.json'));
      await d.step('dashboard webview is open', () => ensureDashboard(d));
      const failIf = () => {
        const bad = runFolders(d.workspace).map((r) => ({ r, s: runState(r) })).find((x) => x.s === 'failed' || x.s === 'stopped');
        if (!bad) return undefined;
        let status = '';
        try { status = fs.readFileSync(path.join(bad.r, 'status.json'), 'utf8'); } catch { /* gone */ }
        return `run ${path.basename(bad.r)} ended as "${bad.s}": ${status.slice(0, 1000)}`;
      };
      await d.waitForWebview(/\bcompleted\b/i, { timeout: 300_000, failIf });
      await d.screenshot('dashboard.png', { settleMs: 1000 });
      await d.check('status.json says completed', () => {
        const states = runFolders(d.workspace).map((r) => `${path.basename(r)}=${runState(r)}`);
        if (!states.some((s) => s.endsWith('=completed'))) throw new Error(`run states: ${states.join(', ') || 'no runs'}`);
        return states.join(', ');
      });
    },
  },
];
