// A local sweep started from the palette while a run trains, with fastAdvprop.maxConcurrentRuns 1
// (the default): its points wait in the run queue, shown `queued` under the sweep in the Runs view,
// and nothing of the sweep starts; Stop Training on the run frees the slot and the points train one
// after another to completed (issue #15: local sweeps go through the extension's queue).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Scenario } from '../scenarios';
import { park, readJson, runFolders, runState, stopFromPalette, sweepFolder, tinyConfigText, typeSweepAxes } from './helpers';

interface Row { label: string; description: string }

export const sweepQueueScenario: Scenario = {
  name: 'sweep-local-queue',
  description: 'Start Sweep (local) of 2 points while a run trains, maxConcurrentRuns 1 -> both points queued in the Runs view, none starts -> Stop Training on the run -> the points train one at a time and complete, and the window says the sweep finished',
  settings: { 'fastAdvprop.sweep.executor': 'local', 'fastAdvprop.maxConcurrentRuns': 1 },
  workspaceFiles: {
    ...tinyWorkspaceFiles(),
    // Far longer than the scenario (it is stopped at step 18): at 300 epochs it ended in under a
    // minute on a fast machine, which a slow sweep creation could outlast.
    'blocker.advprop.json': tinyConfigText({ maxSteps: 0, epochs: 5000, logEvery: 1 }),
    'point.advprop.json': tinyConfigText({ maxSteps: 3 }),
  },
  timeoutMs: 6 * 60_000,
  async run(d) {
    await d.command('Fast AdvProp: Start Training');
    await d.pick('blocker.advprop.json');
    const blocker = await d.step('the run trains', () => d.poll(() => runFolders(d.workspace).find((r) => runState(r) === 'running'), 90_000, 'a running run'));
    // Its dashboard opens on its own; opened in the middle of Start Sweep's pickers it would close them.
    await d.waitForWebview(/\bRUNNING\b/i, { timeout: 30_000 });
    // A dashboard taking focus as it fills can close a picker that just opened: then ask again.
    await d.step('Start Sweep from the palette opens the base config picker', async () => {
      for (let attempt = 1; ; attempt++) {
        await d.command('Fast AdvProp: Start Sweep');
        const labels = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.some((x) => x.includes('point.advprop.json')) ? l : undefined; }, 5000, 'the base config picker')
          .catch((e: Error) => { if (attempt >= 3) throw e; return undefined; });
        if (labels) return `${labels.join(', ')}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
      }
    });
    await d.pick('point.advprop.json');
    await typeSweepAxes(d, 'split=4:1,1:1');
    const sweep = await d.step('the sweep folder appears with its points queued', () => d.poll(() => {
      const dir = sweepFolder(d.workspace);
      if (!dir) return undefined;
      const pts = readJson<{ points: { runDir: string }[] }>(path.join(dir, 'sweep.json')).points.map((p) => path.join(dir, p.runDir));
      return pts.length === 2 && pts.every((p) => runState(p) === 'queued') ? dir : undefined;
    }, 60_000, 'a sweep with 2 queued points').catch((e: Error) => {
      // Say what there was instead: no sweep folder yet, or its points in another state, and the run's.
      const dir = sweepFolder(d.workspace);
      const pts = dir ? readJson<{ points: { runDir: string }[] }>(path.join(dir, 'sweep.json')).points.map((p) => runState(path.join(dir, p.runDir))) : [];
      throw new Error(`${e.message}; sweep folder: ${dir ?? 'none'}, points: ${pts.join(', ') || '-'}, the run: ${runState(blocker)}`);
    }));
    const points = readJson<{ points: { runDir: string }[] }>(path.join(sweep, 'sweep.json')).points.map((p) => path.join(sweep, p.runDir));
    await d.click('.activitybar .action-item a[aria-label^="Fast AdvProp"]');
    const rows = (): Promise<Row[]> => d.page.$$eval('.part.sidebar .monaco-list-row', (els) => els.map((r) => ({
      label: ((r.querySelector('.label-name') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
      description: ((r.querySelector('.label-description') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
    })));
    const pointRows = async (): Promise<Row[]> => (await rows()).filter((r) => /^\d+-split-/.test(r.label));
    await d.step('the Runs view shows both points queued under the sweep', () => d.poll(async () => {
      const p = await pointRows();
      return p.length === 2 && p.every((r) => r.description.startsWith('queued')) ? JSON.stringify(p) : undefined;
    }, 30_000, 'two queued point rows').catch(async (e: Error) => { throw new Error(`${e.message}; rows: ${JSON.stringify(await rows())}`); }));
    await d.check('nothing of the sweep starts while the run holds the one slot (5 s)', async () => {
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        const s = points.map(runState);
        if (s.some((x) => x !== 'queued')) throw new Error(`a point left the queue beside the running run: ${s.join(', ')}`);
        if (runState(blocker) !== 'running') throw new Error(`the run is ${runState(blocker)}, not running`);
        await d.page.waitForTimeout(250);
      }
      return points.map(runState).join(', ');
    });
    await park(d);
    await d.screenshot('sweep-local-queued.png', { settleMs: 500, selector: '.part.sidebar' });
    await stopFromPalette(d, blocker);
    let most = 0;
    await d.check('the points then train one at a time and complete', () => d.poll(() => {
      const s = points.map(runState);
      most = Math.max(most, [blocker, ...points].filter((p) => runState(p) === 'running').length);
      if (s.some((x) => x === 'failed' || x === 'stopped')) throw new Error(`a point ended ${s.join(', ')}`);
      return s.every((x) => x === 'completed') ? `${s.join(', ')}; at most ${most} run(s) at once` : undefined;
    }, 180_000, 'both points completed'));
    if (most > 1) throw new Error(`${most} runs trained at once under maxConcurrentRuns 1`);
    await d.waitForText(`Fast AdvProp: sweep ${path.basename(sweep)} finished: 2/2 points completed.`, { timeout: 30_000 });
    await d.step('the Runs view shows both points completed', () => d.poll(async () => {
      const p = await pointRows();
      return p.length === 2 && p.every((r) => r.description.startsWith('completed')) ? JSON.stringify(p) : undefined;
    }, 30_000, 'two completed point rows').catch(async (e: Error) => { throw new Error(`${e.message}; rows: ${JSON.stringify(await rows())}`); }));
  },
};
