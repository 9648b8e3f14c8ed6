import * as assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../../src/shared/config';
import {
  buildResultsTable, configDiff, csvField, delta, escapeLatex, formatDelta, sortRows, toCsv, toLatex, toMarkdown, type Column, type CompareRunData,
} from '../../../src/shared/protocol/resultsTable';
import type { RobustnessRecord } from '../../../src/shared/robustness';
import type { RunResults } from '../../../src/shared/runFormat';

const results = (acc: number, wall: number): RunResults => ({
  schema: 1, state: 'completed', clean: { accuracy: acc, loss: 0.3 }, epochs: 5, steps: 100, wallSeconds: wall, imagesPerSecond: 1,
  passes: { clean: 1, attack: 0, adv: 0, total: 1 }, plannedPasses: 1,
});

const robustness = (mce: number, fog: (number | null)[]): RobustnessRecord => ({
  schema: 1, createdAt: '', source: 'in-memory', images: 100, clean: { accuracy: 0.9, error: 0.1 },
  corruptions: { fog: { family: 'weather', errors: fog as never } },
  summary: { meanCorruptionError: mce, mCE: null, relativeMCE: null, perCorruptionCE: {} },
  pgd: { steps: 10, epsilon: 1, accuracy: 0.3 },
});

const runs: CompareRunData[] = [
  { runDir: '/r/base', name: 'vanilla', config: { ...DEFAULT_CONFIG, method: 'vanilla' }, costFactor: 1, results: results(0.9, 100), robustness: robustness(20, [0.1, 0.2, 0.3, null, null]) },
  { runDir: '/r/fast', name: 'fast, "quoted" & 50%_x', config: { ...DEFAULT_CONFIG }, costFactor: 1.2, results: results(0.92, 130), robustness: robustness(18, [0.1, 0.1, 0.1, 0.1, 0.1]) },
  { runDir: '/r/none', name: '=cmd|x', config: undefined, costFactor: undefined },
];

describe('results table', () => {
  const table = buildResultsTable(runs);
  const col = (k: string) => table.columns.find((c) => c.key === k)!;

  it('has the summary columns with a value, corruption means in percent, and drops empty columns', () => {
    assert.deepEqual(table.columns.map((c) => c.key), ['clean', 'meanCorruptionError', 'pgd', 'costFactor', 'wallSeconds', 'c:fog']);
    const [base, fast, none] = table.rows;
    assert.equal(base.values.clean, 90);
    assert.ok(Math.abs(base.values['c:fog']! - 20) < 1e-9, 'mean over evaluated severities only');
    assert.ok(Math.abs(fast.values['c:fog']! - 10) < 1e-9);
    assert.equal(fast.values.pgd, 30);
    assert.equal(none.values.clean, undefined);
  });

  it('knows which way is better: accuracy up is good, error and cost up are bad', () => {
    const [base, fast] = table.rows;
    assert.deepEqual(delta(col('clean'), fast.values.clean, base.values.clean)?.verdict, 'better');
    assert.equal(delta(col('clean'), fast.values.clean, base.values.clean)?.arrow, '▲');
    const err = delta(col('meanCorruptionError'), fast.values.meanCorruptionError, base.values.meanCorruptionError)!;
    assert.equal(err.verdict, 'better');
    assert.equal(err.arrow, '▼');
    assert.equal(delta(col('costFactor'), 1.2, 1)?.verdict, 'worse');
    assert.equal(delta(col('wallSeconds'), 130, 100)?.verdict, 'worse');
    assert.equal(delta(col('clean'), 90.001, 90)?.verdict, 'same', 'a difference below the shown precision is no change');
    assert.equal(delta(col('clean'), undefined, 90), undefined);
    assert.equal(formatDelta(col('clean'), delta(col('clean'), 92, 90)), '+2.00 pp');
    assert.equal(formatDelta(col('meanCorruptionError'), delta(col('meanCorruptionError'), 18, 20)), '−2.00 pp');
  });

  it('sorts by a column both ways with missing values last, or by name', () => {
    assert.deepEqual(sortRows(table.rows, 'clean', 'desc').map((r) => r.runDir), ['/r/fast', '/r/base', '/r/none']);
    assert.deepEqual(sortRows(table.rows, 'clean', 'asc').map((r) => r.runDir), ['/r/base', '/r/fast', '/r/none']);
    assert.deepEqual(sortRows(table.rows, 'name', 'asc').map((r) => r.name)[0], '=cmd|x');
  });

  it('Markdown: escaped pipes and markup, deltas against the baseline, directions in the header', () => {
    const md = toMarkdown(table, { baseline: '/r/base' });
    const lines = md.trim().split('\n');
    assert.match(lines[0], /^\| Run \| Clean acc\. ↑ \| Mean corr\. error ↓ \|/);
    assert.equal(lines[1].split('|').length, lines[0].split('|').length);
    assert.match(md, /\| vanilla \| 90\.00 \|/);
    assert.match(md, /92\.00 \(\+2\.00 pp\)/);
    assert.match(md, /=cmd\\\|x/);
    assert.match(md, /Deltas against vanilla/);
    const evil = toMarkdown(buildResultsTable([{ ...runs[0], name: '<img src=x onerror=alert(1)>' }]));
    assert.doesNotMatch(evil, /<img/);
  });

  it('CSV: raw numbers, RFC 4180 quoting, formula injection defused, delta columns with a baseline', () => {
    const csv = toCsv(table, { baseline: '/r/base' });
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'run,clean_pct,clean_pct_delta,meanCorruptionError_pct,meanCorruptionError_pct_delta,pgd_pct,pgd_pct_delta,costFactor,costFactor_delta,wallSeconds_s,wallSeconds_s_delta,c:fog_pct,c:fog_pct_delta');
    assert.match(lines[1], /^vanilla,90,,20,,/);
    assert.match(lines[2], /^"fast, ""quoted"" & 50%_x",92,2,18,-2,/);
    assert.match(lines[3], /^'=cmd\|x,,/);
    assert.equal(csvField('-1+1'), "'-1+1");
    assert.equal(csvField('a\nb'), '"a\nb"');
    assert.equal(toCsv(table).split('\r\n')[0].includes('_delta'), false);
  });

  it('LaTeX: booktabs, special characters escaped, arrows and signs in math mode', () => {
    const tex = toLatex(table, { baseline: '/r/base' });
    assert.match(tex, /\\begin\{tabular\}\{lrrrrrr\}/);
    assert.match(tex, /Clean acc\. \$\\uparrow\$/);
    assert.match(tex, /fast, "quoted" \\& 50\\%\\_x/);
    assert.match(tex, /92\.00 \(\+2\.00 pp\)/);
    assert.match(tex, /18\.00 \(-2\.00 pp\)/);
    const body = tex.split('\n').slice(1).join('\n');
    assert.doesNotMatch(body, /(^|[^\\])[%_#]/m, 'an unescaped LaTeX special character');
    for (const row of tex.split('\n').filter((l) => l.endsWith('\\\\'))) assert.equal(row.split(' & ').length, 7, `column count in ${row}`);
    assert.equal(escapeLatex('a\\b{c}~^$#'), 'a\\textbackslash{}b\\{c\\}\\textasciitilde{}\\textasciicircum{}\\$\\#');
  });

  it('config diff marks only keys that differ between runs', () => {
    const diff = configDiff([runs[0].config, runs[1].config]);
    const changed = diff.filter((d) => d.changed).map((d) => d.key);
    assert.deepEqual(changed, ['method']);
    assert.ok(diff.find((d) => d.key === 'attack.steps'));
    assert.deepEqual(diff.find((d) => d.key === 'milestones')?.values, ['[4]', '[4]']);
    const withMissing = configDiff([runs[0].config, undefined]);
    assert.ok(withMissing.every((d) => d.changed && d.values[1] === undefined));
  });

  it('config diff says a same-budget run trains fewer epochs than its config names (issue #16)', () => {
    const c = { ...runs[0].config!, epochs: 6, sameBudget: true };
    const diff = configDiff([c, { ...c, method: 'vanilla' as const }], [5, 6]);
    assert.deepEqual(diff.find((d) => d.key === 'epochs')?.values, ['5 epochs (6 vanilla-equivalent, same budget)', '6']);
    assert.deepEqual(configDiff([{ ...c, sameBudget: false }], [5]).find((d) => d.key === 'epochs')?.values, ['6']);
  });

  it('a wall-time column formats as a duration and its delta too', () => {
    const c: Column = { key: 'w', label: 'Wall', better: 'lower', unit: 's', digits: 0, group: 'summary' };
    assert.equal(formatDelta(c, delta(c, 200, 100)), '+1m 40s');
  });
});
