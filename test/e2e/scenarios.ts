// UI scenarios: each runs in its own fresh code-server session and workspace, driven like a
// person would. To add one, append to `scenarios` (names are used for artifact folders and
// `--scenario NAME`; keep screenshot names unique across scenarios).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TINY_CONFIG_FILE, tinyWorkspaceFiles } from '../runner/workspace';
import type { Driver } from './driver';
import { ensureDashboard, runFolders, runState } from './scenarios/helpers';
import { cockpitScenarios } from './scenarios/cockpit';
import { panelScenarios } from './scenarios/panels';
import { reloadScenario } from './scenarios/reload';
import { docsScenario } from './scenarios/docs';
import { foreignScenario } from './scenarios/foreign';
import { sweepScenario } from './scenarios/sweeps';
import { sweepQueueScenario } from './scenarios/sweepQueue';
import { trustGrantScenario } from './scenarios/trust';
import { leakScenario } from './scenarios/leak';
import { newRunConfigScenario } from './scenarios/newRunConfig';

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
  /** Runs only when named (--scenario / FAST_ADVPROP_E2E_SCENARIOS), e.g. minutes of real training. */
  manual?: boolean;
  /** Workspace trust on and the folder not trusted (Restricted Mode) when the session starts. */
  untrusted?: boolean;
  run(d: Driver): Promise<void>;
}

// The helpers live in scenarios/helpers.ts (shared with scenarios/panels.ts); re-exported here for
// anything that imported them from this module.
export { RUN_STATES, ensureDashboard, runFolders, runState } from './scenarios/helpers';

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
      // Issue #16: the end of a run must be said, with the run's name and result.
      const run = runFolders(d.workspace).find((r) => runState(r) === 'completed')!;
      const acc = (JSON.parse(fs.readFileSync(path.join(run, 'results.json'), 'utf8')) as { clean: { accuracy: number } }).clean.accuracy;
      await d.waitForText(`Fast AdvProp: run ${path.basename(run)} completed: test accuracy ${(acc * 100).toFixed(1)} %.`, { timeout: 30_000 });
      await d.waitForText('Open Dashboard', { timeout: 5_000 });
    },
  },
  ...panelScenarios,
  reloadScenario,
  ...cockpitScenarios,
  foreignScenario,
  leakScenario,
  docsScenario,
  sweepScenario,
  sweepQueueScenario,
  trustGrantScenario,
  newRunConfigScenario,
];
