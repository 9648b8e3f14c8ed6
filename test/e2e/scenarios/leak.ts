// The label leak caught live (issue #13, docs/leak.md): the example config whose attack aims at
// label + 1 is started from the palette and trained for real until the dashboard's alarm fires;
// then the same config with a random target trains over at least as many steps and the alarm
// stays off. Both configs are the files in examples/, copied unchanged into the workspace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../runner/codeServer';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { ensureDashboard, expectWebview, readJson, runFolders, runState, stopFromPalette, textOf, webviewFrame } from './helpers';

const LEAK = 'label-leak.advprop.json';
const FIXED = 'label-leak-fixed.advprop.json';
/**
 * Steps each run trains before it is stopped: the detector averages 5 logged intervals of 10
 * steps, so 100 steps give the fixed run six verdicts (steps 50..100) to stay quiet on, and the
 * leaking one fires at step 50 (docs/leak.md), well inside them.
 */
const STEPS = 100;

function example(name: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, 'examples', name), 'utf8');
}

interface StepRecord { kind: string; step?: number; event?: string; clean?: { acc?: number }; adv?: { acc?: number }; leak?: { flagged?: boolean } }

function metrics(dir: string): StepRecord[] {
  try {
    return fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
      try { return [JSON.parse(l) as StepRecord]; } catch { return []; }
    });
  } catch {
    return [];
  }
}

function progressStep(dir: string): number {
  try {
    return readJson<{ progress?: { step: number } }>(path.join(dir, 'status.json')).progress?.step ?? 0;
  } catch {
    return 0;
  }
}

async function start(d: Driver, file: string, known: readonly string[]): Promise<string> {
  await d.command('Fast AdvProp: Start Training');
  await d.pick(file, { filter: false });
  return d.step(`a run folder for ${file} appears`, () => d.poll(() => runFolders(d.workspace).find((r) => !known.includes(r)), 60_000, 'a new run folder'));
}

function trainsTo(d: Driver, dir: string, steps: number): Promise<string> {
  return d.check(`${path.basename(dir)} trains to step ${steps}`, () => d.poll(() => {
    const s = runState(dir);
    if (s === 'failed' || s === 'stopped' || s === 'completed') throw new Error(`run ended ${s} at step ${progressStep(dir)}`);
    const step = progressStep(dir);
    return step >= steps ? `step ${step}` : undefined;
  }, 8 * 60_000, `step ≥ ${steps}`, 500));
}

/** The two streams' train accuracies over the last five logged steps, as the detector averages them. */
function lastAccuracies(dir: string): { clean: number; adv: number } {
  const steps = metrics(dir).filter((r) => r.kind === 'step' && typeof r.clean?.acc === 'number' && typeof r.adv?.acc === 'number').slice(-5);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { clean: mean(steps.map((r) => r.clean!.acc!)), adv: mean(steps.map((r) => r.adv!.acc!)) };
}

export const leakScenario: Scenario = {
  name: 'label-leak-live',
  description: `examples/${LEAK} from the palette -> the dashboard's label-leak alarm fires on the real run (screenshot); examples/${FIXED} over the same steps -> no alarm`,
  workspaceFiles: { ...tinyWorkspaceFiles(), [LEAK]: example(LEAK), [FIXED]: example(FIXED) },
  timeoutMs: 15 * 60_000,
  async run(d) {
    const leakDir = await start(d, LEAK, []);
    const leakName = path.basename(leakDir);
    await d.step('dashboard webview is open', () => ensureDashboard(d));
    const alarm = await expectWebview(d, 'the dashboard raises the label-leak alarm on the running leak config', async () => {
      const f = await webviewFrame(d, '#leak-banner', 10_000, leakName);
      return textOf(f, '#leak-banner strong');
    }, (t) => /^Label leak: adversarial train accuracy [\d.]+ % is above clean [\d.]+ % \(step \d+\)\.$/.test(t), 6 * 60_000);
    await d.check('the alarm is the engine\'s: a leak event in metrics.jsonl, adversarial above clean in the banner', () => {
      const m = /accuracy ([\d.]+) % is above clean ([\d.]+) % \(step (\d+)\)/.exec(JSON.parse(alarm) as string);
      if (!m || !(Number(m[1]) > Number(m[2]))) throw new Error(`banner: ${alarm}`);
      const records = metrics(leakDir);
      const event = records.find((r) => r.kind === 'event' && r.event === 'leak');
      const flagged = records.filter((r) => r.kind === 'step' && r.leak?.flagged).map((r) => r.step);
      if (!event || flagged.length === 0) throw new Error(`no leak event / flagged step in metrics.jsonl (${records.length} records)`);
      return `adv ${m[1]} % > clean ${m[2]} % at step ${m[3]}; flagged steps ${flagged.join(',')}`;
    });
    await d.step('park the pointer', async () => { await d.page.mouse.move(24, 600); return ''; });
    await d.screenshot('leak-alarm.png', { settleMs: 1500, selector: '.part.editor' });
    await trainsTo(d, leakDir, STEPS);
    await stopFromPalette(d, leakDir);
    const leakSteps = progressStep(leakDir);
    await d.check(`the leaking run: adversarial above clean over its last logged steps`, () => {
      const a = lastAccuracies(leakDir);
      if (!(a.adv > a.clean)) throw new Error(`clean ${a.clean}, adv ${a.adv}`);
      return `clean ${(100 * a.clean).toFixed(1)} %, adv ${(100 * a.adv).toFixed(1)} % (${leakSteps} steps)`;
    });

    const fixedDir = await start(d, FIXED, [leakDir]);
    const fixedName = path.basename(fixedDir);
    await trainsTo(d, fixedDir, leakSteps);
    await d.step('dashboard of the fixed run is open', async () => {
      if (await d.poll(() => d.findWebviewFrame({ selector: '#leak-state', text: fixedName }), 15_000, 'its dashboard', 500).catch(() => undefined)) return 'opened by Start Training';
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick(fixedName, { filter: false });
      return 'opened from the palette';
    });
    await expectWebview(d, `the fixed run's dashboard shows no alarm and says "no leak" after ${leakSteps} steps`, async () => {
      const f = await webviewFrame(d, '#leak-state', 30_000, fixedName);
      return { line: await textOf(f, '#leak-state'), alarm: await textOf(f, '#leak-banner') };
    }, (v) => /^no leak: adv \d+ % < clean \d+ %$/.test(v.line) && v.alarm === '', 30_000);
    await d.check('the fixed run\'s records: no leak event, no flagged step, adversarial below clean', () => {
      const records = metrics(fixedDir);
      const flagged = records.filter((r) => (r.kind === 'step' && r.leak?.flagged) || (r.kind === 'event' && r.event === 'leak'));
      if (flagged.length) throw new Error(`flagged: ${JSON.stringify(flagged[0])}`);
      const a = lastAccuracies(fixedDir);
      if (!(a.adv < a.clean)) throw new Error(`clean ${a.clean}, adv ${a.adv}`);
      return `clean ${(100 * a.clean).toFixed(1)} %, adv ${(100 * a.adv).toFixed(1)} % at step ${progressStep(fixedDir)}`;
    });
    await d.step('park the pointer', async () => { await d.page.mouse.move(24, 600); return ''; });
    await d.screenshot('leak-fixed.png', { settleMs: 1500, selector: '.part.editor' });
    await stopFromPalette(d, fixedDir);
  },
};
