// Runs another trainer wrote (#18): the real-writer fixtures (tensorboardX event files, log.txt,
// the ImageNet-C log) listed through fastAdvprop.extraRunFolders beside one run of ours; the Runs
// view shows their origin, the dashboard their leak alarm per epoch without Resume or a config to
// open, and Compare the reference run's last test accuracy beside ours. Screenshots for the docs:
// foreign-runs-view.png, foreign-dashboard.png, foreign-compare.png (copied to docs/images/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { RUNS_FOLDER, engine, expectWebview, park, readJson, tableCells, textOf, tinyConfigText, webviewFrame } from './helpers';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/foreign');
const OTHER = 'other-trainers';
const OURS = 'fast-advprop-tiny';

/** Name, size, mtime and bytes of everything under a folder. */
function fingerprint(dir: string): string {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort().map((n) => {
    const f = path.join(dir, n);
    const st = fs.statSync(f);
    return `${n}:${st.size}:${st.mtimeMs}:${st.isFile() ? fs.readFileSync(f).toString('base64') : 'dir'}`;
  }).join('\n');
}

async function clearNotifications(d: Driver): Promise<void> {
  await d.command('Notifications: Clear All Notifications');
  await d.press('Escape');
}

export const foreignScenario: Scenario = {
  name: 'foreign-runs',
  description: 'the PyTorch reference\'s run folders (real tensorboardX event files) in fastAdvprop.extraRunFolders -> Runs view group "PyTorch reference"; dashboard leak alarm per epoch, no Resume; Compare beside a run of ours; their folders unchanged',
  workspaceFiles: { ...tinyWorkspaceFiles(), 'fast.advprop.json': tinyConfigText({ maxSteps: 12 }) },
  settings: { 'fastAdvprop.extraRunFolders': [OTHER] },
  async run(d) {
    const other = path.join(d.workspace, OTHER);
    const ours = path.join(d.workspace, RUNS_FOLDER, OURS);
    const before = await d.check('the reference runs are copied in and one of ours is trained and evaluated', async () => {
      for (const n of ['reference-run', 'reference-leak']) fs.cpSync(path.join(FIXTURES, n), path.join(other, n), { recursive: true });
      await engine(['train', '--config', 'fast.advprop.json', '--run-dir', ours], d.workspace);
      await engine(['evaluate', '--run', ours, '--corruptions', 'gaussian_noise,fog', '--severities', '1,5', '--limit', '50'], d.workspace);
      return fingerprint(other).length.toString();
    });
    const snapshot = fingerprint(other);

    await d.click('.activitybar .action-item a[aria-label^="Fast AdvProp"]');
    await d.waitForText('PyTorch reference');
    await d.step('the reference runs are listed under "PyTorch reference" with their accuracy and mCE uncut', () => d.poll(async () => {
      const rows = await d.page.$$eval('.part.sidebar .monaco-list-row', (els) => els.map((r) => ({
        label: ((r.querySelector('.label-name') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
        description: ((r.querySelector('.label-description') as unknown as { innerText?: string } | null)?.innerText ?? '').trim(),
      })));
      const row = rows.find((x) => x.label === 'reference-run');
      const group = rows.findIndex((x) => x.label === 'PyTorch reference');
      const at = rows.findIndex((x) => x.label === 'reference-run');
      return row && group >= 0 && at > group && /^\d+\.\d% · mCE \d+\.\d$/.test(row.description) ? JSON.stringify(rows) : undefined;
    }, 15_000, 'the row "reference-run — …% · mCE …" under the group "PyTorch reference"'));
    await clearNotifications(d);
    await park(d);
    await d.screenshot('foreign-runs-view.png', { settleMs: 800, selector: '.part.sidebar' });

    await d.command('Fast AdvProp: Open Dashboard');
    await d.pick('reference-leak (PyTorch reference)', { filter: false });
    await expectWebview(d, 'the leaky reference run: its origin, the alarm per epoch, no Resume and no config to open', async () => {
      const f = await webviewFrame(d, '#leak-banner', 15_000, 'reference-leak');
      return {
        origin: await textOf(f, '#origin'), alarm: await textOf(f, '#leak-banner strong'),
        resume: Boolean(await f.$('#resume')), fix: Boolean(await f.$('#apply-leak-fix')),
      };
    }, (v) => /^written by ?PyTorch reference · read-only$/.test(v.origin) && /^Label leak: adversarial train accuracy [\d.]+ % is above clean [\d.]+ % \(epoch \d+\)\.$/.test(v.alarm) && !v.resume && !v.fix);
    await clearNotifications(d);
    await park(d);
    await d.screenshot('foreign-dashboard.png', { settleMs: 1200, selector: '.part.editor' });

    const expected = readJson<{ runs: Record<string, Record<string, [number, number][]>> }>(path.join(FIXTURES, 'expected.json')).runs['reference-run']['Test/acc'];
    const refAcc = (expected[expected.length - 1][1]).toFixed(2);
    const oursAcc = (readJson<{ clean: { accuracy: number } }>(path.join(ours, 'results.json')).clean.accuracy * 100).toFixed(2);
    await d.command('Fast AdvProp: Compare Runs');
    await d.pick('reference-run (PyTorch reference)', { filter: false });
    await d.pick(OURS, { filter: false });
    await d.press('Enter');
    await d.waitForWebview('Compare Runs');
    await expectWebview(d, `Compare: the reference run at its last test accuracy ${refAcc}, ours at ${oursAcc}`, async () => {
      const f = await webviewFrame(d, '#results tbody tr', 5000);
      const head = (await tableCells(f, '#results thead tr'))[0].map((h) => h.replace(/ [↑↓]$/, ''));
      const rows = await tableCells(f, '#results tbody tr');
      const cell = (name: string, col: string) => rows.find((r) => r[0].startsWith(name))?.[head.indexOf(col)] ?? '';
      return { ref: cell('reference-run (PyTorch reference)', 'Clean acc.'), ours: cell(OURS, 'Clean acc.'), mce: cell('reference-run (PyTorch reference)', 'mCE') };
    }, (v) => v.ref.startsWith(refAcc) && v.ours.startsWith(oursAcc) && /^\d+\.\d\d/.test(v.mce));
    await clearNotifications(d);
    await park(d);
    await d.screenshot('foreign-compare.png', { settleMs: 1200, selector: '.part.editor' });

    await d.check('nothing in the other trainers\' folders changed (bytes, sizes, mtimes)', () => {
      if (fingerprint(other) !== snapshot) throw new Error('a foreign run folder was written to');
      return `${before} fingerprint characters unchanged`;
    });
  },
};
