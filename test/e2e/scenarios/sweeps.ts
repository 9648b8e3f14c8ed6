// A sweep submitted from the palette to a real one-node Slurm (test/unit/sweep/slurmCluster.ts,
// started and stopped by the scenario, by pid): the Runs view shows the sweep and each point with
// its Slurm state and job id (completed, RUNNING on the node, PENDING (Resources)), pictured in
// sweep-slurm.png; Stop Sweep then cancels it through scancel: running points end stopped with a
// checkpoint, the pending one CANCELLED. Where Slurm cannot be had it runs only when named (and
// then says why it cannot); under CI it always runs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clusterUnavailable, startCluster } from '../../unit/sweep/slurmCluster';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Scenario } from '../scenarios';
import { readJson, sweepFolder, tinyConfigText, typeSweepAxes } from './helpers';

const CLUSTER_DIR = path.join(os.tmpdir(), 'fa-slurm-e2e');
const unavailable = clusterUnavailable();

interface Row { label: string; description: string }

export const sweepScenario: Scenario = {
  name: 'sweep-slurm',
  description: `Start Sweep (executor slurm, 2 CPUs per run on a 4-CPU node) of 4 points -> the Runs view shows completed, RUNNING on the node and PENDING (Resources) with job ids -> Stop Sweep: stopped / CANCELLED${unavailable ? ` [Slurm unavailable here: ${unavailable}]` : ''}`,
  manual: unavailable !== undefined && !process.env.CI,
  env: { SLURM_CONF: path.join(CLUSTER_DIR, 'slurm.conf') },
  settings: { 'fastAdvprop.sweep.executor': 'slurm', 'fastAdvprop.slurm.cpusPerRun': 2, 'fastAdvprop.slurm.node': process.execPath },
  workspaceFiles: { ...tinyWorkspaceFiles(), 'sweep-base.advprop.json': tinyConfigText({ maxSteps: 0, epochs: 300, workers: 1, logEvery: 1 }) },
  timeoutMs: 8 * 60_000,
  async run(d) {
    if (unavailable) throw new Error(`Slurm cannot be had here: ${unavailable}`);
    const cluster = await startCluster({ dir: CLUSTER_DIR });
    try {
      await d.step('warm-up job (Slurm\'s first scheduling pass)', async () => {
        const r = spawnSync('sbatch', ['--wait', `--output=${CLUSTER_DIR}/warm.out`, '--wrap', 'true'], { env: cluster.env, encoding: 'utf8', timeout: 60_000 });
        if (r.status !== 0) throw new Error(r.stderr);
        return '';
      });
      await d.command('Fast AdvProp: Start Sweep');
      await d.pick('sweep-base.advprop.json');
      // Point 0 ends after 6 steps; the others train for minutes. Two fit on the node at once.
      await typeSweepAxes(d, 'maxSteps=6,3000,3000,3000');
      const sweep = await d.step('the sweep is submitted (sweep.json with an array job id)', () => d.poll(() => {
        const dir = sweepFolder(d.workspace);
        return dir && readJson<{ jobId?: string }>(path.join(dir, 'sweep.json')).jobId ? dir : undefined;
      }, 60_000, 'a submitted sweep'));
      const jobId = readJson<{ jobId: string }>(path.join(sweep, 'sweep.json')).jobId;
      await d.click('.activitybar .action-item a[aria-label^="Fast AdvProp"]');
      const rows = (): Promise<Row[]> => d.page.$$eval('.part.sidebar .monaco-list-row', (els) => els.map((r) => ({
        label: ((r.querySelector('.label-name') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
        description: ((r.querySelector('.label-description') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
      })));
      const point = (all: Row[], i: number): Row | undefined => all.find((r) => r.label.startsWith(`${i}-maxSteps-`));
      const seen = await d.step('the view shows completed, RUNNING on the node and PENDING (Resources), each with its job id', () => d.poll(async () => {
        const all = await rows();
        const ok = /^completed .*· job \d+_0$/.test(point(all, 0)?.description ?? '')
          && [1, 2].every((i) => new RegExp(`^RUNNING on \\S+ \\d+/\\d+ · job ${jobId}_${i}$`).test(point(all, i)?.description ?? ''))
          && point(all, 3)?.description === `PENDING (Resources) · job ${jobId}_3`
          && all.some((r) => r.label.startsWith('Sweep ') && r.description.startsWith(`slurm job ${jobId} · `));
        return ok ? JSON.stringify(all) : undefined;
      }, 120_000, 'the four Slurm states').catch(async (e: Error) => { throw new Error(`${e.message}; rows: ${JSON.stringify(await rows())}`); }));
      void seen;
      await d.command('Notifications: Clear All Notifications');
      // Wide enough for the states and job ids in full (the default sidebar cuts long descriptions).
      await d.step('widen the sidebar', async () => {
        const sash = d.page.locator('.part.sidebar').first();
        const box = await sash.boundingBox();
        if (!box) throw new Error('no sidebar');
        await d.page.mouse.move(box.x + box.width + 1, box.y + 300);
        await d.page.mouse.down();
        await d.page.mouse.move(box.x + box.width + 260, box.y + 300, { steps: 8 });
        await d.page.mouse.up();
        return `${box.width}px -> ${(await sash.boundingBox())?.width}px`;
      });
      await d.page.mouse.move(24, 600);
      await d.screenshot('sweep-slurm.png', { settleMs: 800, selector: '.part.sidebar' });

      await d.command('Fast AdvProp: Stop Sweep');
      await d.pick(path.basename(sweep), { filter: false });
      const state = (i: number): string | undefined => {
        try {
          return readJson<{ state: string }>(path.join(sweep, 'runs', fs.readdirSync(path.join(sweep, 'runs')).find((n) => n.startsWith(`${i}-`)) ?? 'none', 'status.json')).state;
        } catch {
          return undefined;
        }
      };
      await d.check('the running points end stopped (with a checkpoint), the completed one stays completed', () => d.poll(() => {
        const s = [0, 1, 2].map(state);
        return s[0] === 'completed' && s[1] === 'stopped' && s[2] === 'stopped' ? s.join(', ') : undefined;
      }, 60_000, 'points 1 and 2 stopped'));
      await d.step('the view shows the pending point CANCELLED and the others stopped', () => d.poll(async () => {
        const all = await rows();
        return point(all, 3)?.description.startsWith('cancelled') && /^stopped/.test(point(all, 1)?.description ?? '') ? JSON.stringify(all.map((r) => `${r.label}: ${r.description}`)) : undefined;
      }, 30_000, 'the states after Stop').catch(async (e: Error) => { throw new Error(`${e.message}; rows: ${JSON.stringify(await rows())}`); }));
      await d.screenshot('sweep-slurm-stopped.png', { settleMs: 500, selector: '.part.sidebar' });
    } finally {
      await cluster.stop();
    }
  },
};
