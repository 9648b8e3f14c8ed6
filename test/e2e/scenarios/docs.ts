// The README's and docs/panels.md's pictures, from what a user's first session produces: the
// built-in default job trained from the palette (not a tiny test run), its dashboard in the light
// and the dark theme, its full robustness evaluation and the Runs view. Minutes of training, so it
// runs only when named: `node out/test/e2e/runE2e.js --scenario docs-screenshots`; the pictures
// land in test-artifacts/e2e/docs-*.png and are copied to docs/images/ by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { engine, ensureDashboard, park, readJson, runFolders, runState, tableCells, webviewFrame } from './helpers';

async function clearNotifications(d: Driver): Promise<void> {
  await d.command('Notifications: Clear All Notifications');
  await d.press('Escape');
}


/** Switches the colour theme through the workspace settings, as a user's settings.json would. */
function setTheme(d: Driver, theme: string | undefined): void {
  const file = path.join(d.workspace, '.vscode', 'settings.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (theme) settings['workbench.colorTheme'] = theme;
  else delete settings['workbench.colorTheme'];
  fs.writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
}

export const docsScenario: Scenario = {
  name: 'docs-screenshots',
  description: 'the built-in default job from the palette -> completed at its real accuracy; dashboard (light, dark), full robustness evaluation, Compare against a real vanilla run and Runs view screenshots for the docs',
  manual: true,
  workspaceFiles: tinyWorkspaceFiles(),
  timeoutMs: 30 * 60_000,
  async run(d) {
    await d.command('Fast AdvProp: Start Training');
    await d.pick('Built-in default', { filter: false });
    const dir = await d.step('a run folder appears', () => d.poll(() => runFolders(d.workspace)[0], 60_000, 'a run folder'));
    const name = path.basename(dir);
    await d.step('dashboard webview is open', () => ensureDashboard(d));
    const failIf = () => (['failed', 'stopped'].includes(runState(dir) ?? '') ? `run ended as ${runState(dir)}` : undefined);
    await d.waitForWebview(/\bcompleted\b/i, { timeout: 15 * 60_000, failIf });
    const acc = await d.check('the default run reaches a real accuracy (≥ 80 %)', () => {
      const a = readJson<{ clean: { accuracy: number } }>(path.join(dir, 'results.json')).clean.accuracy;
      if (!(a >= 0.8)) throw new Error(`test accuracy ${a}`);
      return `${(a * 100).toFixed(1)} %`;
    });
    await d.waitForText(`Fast AdvProp: run ${name} completed: test accuracy`, { timeout: 30_000 });
    await clearNotifications(d);
    await park(d);
    await d.screenshot('docs-dashboard-light.png', { settleMs: 1500, selector: '.part.editor' });
    await d.step('switch to Default Dark Modern', async () => { setTheme(d, 'Default Dark Modern'); return ''; });
    await park(d);
    await d.screenshot('docs-dashboard-dark.png', { settleMs: 3000, selector: '.part.editor' });
    await d.step('back to the default theme', async () => { setTheme(d, undefined); return ''; });

    await d.command('Fast AdvProp: Evaluate Robustness');
    const picker = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 10_000, 'a picker');
    if (picker.some((l) => l.includes(name))) await d.pick(name, { filter: false });
    await d.pick('All 15 corruptions × 5 severities', { filter: false });
    await d.waitForText(`Fast AdvProp: robustness of ${name} evaluated: clean accuracy`, { timeout: 20 * 60_000 });
    await clearNotifications(d);
    await d.command('Fast AdvProp: Open Robustness Panel');
    const runPick = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 5000, 'a run picker').catch(() => [] as string[]);
    if (runPick.length) await d.pick(name, { filter: false });
    await d.waitForWebview(`Robustness: ${name}`);
    await park(d);
    await d.screenshot('docs-robustness.png', { settleMs: 1500, selector: '.part.editor' });

    // Compare needs a second real run: the same default job as vanilla training, from a terminal
    // like a user's second run, evaluated on the same full suite.
    const vanilla = path.join(path.dirname(dir), 'vanilla-default');
    await d.check('a terminal trains the default job as vanilla and evaluates it on all 76 cells', async () => {
      await engine(['train', '--method', 'vanilla', '--run-dir', vanilla], d.workspace, 15 * 60_000);
      await engine(['evaluate', '--run', vanilla], d.workspace, 20 * 60_000);
      const a = readJson<{ clean: { accuracy: number } }>(path.join(vanilla, 'results.json')).clean.accuracy;
      if (!(a >= 0.8)) throw new Error(`vanilla test accuracy ${a}`);
      return `${(a * 100).toFixed(1)} %`;
    });
    await d.command('Fast AdvProp: Compare Runs');
    await d.pick('vanilla-default', { filter: false });
    await d.pick(name, { filter: false });
    await d.press('Enter');
    await d.waitForWebview('Compare Runs');
    await d.check('Compare lists both real runs', async () => {
      const rows = await tableCells(await webviewFrame(d, '#results tbody tr', 10_000), '#results tbody tr');
      if (rows.length !== 2) throw new Error(`rows: ${JSON.stringify(rows)}`);
      return rows.map((r) => r[0]).join(' | ');
    });
    await clearNotifications(d);
    await park(d);
    await d.screenshot('docs-compare-runs.png', { settleMs: 1500, selector: '.part.editor' });

    await d.command('Fast AdvProp: Focus on Runs View');
    await d.waitForText(acc.replace(' %', '%'));
    await park(d);
    await d.screenshot('docs-runs-view.png', { settleMs: 800 });
  },
};
