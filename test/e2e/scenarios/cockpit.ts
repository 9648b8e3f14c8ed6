// Issue #16: the cockpit as a new user meets it. Each scenario checks what is on screen (a quick
// pick's rows, a notification, the status bar, a webview), not the extension's internals.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TINY_CONFIG_FILE, tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { fakeRunFiles, type FakeRun } from '../../fixtures/runFolder';
import { RUNS_FOLDER, engine, expectWebview, readJson, runFolders, runState, stopFromPalette, tableCells, textOf, tinyConfigText, webviewFrame } from './helpers';

const VANILLA = 'vanilla-short';
const FAST = 'fast-same-budget';

function runFiles(run: FakeRun): Record<string, string> {
  return Object.fromEntries(Object.entries(fakeRunFiles(run)).map(([f, text]) => [`${RUNS_FOLDER}/${run.name}/${f}`, text]));
}

/** A computed CSS colour, `rgb(…)`, `rgba(…)` or `color(srgb r g b)`, as 0–255 channels. */
function channels(css: string): number[] {
  const srgb = /color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)/.exec(css);
  if (srgb) return srgb.slice(1, 4).map((x) => Number(x) * 255);
  const rgb = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)/.exec(css);
  if (rgb) return rgb.slice(1, 4).map(Number);
  throw new Error(`unreadable colour ${css}`);
}

function luminance(css: string): number {
  const [r, g, b] = channels(css).map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two opaque colours. */
function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}


/** Waits until the run in `dir` has logged step 2 in its status.json (it is really training). */
function trainsAFewSteps(d: Driver, dir: string): Promise<string> {
  return d.check('the run trains a few steps', () => d.poll(() => {
    try {
      const st = readJson<{ progress?: { step: number } }>(path.join(dir, 'status.json'));
      return (st.progress?.step ?? 0) >= 2 ? `step ${st.progress!.step}` : undefined;
    } catch {
      return undefined;
    }
  }, 120_000, 'step ≥ 2'));
}
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
  {
    name: 'settings-that-apply',
    description: 'a vanilla run\'s dashboard shows no K / p_adv / shuffle BN and no milestone past its last epoch; the Start Training pick and Compare explain 5 trained vs 6 vanilla-equivalent epochs',
    workspaceFiles: {
      ...tinyWorkspaceFiles(),
      ...runFiles({ name: VANILLA, writtenBy: 'settings-that-apply', epochs: 1, stepsPerEpoch: 4, milestones: [4], costFactor: 1, config: { method: 'vanilla', epochs: 1, milestones: [4] } }),
      ...runFiles({ name: FAST, writtenBy: 'settings-that-apply', epochs: 5, stepsPerEpoch: 4, milestones: [3], costFactor: 1.2, config: { method: 'fast-advprop', epochs: 6, milestones: [4], sameBudget: true } }),
    },
    async run(d) {
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick(VANILLA);
      await d.waitForWebview(VANILLA);
      await expectWebview(d, 'the vanilla chips are method and backend only', async () => textOf(await webviewFrame(d, '.chips', 10_000, VANILLA), '.chips'),
        (t) => t.includes('vanilla') && !/\bK\b|p_adv|shuffle BN/.test(t));
      await expectWebview(d, 'the schedule reads "cost factor 1.000 · 1 epoch" (milestone 4 never applies)', async () => textOf(await webviewFrame(d, '#schedule', 10_000, VANILLA), '#schedule'),
        (t) => t === 'cost factor 1.000 · 1 epoch');
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick(FAST);
      await expectWebview(d, 'the Fast AdvProp dashboard explains 5 vs 6 epochs', async () => textOf(await webviewFrame(d, '#schedule', 10_000, FAST), '#schedule'),
        (t) => t === 'cost factor 1.200 · 5 epochs (6 vanilla-equivalent, same budget), milestones 3');
      await d.command('Fast AdvProp: Start Training');
      const rows = await d.step('the config pick is open', () => d.poll(async () => {
        const r = await d.visibleQuickPickRows();
        return r.length ? r : undefined;
      }, 10_000, 'config rows'));
      await d.check('the built-in default says what it trains', () => {
        const row = rows.find((r) => r.label.includes('Built-in default'));
        if (row?.description !== 'resnet8, split 4:1, 5 epochs (6 vanilla-equivalent, same budget)') throw new Error(`rows: ${JSON.stringify(rows)}`);
        return row.description;
      });
      await d.press('Escape');
      await d.command('Fast AdvProp: Compare Runs');
      await d.pick(VANILLA, { filter: false });
      await d.pick(FAST, { filter: false });
      await d.press('Enter');
      await expectWebview(d, 'Compare\'s epochs row explains the same-budget run', async () => {
        const f = await webviewFrame(d, '#config-diff', 20_000);
        return (await tableCells(f, '#config-diff tbody tr')).find((r) => r[0] === 'epochs')?.slice(1) ?? [];
      }, (v) => v.includes('1') && v.includes('5 epochs (6 vanilla-equivalent, same budget)'));
    },
  },
  {
    name: 'runs-view-fits',
    description: 'at the default sidebar width the Runs view shows generated runs as "FastAP 01:58" with accuracy and mCE in full; the Stopped group is open',
    workspaceFiles: {
      ...tinyWorkspaceFiles(),
      ...runFiles({
        name: 'fast-advprop-20261207-015812', writtenBy: 'runs-view-fits', epochs: 5, stepsPerEpoch: 4,
        results: { clean: { accuracy: 0.871, loss: 0.4 } }, robustness: { summary: { mCE: 78.4, meanCorruptionError: 20 } },
      }),
      ...runFiles({
        name: 'vanilla-20261207-020311', state: 'stopped', writtenBy: 'runs-view-fits', epochs: 6, stepsPerEpoch: 4, costFactor: 1,
        config: { method: 'vanilla' }, epochRecords: [{ epoch: 0, step: 4, test: { loss: 0.6, acc: 0.802 }, train: { loss: 0.6, acc: 0.8 }, seconds: 3 }],
      }),
    },
    async run(d) {
      await d.click('.activitybar .action-item a[aria-label^="Fast AdvProp"]');
      await d.waitForText('FastAP 01:58');
      // What the row shows: its label, its description, and how much of the description is on
      // screen: the workbench cuts an overflowing row with an ellipsis, hiding whatever comes last.
      const rows = () => d.page.$$eval('.part.sidebar .monaco-list-row', (els) => els.map((r) => {
        const text = (sel: string) => ((r.querySelector(sel) as unknown as { innerText?: string } | null)?.innerText ?? '').trim();
        const c = r.querySelector('.monaco-icon-label-container') as unknown as { getBoundingClientRect(): { right: number } } | null;
        const desc = r.querySelector('.label-description') as unknown as { firstChild: unknown; textContent: string } | null;
        // The text that ends left of the container's edge, less room for the ellipsis.
        let shown = '';
        if (c && desc?.firstChild) {
          const edge = c.getBoundingClientRect().right - 14;
          const doc = (r as unknown as { ownerDocument: { createRange(): { setStart(n: unknown, o: number): void; setEnd(n: unknown, o: number): void; getBoundingClientRect(): { right: number } } } }).ownerDocument;
          for (let i = desc.textContent.length; i > 0; i--) {
            const range = doc.createRange();
            range.setStart(desc.firstChild, 0);
            range.setEnd(desc.firstChild, i);
            if (range.getBoundingClientRect().right <= edge) { shown = desc.textContent.slice(0, i); break; }
          }
        }
        return { label: text('.label-name'), description: text('.label-description'), shown, expanded: r.getAttribute('aria-expanded') };
      }));
      const all = await d.step('the view lists both groups and both runs', () => d.poll(async () => {
        const r = await rows();
        return r.some((x) => x.label === 'Vanilla 02:03') ? r : undefined;
      }, 10_000, 'the stopped run\'s row (the Stopped group open)'));
      await d.check('the Stopped group starts expanded', () => {
        const g = all.find((x) => x.label === 'Stopped');
        if (g?.expanded !== 'true') throw new Error(`rows: ${JSON.stringify(all)}`);
        return 'Stopped expanded';
      });
      for (const [label, want] of [['FastAP 01:58', '87.1% · mCE 78.4'], ['Vanilla 02:03', '80.2%']] as const) {
        await d.check(`"${label}" shows "${want}" uncut`, () => {
          const row = all.find((x) => x.label === label);
          if (!row || !row.shown.startsWith(want)) throw new Error(`row: ${JSON.stringify(row)}; all: ${JSON.stringify(all)}`);
          return `${row.label} — ${row.shown} (of "${row.description}")`;
        });
      }
    },
  },
  {
    name: 'stopped-log-hint',
    description: 'a run started from the palette and stopped from the palette: the engine log (Show Log) says to resume from the Runs view or the dashboard, not "fast-advprop train --resume"',
    workspaceFiles: { ...tinyWorkspaceFiles(), 'hint.advprop.json': tinyConfigText({ maxSteps: 0, logEvery: 1 }) },
    async run(d) {
      await d.command('Fast AdvProp: Start Training');
      await d.pick('hint.advprop.json');
      const dir = await d.step('a run folder appears', () => d.poll(() => runFolders(d.workspace)[0], 60_000, 'a run folder'));
      await trainsAFewSteps(d, dir);
      await stopFromPalette(d, dir);
      await d.command('Fast AdvProp: Show Log');
      await d.waitForText('resume it from the Runs view or the dashboard\'s Resume button', { timeout: 20_000 });
      await d.check('the engine\'s output names no CLI command', () => {
        const log = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
        if (/continue with|fast-advprop train/.test(log)) throw new Error(`log: ${log.slice(-600)}`);
        return log.trim().split('\n').filter((l) => l.includes('stopped at step')).join(' | ');
      });
    },
  },
  {
    name: 'leak-state',
    description: 'the dashboard says "no leak: adv 81 % < clean 86 %" when the detector cleared the run, and shows the alarm (without that line) when it flagged one',
    workspaceFiles: {
      ...tinyWorkspaceFiles(),
      ...runFiles({
        name: 'no-leak-run', writtenBy: 'leak-state', epochs: 2, stepsPerEpoch: 4,
        results: { leak: { flagged: false, clean: 0.862, adv: 0.811, step: 8, message: 'no leak: adversarial 81.1% vs clean 86.2% train accuracy over the last 5 intervals' } },
      }),
      ...runFiles({
        name: 'leaking-run', writtenBy: 'leak-state', epochs: 2, stepsPerEpoch: 4,
        results: { leak: { flagged: true, clean: 0.733, adv: 0.88, step: 8, message: 'possible label leaking' } },
      }),
    },
    async run(d) {
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick('no-leak-run');
      await expectWebview(d, 'the cleared run says "no leak: adv 81 % < clean 86 %"', async () => {
        const f = await webviewFrame(d, '#leak-state', 15_000, 'no-leak-run');
        return { line: await textOf(f, '#leak-state'), alarm: await textOf(f, '#leak-banner') };
      }, (v) => v.line === 'no leak: adv 81 % < clean 86 %' && v.alarm === '');
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick('leaking-run');
      await expectWebview(d, 'the leaking run shows the alarm and no "no leak" line', async () => {
        const f = await webviewFrame(d, '#leak-banner', 15_000, 'leaking-run');
        return { line: await textOf(f, '#leak-state'), alarm: await textOf(f, '#leak-banner strong') };
      }, (v) => v.line === '' && v.alarm.startsWith('Label leak: adversarial train accuracy 88.0 % is above clean 73.3 %'));
    },
  },
  {
    name: 'theme-switch-axes',
    description: 'switching to a dark theme with the dashboard open redraws every chart\'s axis titles in the new theme\'s text colour (contrast ≥ 4.5 on the panel background)',
    workspaceFiles: { ...tinyWorkspaceFiles(), ...runFiles({ name: 'themed-run', writtenBy: 'theme-switch-axes', epochs: 2, stepsPerEpoch: 4 }) },
    async run(d) {
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick('themed-run');
      const titles = async () => {
        const f = await webviewFrame(d, 'canvas[data-title-color]', 15_000, 'themed-run');
        return f.evaluate(() => {
          const doc = (globalThis as unknown as { document: { body: { className: string; append(e: unknown): void }; createElement(t: string): { style: Record<string, string>; remove(): void }; querySelectorAll(s: string): ArrayLike<{ dataset: Record<string, string> }> } }).document;
          const css = (prop: 'color' | 'backgroundColor', value: string) => {
            const probe = doc.createElement('span');
            probe.style[prop] = value;
            doc.body.append(probe);
            const out = (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(probe)[prop];
            probe.remove();
            return out;
          };
          return {
            dark: doc.body.className.includes('vscode-dark'),
            background: css('backgroundColor', 'var(--vscode-editor-background)'),
            titles: Array.from(doc.querySelectorAll('canvas[data-title-color]')).map((c) => css('color', c.dataset.titleColor)),
          };
        });
      };
      await expectWebview(d, 'light theme: the axis titles are readable', titles, (v) => !v.dark && v.titles.length >= 4 && v.titles.every((c) => contrastRatio(c, v.background) >= 4.5));
      await d.check('switch the workspace to Default Dark Modern', () => {
        const file = path.join(d.workspace, '.vscode', 'settings.json');
        fs.writeFileSync(file, JSON.stringify({ ...readJson(file), 'workbench.colorTheme': 'Default Dark Modern' }, null, 2) + '\n');
      });
      await expectWebview(d, 'dark theme: every chart\'s axis titles follow it', titles, (v) => v.dark && v.titles.length >= 4 && v.titles.every((c) => contrastRatio(c, v.background) >= 4.5 && luminance(c) > 0.4), 20_000);
      await d.screenshot('dashboard-theme-switched.png', { settleMs: 500 });
    },
  },
  {
    name: 'dashboard-starting',
    description: 'right after Start Training the dashboard says "starting…" until the engine\'s first status and config arrive, never "UNKNOWN", "method –" or "of ? planned"',
    workspaceFiles: tinyWorkspaceFiles(),
    async run(d) {
      await d.command('Fast AdvProp: Start Training');
      await d.pick(TINY_CONFIG_FILE);
      const f = await d.step('the dashboard appears', () => d.poll(() => d.findWebviewFrame({ selector: '#state' }), 30_000, 'a dashboard', 50).then((x) => x));
      // Every state the header goes through, and whether a placeholder was ever on screen; a
      // MutationObserver in the page sees renders that polling from here would miss.
      await f.evaluate(() => {
        // Runs in the webview; the test build has no DOM types, hence the narrow casts.
        type Seen = { states: string[]; placeholders: string[] };
        const g = globalThis as unknown as {
          seen: Seen;
          document: { body: { innerText: string }; getElementById(id: string): { innerText: string } | null };
          MutationObserver: new (cb: () => void) => { observe(target: unknown, o: Record<string, boolean>): void };
        };
        g.seen = { states: [], placeholders: [] };
        const look = () => {
          const st = g.document.getElementById('state')?.innerText ?? '';
          if (st && g.seen.states[g.seen.states.length - 1] !== st) g.seen.states.push(st);
          const body = g.document.body.innerText;
          for (const p of [/\bunknown\b/i, /method\s*–/, /of \? planned/]) if (p.test(body) && !g.seen.placeholders.includes(String(p))) g.seen.placeholders.push(String(p));
        };
        look();
        new g.MutationObserver(look).observe(g.document.body, { subtree: true, childList: true, characterData: true });
      });
      await d.waitForWebview(/\bcompleted\b/i, { timeout: 180_000 });
      const seen = await f.evaluate(() => (globalThis as unknown as { seen: { states: string[]; placeholders: string[] } }).seen);
      await d.check('the header went from "starting…" to running/completed', () => {
        if (!/^starting…$/i.test(seen.states[0] ?? '') || !/completed/i.test(seen.states[seen.states.length - 1] ?? '')) throw new Error(`states: ${seen.states.join(' -> ')}`);
        return seen.states.join(' -> ');
      });
      await d.check('no placeholder was ever shown', () => {
        if (seen.placeholders.length) throw new Error(`shown: ${seen.placeholders.join(', ')} (states ${seen.states.join(' -> ')})`);
        return 'none';
      });
    },
  },
  {
    name: 'readable-panels',
    description: 'Compare of two runs has no blank column; the budget calculator lists "FastAP 01:58" with the full name on hover; the robustness heatmap\'s hot cells print light text at contrast ≥ 4.5',
    workspaceFiles: {
      ...tinyWorkspaceFiles(),
      ...runFiles({
        name: 'fast-advprop-20261207-015812', writtenBy: 'readable-panels', epochs: 2, stepsPerEpoch: 4,
        robustness: {
          schema: 1, createdAt: new Date().toISOString(), source: 'in-memory', images: 64, clean: { accuracy: 0.7, error: 0.3 },
          corruptions: { fog: { family: 'weather', errors: [0.3, 0.35, 0.4, 0.5, 0.6] }, gaussian_noise: { family: 'noise', errors: [0.4, 0.5, 0.6, 0.7, 0.8] } },
          summary: { meanCorruptionError: 51, mCE: 60, relativeMCE: 40, perCorruptionCE: {} },
        },
      }),
      ...runFiles({ name: 'vanilla-20261207-020311', writtenBy: 'readable-panels', epochs: 2, stepsPerEpoch: 4, costFactor: 1, config: { method: 'vanilla' } }),
    },
    async run(d) {
      const fast = 'fast-advprop-20261207-015812';
      await d.command('Fast AdvProp: Compare Runs');
      await d.pick(fast, { filter: false });
      await d.pick('vanilla-20261207-020311', { filter: false });
      await d.press('Enter');
      await expectWebview(d, 'every column of the results table has a heading and a value', async () => {
        const f = await webviewFrame(d, '#results', 20_000);
        const [head] = await tableCells(f, '#results thead tr');
        const body = await tableCells(f, '#results tbody tr');
        return { head, blank: head.map((_, i) => i).filter((i) => body.every((r) => (r[i] ?? '') === '')), rows: body.length };
      }, (v) => v.rows === 2 && v.head.length > 1 && v.head.every((x) => x !== '') && v.blank.length === 0);

      await d.command('Fast AdvProp: Open Budget Calculator');
      await d.waitForWebview('Budget Calculator');
      await expectWebview(d, 'the run list reads "FastAP 01:58" with the full name as its title', async () => {
        const f = await webviewFrame(d, '#run', 10_000);
        return f.$$eval('#run vscode-option', (os) => os.map((o) => `${((o as unknown as { textContent: string }).textContent ?? '').trim()}|${o.getAttribute('title') ?? ''}`));
      }, (v) => v.includes(`FastAP 01:58|${fast}`) && v.includes('Vanilla 02:03|vanilla-20261207-020311'));

      await d.command('Fast AdvProp: Open Robustness Panel');
      await d.pick(fast);
      await d.waitForWebview(`Robustness: ${fast}`);
      await expectWebview(d, 'the hot heatmap cells print light text at a contrast ratio ≥ 4.5', async () => {
        const f = await webviewFrame(d, '#heatmap td.hot', 10_000);
        const cells = await f.$$eval('#heatmap td.hot', (tds) => tds.map((td) => {
          const cs = (globalThis as unknown as { getComputedStyle(e: unknown): { color: string; backgroundColor: string } }).getComputedStyle(td);
          return { text: (td.textContent ?? '').trim(), color: cs.color, background: cs.backgroundColor };
        }));
        return cells.map((c) => ({ ...c, contrast: contrastRatio(c.color, c.background) }));
      }, (v) => v.length >= 1 && v.every((c) => c.contrast >= 4.5 && luminance(c.color) > 0.7));
    },
  },
  {
    name: 'resume-from-dashboard',
    description: 'the empty Runs view has no source-checkout command line; a run stopped from outside gets a Resume button on its dashboard that continues it to completed',
    workspaceFiles: { ...tinyWorkspaceFiles(), 'resume.advprop.json': tinyConfigText({ maxSteps: 0, logEvery: 1 }) },
    async run(d) {
      await d.click('.activitybar .action-item a[aria-label^="Fast AdvProp"]');
      await d.waitForText('No runs yet.');
      await d.check('the welcome text holds no backticks and no "node dist/cli.js"', async () => {
        const t = await d.page.$eval('.welcome-view-content', (e) => (e as unknown as { innerText: string }).innerText);
        if (t.includes('`') || t.includes('dist/cli.js')) throw new Error(`welcome text: ${JSON.stringify(t)}`);
        return t.replace(/\s+/g, ' ');
      });
      const name = 'stopped-then-resumed';
      const dir = path.join(d.workspace, RUNS_FOLDER, name);
      // A terminal run, stopped the way the engine documents (stop.request) after its first steps.
      const training = engine(['train', '--config', 'resume.advprop.json', '--run-dir', dir], d.workspace);
      await trainsAFewSteps(d, dir);
      fs.writeFileSync(path.join(dir, 'stop.request'), '');
      await d.check('it stops and checkpoints', async () => {
        await training;
        if (runState(dir) !== 'stopped') throw new Error(`state ${runState(dir)}`);
        return 'stopped';
      });
      await d.command('Fast AdvProp: Open Dashboard');
      await d.pick(name);
      await d.waitForWebview(/\bstopped\b/i, { timeout: 30_000 });
      await d.webviewClick('#resume', { webview: name });
      await d.waitForWebview(/\bcompleted\b/i, { timeout: 180_000 });
      await d.check('status.json says completed', () => {
        if (runState(dir) !== 'completed') throw new Error(`state ${runState(dir)}`);
        return 'completed';
      });
      await d.waitForText(`Fast AdvProp: run ${name} completed: test accuracy`, { timeout: 30_000 });
      await expectWebview(d, 'a completed run offers no Resume', async () => (await webviewFrame(d, '.toolbar', 10_000, name)).$('#resume').then((e) => (e ? 'Resume shown' : 'none')), (v) => v === 'none');
    },
  },
];
