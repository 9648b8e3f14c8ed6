// UI scenarios for the webview panels: the dashboard growing while a run trains, the budget
// calculator's calibration, Compare Runs' deltas and the Robustness panel with its thumbnails.
// Each reads the numbers the panel shows and compares them with what they must be (the paper's
// table, or the records the engine wrote on disk), so a wrong number fails the scenario.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { calibrate } from '../../../src/engine/budget/costModel';
import { fakeRunFiles } from '../../fixtures/runFolder';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import {
  RUNS_FOLDER, engine, ensureDashboard, expectWebview, readJson, runFolders, runState, tableCells, textOf, tinyConfigText, webviewFrame,
} from './helpers';

const GROW_CONFIG_FILE = 'grow.advprop.json';
// The tiny data set has 10 steps per epoch and 5 epochs: 50 steps in all (about 8 s on 2 cores).
const GROW_STEPS = 50;

/** Picks a value in a webview-ui-toolkit <vscode-dropdown>: click it open, click the option. */
function chooseOption(d: Driver, dropdown: string, value: string): Promise<string> {
  return d.step(`choose ${value} in ${dropdown}`, async () => {
    const f = await webviewFrame(d, dropdown);
    await f.click(dropdown);
    await f.click(`${dropdown} vscode-option[value="${value}"]`, { timeout: 5000 });
    const now = await f.$eval(dropdown, (e) => (e as unknown as { value: string }).value);
    if (now !== value) throw new Error(`${dropdown} is "${now}" after choosing "${value}"`);
    return '';
  });
}

/** The "value" cell of the row labelled `label` in a two-column table. */
async function rowValue(d: Driver, table: string, label: string): Promise<string> {
  const f = await webviewFrame(d, table, 5000);
  return (await tableCells(f, `${table} tbody tr`)).find((r) => r[0] === label)?.[1] ?? '';
}

/** Picks `label` if the command asked which run (a quick pick is open within a few seconds). */
async function pickIfAsked(d: Driver, label: string): Promise<void> {
  const labels = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 5000, 'a run picker')
    .catch(() => [] as string[]);
  if (labels.length) await d.pick(label);
}

/** How the compare table shows a delta: "▲ +0.200×", "▼ −1.25 pp", "= ±0". */
function expectedDelta(value: number, base: number, digits: number, unit: string): string {
  const v = Number(value.toFixed(digits + 6));
  const diff = v - base;
  if (Math.abs(diff) < 0.5 * 10 ** -digits) return '= ±0';
  return `${diff > 0 ? '▲' : '▼'} ${diff > 0 ? '+' : '−'}${Math.abs(diff).toFixed(digits)}${unit}`;
}

/** Closes toasts (e.g. the label-leak warning a noisy tiny run can raise) so they do not cover a screenshot. */
async function clearNotifications(d: Driver): Promise<void> {
  await d.command('Notifications: Clear All Notifications');
  await d.press('Escape');
}

const pct1 = (e: number | null | undefined): string => (typeof e === 'number' ? (e * 100).toFixed(1) : '–');

const LONG_RUN = 'long-run';
const LONG_STEPS = 20_000;

export const panelScenarios: Scenario[] = [
  {
    name: 'dashboard-grows',
    description: `Start Training on a ${GROW_STEPS}-step config -> the dashboard's "step N/${GROW_STEPS}" rises while it runs -> completed with curves`,
    workspaceFiles: { ...tinyWorkspaceFiles(), [GROW_CONFIG_FILE]: tinyConfigText({ maxSteps: GROW_STEPS, logEvery: 1 }) },
    async run(d) {
      await d.command('Fast AdvProp: Start Training');
      await d.pick(GROW_CONFIG_FILE);
      await d.check('a run folder appears in .advprop-runs', () => d.poll(() => runFolders(d.workspace)[0] && path.basename(runFolders(d.workspace)[0]), 60_000, 'a run folder'));
      await d.step('dashboard webview is open', () => ensureDashboard(d));
      const readStep = async (): Promise<{ step: number; total: number; text: string } | undefined> => {
        const f = await d.findWebviewFrame({ text: /step \d+\/\d+/ });
        if (!f) return undefined;
        const m = /epoch \d+\/\d+ · step (\d+)\/(\d+)/.exec(await textOf(f, 'body'));
        return m ? { step: Number(m[1]), total: Number(m[2]), text: m[0] } : undefined;
      };
      const failIf = (): void => {
        const bad = runFolders(d.workspace).find((r) => runState(r) === 'failed' || runState(r) === 'stopped');
        if (bad) throw Object.assign(new Error(`run ${path.basename(bad)} ended as ${runState(bad)}: ${fs.readFileSync(path.join(bad, 'status.json'), 'utf8').slice(0, 800)}`), { fatal: true });
      };
      const first = await d.step('first observation: the dashboard shows a step below the total', () => d.poll(async () => {
        failIf();
        const s = await readStep();
        if (s && s.total > 0 && s.step >= s.total) throw Object.assign(new Error(`the run was already at ${s.text} at the first look; it never showed as growing`), { fatal: true });
        return s && s.total > 0 && s.step > 0 ? s : undefined;
      }, 120_000, `"step N/${GROW_STEPS}" with 0 < N < ${GROW_STEPS}`, 200));
      // Issue #16: the status bar's numbers are labelled (an unlabelled "53.4%" read as progress).
      await d.step('the status bar labels the running run\'s numbers', () => d.poll(async () => {
        const items: string[] = await d.page.$$eval('.statusbar-item', (els) => els.map((e) => ((e as unknown as { innerText: string }).innerText || '').replace(/\s+/g, ' ').trim()));
        return items.find((t) => /^grow-\S+ · epoch \d\/5 · \d{1,3}% · (train|test) acc \d+\.\d%/.test(t));
      }, 30_000, 'a status-bar item "grow-… · epoch e/5 · N% · train acc X%"', 100));
      await d.screenshot('dashboard-running.png', { settleMs: 0 });
      const second = await d.step(`second observation: the step count rises above ${first.step}`, () => d.poll(async () => {
        failIf();
        const s = await readStep();
        return s && s.step > first.step ? s : undefined;
      }, 60_000, `a step above ${first.step}`, 200));
      await d.check(`grew from ${first.text} to ${second.text}`, () => `${first.step} -> ${second.step}`);
      await d.waitForWebview(/\bcompleted\b/i, { timeout: 120_000 });
      await expectWebview(d, `the dashboard ends at step ${GROW_STEPS}/${GROW_STEPS}`, async () => (await readStep())?.text ?? '', (t) => t.endsWith(`step ${GROW_STEPS}/${GROW_STEPS}`));
      await d.check(`metrics.jsonl holds ${GROW_STEPS} step records (what the charts plot)`, () => {
        const run = runFolders(d.workspace)[0];
        const steps = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"step"')).length;
        if (steps !== GROW_STEPS) throw new Error(`${steps} step records`);
        return `${steps}`;
      });
      await clearNotifications(d);
      await d.screenshot('dashboard-curves.png', { settleMs: 1500, selector: '.part.editor' });
    },
  },
  {
    name: 'budget-calculator',
    description: 'Open Budget Calculator -> Vanilla keeps 105 epochs; Fast AdvProp p_adv 0.2, K 1, 105 epochs -> 87, sweep 94/87/79/70',
    workspaceFiles: tinyWorkspaceFiles(),
    async run(d) {
      await d.command('Fast AdvProp: Open Budget Calculator');
      await d.waitForWebview('Budget Calculator');
      await d.step('the form is ready', () => webviewFrame(d, '#epochs'));
      await chooseOption(d, '#method', 'vanilla');
      await expectWebview(d, 'Vanilla: epochs stay 105, cost factor 1', async () => [await rowValue(d, '#calibration', 'epochs'), await rowValue(d, '#calibration', 'cost factor')],
        ([e, c]) => /^105\b/.test(e) && c.startsWith('1.0000'));
      await chooseOption(d, '#method', 'fast-advprop');
      await d.webviewFill('#ratio input', '0.2');
      await d.webviewFill('#k input', '1');
      // Another epoch count first, so the 87 below is shown for the 105 typed afterwards.
      const at100 = calibrate({ method: 'fast-advprop', pAdv: 0.2, k: 1, epochs: 100, milestones: [30, 60, 90], sameBudget: true }).epochs;
      await d.webviewFill('#epochs input', '100');
      await expectWebview(d, `100 vanilla epochs -> ${at100}`, () => rowValue(d, '#calibration', 'epochs'), (e) => e === `${at100} (from 100)`);
      await d.webviewFill('#epochs input', '105');
      await expectWebview(d, 'calibrated epochs "87 (from 105)" (the paper\'s Table 4)', () => rowValue(d, '#calibration', 'epochs'), (e) => e === '87 (from 105)');
      await expectWebview(d, 'split 4:1 for p_adv 0.2', () => rowValue(d, '#calibration', 'split (C:A)'), (s) => s.startsWith('4:1'));
      await expectWebview(d, 'sweep table epochs 94 / 87 / 79 / 70', async () => {
        const f = await webviewFrame(d, '#sweep', 5000);
        return (await tableCells(f, '#sweep tbody tr')).map((r) => `${r[0]}:${r[3]}`);
      }, (rows) => rows.join(' ') === '0.11:94 0.20:87 0.33:79 0.50:70');
      await d.step('a taller window, so the sweep table fits the picture', async () => { await d.page.setViewportSize({ width: 1400, height: 1130 }); return ''; });
      await d.screenshot('budget-calculator.png', { settleMs: 800, selector: '.part.editor' });
    },
  },
  {
    name: 'compare-runs',
    description: 'Two tiny engine runs (vanilla, fast-advprop) -> Compare Runs, pick both -> cost-factor and accuracy deltas match their records; switching the baseline flips them',
    workspaceFiles: { ...tinyWorkspaceFiles(), 'vanilla.advprop.json': tinyConfigText({ method: 'vanilla', maxSteps: 12 }), 'fast.advprop.json': tinyConfigText({ maxSteps: 12 }) },
    async run(d) {
      const root = path.join(d.workspace, RUNS_FOLDER);
      const names = ['vanilla-tiny', 'fast-advprop-tiny'];
      await d.check('the engine trains two runs into the runs folder and evaluates them', async () => {
        await Promise.all([
          engine(['train', '--config', 'vanilla.advprop.json', '--run-dir', path.join(root, names[0])], d.workspace),
          engine(['train', '--config', 'fast.advprop.json', '--run-dir', path.join(root, names[1])], d.workspace),
        ]);
        await Promise.all(names.map((n) => engine(['evaluate', '--run', path.join(root, n), '--corruptions', 'gaussian_noise,fog', '--severities', '1,5', '--limit', '50'], d.workspace)));
        return names.map((n) => `${n}=${runState(path.join(root, n))}`).join(', ');
      });
      const rec = Object.fromEntries(names.map((n) => [n, {
        cost: readJson<{ schedule: { costFactor: number } }>(path.join(root, n, 'config.json')).schedule.costFactor,
        acc: readJson<{ clean: { accuracy: number } }>(path.join(root, n, 'results.json')).clean.accuracy * 100,
      }]));
      await d.command('Fast AdvProp: Compare Runs');
      await d.pick(names[0], { filter: false });
      await d.pick(names[1], { filter: false });
      await d.press('Enter');
      await d.waitForWebview('Compare Runs');
      const read = async () => {
        const f = await webviewFrame(d, '#results tbody tr', 5000);
        const head = (await tableCells(f, '#results thead tr'))[0].map((h) => h.replace(/ [↑↓]$/, ''));
        const rows = await tableCells(f, '#results tbody tr');
        const base = rows.find((r) => r[0].includes('(baseline)'));
        const other = rows.find((r) => !r[0].includes('(baseline)'));
        const col = (r: string[] | undefined, label: string) => (r ? r[head.indexOf(label)] ?? '' : '');
        return { base: base?.[0].replace(' (baseline)', '') ?? '', other: other?.[0] ?? '', cost: col(other, 'Cost factor'), clean: col(other, 'Clean acc.'), fog: col(other, 'fog') };
      };
      const want = (base: string, other: string) => ({
        cost: `${rec[other].cost.toFixed(3)}× ${expectedDelta(rec[other].cost, rec[base].cost, 3, '×')}`,
        clean: `${rec[other].acc.toFixed(2)} ${expectedDelta(rec[other].acc, rec[base].acc, 2, ' pp')}`,
      });
      const matches = (v: Awaited<ReturnType<typeof read>>) => names.includes(v.base) && names.includes(v.other) && v.base !== v.other
        && v.cost === want(v.base, v.other).cost && v.clean === want(v.base, v.other).clean && /[▲▼=]/.test(v.fog);
      const first = await expectWebview(d, 'the other run\'s cost factor and clean accuracy with their deltas against the baseline', read, matches);
      const firstBase = (JSON.parse(first) as { base: string }).base;
      const flipTo = names.find((n) => n !== firstBase)!;
      await clearNotifications(d);
      await d.screenshot('compare-runs.png', { settleMs: 800, selector: '.part.editor' });
      const baseDir = path.join(root, flipTo);
      await chooseOption(d, '#baseline', baseDir);
      await expectWebview(d, `with ${flipTo} as baseline the deltas flip`, read, (v) => v.base === flipTo && matches(v));
      await d.command('Fast AdvProp: Focus on Runs View');
      await d.waitForText(names[0]);
      await d.waitForText(names[1]);
      await d.screenshot('runs-view.png', { settleMs: 800 });
    },
  },
  {
    name: 'robustness',
    description: 'evaluate a tiny run (gaussian_noise, fog × severities 1, 5) -> Open Robustness Panel -> heatmap cells equal robustness.json; 5 thumbnails load',
    workspaceFiles: { ...tinyWorkspaceFiles(), 'robust.advprop.json': tinyConfigText({ maxSteps: 20 }) },
    async run(d) {
      const name = 'fast-advprop-robust';
      const dir = path.join(d.workspace, RUNS_FOLDER, name);
      await d.check('the engine trains a tiny run and evaluates its robustness', async () => {
        await engine(['train', '--config', 'robust.advprop.json', '--run-dir', dir], d.workspace);
        return (await engine(['evaluate', '--run', dir, '--corruptions', 'gaussian_noise,fog', '--severities', '1,5', '--limit', '50'], d.workspace)).trim().split('\n').slice(-3).join(' | ');
      });
      const record = readJson<{ clean: { accuracy: number }; corruptions: Record<string, { errors: (number | null)[] }>; thumbnails?: unknown[] }>(path.join(dir, 'robustness.json'));
      await d.check('robustness.json has 5 thumbnails (clean + 2 × 2)', () => { if (record.thumbnails?.length !== 5) throw new Error(`${record.thumbnails?.length} thumbnails`); return ''; });
      await d.command('Fast AdvProp: Open Robustness Panel');
      await d.step('pick the run if asked', () => pickIfAsked(d, name));
      await d.waitForWebview(`Robustness: ${name}`);
      const heatRow = (e: (number | null)[]) => {
        const xs = e.filter((x): x is number => typeof x === 'number');
        return [...[0, 1, 2, 3, 4].map((i) => pct1(e[i])), (100 * xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)].join(' ');
      };
      for (const [c, label] of [['gaussian_noise', 'gaussian noise'], ['fog', 'fog']] as const) {
        const want = heatRow(record.corruptions[c].errors);
        await expectWebview(d, `heatmap row "${label}" = ${want}`, async () => {
          const f = await webviewFrame(d, '#heatmap', 5000);
          return (await tableCells(f, '#heatmap tbody tr')).find((r) => r[0] === label)?.slice(1).join(' ') ?? '';
        }, (v) => v === want);
      }
      const acc = `${(record.clean.accuracy * 100).toFixed(2)} %`;
      await expectWebview(d, `clean accuracy chip ${acc}`, async () => textOf(await webviewFrame(d, '.chips', 5000), '.chips'), (t) => t.includes(`clean accuracy${acc}`) || t.includes(`clean accuracy ${acc}`));
      await expectWebview(d, 'the Samples strip shows 5 loaded 56 px thumbnails with their captions', async () => {
        const f = await webviewFrame(d, '#thumbnails', 5000);
        return f.$$eval('#thumbnails figure', (figs) => figs.map((fig) => {
          const img = fig.querySelector('img') as unknown as { complete: boolean; naturalWidth: number } | null;
          return `${((fig.querySelector('figcaption') as unknown as { textContent: string } | null)?.textContent ?? '').trim()}:${img && img.complete ? img.naturalWidth : 0}`;
        }));
      }, (v) => v.join(', ') === 'clean:56, gaussian noise 1:56, gaussian noise 5:56, fog 1:56, fog 5:56');
      await d.step('scroll the samples into view', async () => {
        const f = await webviewFrame(d, '#thumbnails', 5000);
        await f.$eval('#thumbnails', (e) => (e as unknown as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: 'end' }));
        return '';
      });
      await clearNotifications(d);
      await d.screenshot('robustness.png', { settleMs: 800, selector: '.part.editor' });
    },
  },
  {
    name: 'long-run-dashboard',
    description: `a finished run with ${LONG_STEPS} step records (written by hand) -> Open Dashboard -> the charts hold every point but draw a min-max reduction no wider than 4 points per pixel`,
    workspaceFiles: { ...tinyWorkspaceFiles(), ...longRunFiles() },
    async run(d) {
      await d.command('Fast AdvProp: Open Dashboard');
      await d.step('pick the run if asked', () => pickIfAsked(d, LONG_RUN));
      await d.waitForWebview(/\bcompleted\b/i, { timeout: 60_000 });
      await expectWebview(d, `the header reads step ${LONG_STEPS}/${LONG_STEPS}`, async () => textOf(await webviewFrame(d, 'canvas', 5000), 'body'), (t) => t.includes(`step ${LONG_STEPS}/${LONG_STEPS}`), 30_000);
      const charts = await expectWebview(d, 'every step chart holds all points and draws at most 4 per pixel of its width', async () => {
        const f = await webviewFrame(d, 'canvas', 5000);
        return f.$$eval('canvas', (cs) => cs.map((c) => {
          const el = c as unknown as { dataset: Record<string, string>; clientWidth: number };
          return { points: Number(el.dataset.points), drawn: Number(el.dataset.drawn), width: el.clientWidth };
        }));
      }, (cs) => {
        const step = cs.filter((c) => c.points === LONG_STEPS);
        // loss, train accuracy, learning rate, images/s: four charts indexed by step.
        return step.length === 4 && step.every((c) => c.width > 0 && c.drawn > 0 && c.drawn <= 4 * c.width + 4 && c.drawn < LONG_STEPS);
      }, 30_000);
      await d.check('charts', () => charts);
      // Records appended to a decimated chart land in the full series, and the reduction follows.
      const more = 500;
      await d.check(`append ${more} step records to metrics.jsonl, as a running engine would`, () => {
        const file = path.join(d.workspace, RUNS_FOLDER, LONG_RUN, 'metrics.jsonl');
        const last = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'step').pop();
        const lines = Array.from({ length: more }, (_, i) => JSON.stringify({ ...last, step: LONG_STEPS + i + 1, loss: i === more - 1 ? 9 : last.loss }));
        fs.appendFileSync(file, lines.join('\n') + '\n');
        return `${lines.length} lines`;
      });
      await expectWebview(d, `the step charts now hold ${LONG_STEPS + more} points and still draw at most 4 per pixel`, async () => {
        const f = await webviewFrame(d, 'canvas', 5000);
        return f.$$eval('canvas', (cs) => cs.map((c) => {
          const el = c as unknown as { dataset: Record<string, string>; clientWidth: number };
          return { points: Number(el.dataset.points), drawn: Number(el.dataset.drawn), width: el.clientWidth };
        }));
      }, (cs) => {
        const step = cs.filter((c) => c.points === LONG_STEPS + more);
        return step.length === 4 && step.every((c) => c.drawn > 0 && c.drawn <= 4 * c.width + 4);
      }, 30_000);
    },
  },
];


/** A finished 20,000-step run under the default runs folder, with a noisy falling loss. */
function longRunFiles(): Record<string, string> {
  const files = fakeRunFiles({
    name: LONG_RUN, writtenBy: 'the long-run-dashboard scenario', epochs: 100, stepsPerEpoch: LONG_STEPS / 100,
    step: (step) => {
      const loss = 2 * Math.exp(-step / 5000) + 0.1 * Math.sin(step * 0.37) + 0.3;
      return { loss, clean: { loss, acc: Math.min(0.95, step / 25_000), images: 64 }, imagesPerSecond: 500 + 50 * Math.sin(step / 100) };
    },
    epochRecords: Array.from({ length: 100 }, (_, i) => ({ epoch: i, step: (i + 1) * 200, test: { loss: 1, acc: 0.5 + i / 250 }, train: { loss: 1, acc: 0.5 + i / 240 }, seconds: 60 })),
  });
  return Object.fromEntries(Object.entries(files).map(([f, text]) => [`${RUNS_FOLDER}/${LONG_RUN}/${f}`, text]));
}

