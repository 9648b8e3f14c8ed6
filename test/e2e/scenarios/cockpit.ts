// Issue #16: the cockpit as a new user meets it. Each scenario checks what is on screen (a quick
// pick's rows, a notification, the status bar, a webview), not the extension's internals.
import * as path from 'node:path';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Scenario } from '../scenarios';
import { RUNS_FOLDER, engine, readJson, tinyConfigText } from './helpers';

export const cockpitScenarios: Scenario[] = [
  {
    name: 'evaluate-subset',
    description: 'Evaluate Robustness offers subsets; "Quick" measures 4 corruptions × severity 3 only, ends with a notification, and is offered first next time',
    workspaceFiles: { ...tinyWorkspaceFiles(), 'subset.advprop.json': tinyConfigText({ maxSteps: 3 }) },
    async run(d) {
      const name = 'fast-advprop-subset';
      const dir = path.join(d.workspace, RUNS_FOLDER, name);
      await d.check('the engine trains a tiny run', async () => (await engine(['train', '--config', 'subset.advprop.json', '--run-dir', dir], d.workspace)).trim().split('\n').slice(-1)[0]);
      await d.command('Fast AdvProp: Evaluate Robustness');
      await d.pick(name);
      const rows = await d.step('the subset picker offers all, quick, clean + PGD and custom', () => d.poll(async () => {
        const l = await d.visibleQuickPickLabels();
        return l.length === 4 ? l : undefined;
      }, 10_000, 'four subset rows'));
      await d.check('the full set says how many cells it costs', () => {
        if (!rows.some((r) => r.startsWith('All 15 corruptions × 5 severities'))) throw new Error(`rows: ${rows.join(' | ')}`);
        return rows.join(' | ');
      });
      await d.pick('Quick: 4 corruptions × severity 3', { filter: false });
      await d.waitForText(`Fast AdvProp: robustness of ${name} evaluated: clean accuracy`, { timeout: 120_000 });
      await d.waitForText('Open Robustness Panel', { timeout: 5_000 });
      await d.check('robustness.json holds exactly the 4 quick corruptions, severity 3 only', () => {
        const r = readJson<{ corruptions: Record<string, { errors: (number | null)[] }> }>(path.join(dir, 'robustness.json'));
        const got = Object.entries(r.corruptions).map(([c, v]) => `${c}:${v.errors.map((e) => (e === null ? '-' : 'x')).join('')}`).sort().join(' ');
        const want = ['contrast', 'defocus_blur', 'fog', 'gaussian_noise'].map((c) => `${c}:--x--`).join(' ');
        if (got !== want) throw new Error(`got ${got}, want ${want}`);
        return got;
      });
      await d.command('Fast AdvProp: Evaluate Robustness');
      await d.pick(name);
      const again = await d.step('the second time, the last choice comes first', () => d.poll(async () => {
        const l = await d.visibleQuickPickLabels();
        return l.length === 4 ? l : undefined;
      }, 10_000, 'four subset rows'));
      await d.check('first row is "Quick"', () => {
        if (!again[0].startsWith('Quick:')) throw new Error(`rows: ${again.join(' | ')}`);
        return again[0];
      });
      await d.press('Escape');
    },
  },
];
