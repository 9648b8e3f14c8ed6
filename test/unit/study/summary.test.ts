import * as assert from 'node:assert/strict';
import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../../../src/shared/config';
import type { MetricsRecord, RunConfigRecord, RunResults } from '../../../src/shared/runFormat';
import { calibrate, parseSplit } from '../../../src/engine/budget/costModel';
import {
  STUDY_VARIANTS, TABLE1_VARIANTS, TABLE4_VARIANTS, aggregateStudy, calibrationOf, formatAggregateTable, formatStudyTable, leakFigures,
  scaleMilestones, summarizeStudy, variantConfig,
  type StudyRunInput,
} from '../../../src/engine/study/summary';

type StepRec = MetricsRecord & { kind: 'step' };

function step(n: number, clean: number, adv?: number, flagged?: boolean): StepRec {
  const r: StepRec = {
    v: 1, kind: 'step', t: '2025-01-01T00:00:00Z', step: n, epoch: 0, lr: 0.1, loss: 1,
    clean: { loss: 1, acc: clean, images: 64 }, imagesPerSecond: 100,
    passes: { clean: 64 * n, attack: adv === undefined ? 0 : 16 * n, adv: adv === undefined ? 0 : 16 * n },
  };
  if (adv !== undefined) r.adv = { loss: 1, acc: adv, images: 16 };
  if (flagged !== undefined) r.leak = { flagged, clean, adv: adv ?? 0, step: n, message: '' };
  return r;
}

function record(config: RunConfig, over: Partial<RunConfigRecord['schedule']> & { train?: number } = {}): RunConfigRecord {
  const cal = calibrationOf(config);
  const stepsPerEpoch = over.stepsPerEpoch ?? 100;
  return {
    schema: 1, runName: 'x', createdAt: '', config,
    schedule: { epochs: cal.epochs, milestones: cal.milestones, costFactor: cal.costFactor, stepsPerEpoch, totalSteps: stepsPerEpoch * cal.epochs, ...over },
    batch: { clean: 64, adv: 16 },
    backend: { name: 'cpu', requested: 'auto', package: '', gpu: false, reason: '', attempts: [], workers: 1 },
    dataset: { name: 'd', source: '', train: over.train ?? 8000, test: 100, height: 28, width: 28, channels: 1, numClasses: 10, classNames: [] },
    model: { arch: 'resnet8', width: 4, params: { shared: 1, clean: 1, adv: 1 } },
    engine: { version: '', node: '', argv: [] },
  };
}

function results(over: Partial<RunResults>): RunResults {
  return {
    schema: 1, state: 'completed', clean: { accuracy: 0.8, loss: 0.5 }, epochs: 1, steps: 100, wallSeconds: 10, imagesPerSecond: 1,
    passes: { clean: 0, attack: 0, adv: 0, total: 0 }, plannedPasses: 0, ...over,
  };
}

describe('study: budget arithmetic through the cost model', () => {
  const base = { epochs: 105, milestones: [30, 60, 90] };

  it('same-budget PGD-5 AdvProp from 105 epochs trains 15, milestones divided by 7 half-to-even', () => {
    const c = variantConfig('advprop-pgd5', DEFAULT_CONFIG, base);
    assert.equal(c.method, 'advprop');
    assert.equal(c.attack.steps, 5);
    const cal = calibrationOf(c);
    assert.equal(cal.costFactor, 7);
    assert.equal(cal.epochs, 15);
    // 30/7 = 4.29 → 4, 60/7 = 8.57 → 9, 90/7 = 12.86 → 13
    assert.deepEqual(cal.milestones, [4, 9, 13]);
  });

  it('Fast AdvProp 4:1 from 105 epochs trains 87 (the reference float rounding, not 88)', () => {
    const c = variantConfig('fast-advprop', DEFAULT_CONFIG, base);
    const cal = calibrationOf(c);
    assert.equal(cal.epochs, 87);
    assert.equal(cal.costFactor, calibrate({ method: 'fast-advprop', split: parseSplit('4:1'), k: 1, epochs: 1 }).costFactor);
    assert.ok(Math.abs(cal.costFactor - 1.2) < 1e-12);
  });

  it('vanilla keeps the base budget; the no-shuffle variant differs from Fast AdvProp only in shuffleBN', () => {
    const v = calibrationOf(variantConfig('vanilla', DEFAULT_CONFIG, base));
    assert.equal(v.costFactor, 1);
    assert.equal(v.epochs, 105);
    assert.deepEqual(v.milestones, [30, 60, 90]);
    const fast = variantConfig('fast-advprop', DEFAULT_CONFIG, base);
    const ns = variantConfig('fast-advprop-noshuffle', DEFAULT_CONFIG, base);
    assert.equal(fast.shuffleBN, true);
    assert.equal(ns.shuffleBN, false);
    assert.deepEqual({ ...ns, shuffleBN: true }, fast);
  });

  it('forces sameBudget on every variant even when the base turns it off', () => {
    const noSame = resolveConfig({ sameBudget: false });
    for (const v of STUDY_VARIANTS) assert.equal(variantConfig(v, noSame, base).sameBudget, true, v);
    assert.equal(calibrationOf(variantConfig('advprop-pgd5', noSame, base)).epochs, 15);
  });

  it('keeps model and dataset limits of the base config for all variants and applies seed and maxSteps', () => {
    const tiny = resolveConfig({ model: { arch: 'resnet8', width: 4 }, dataset: { name: 'fashion-mnist-subset', trainLimit: 160 }, name: 'mine' });
    for (const v of STUDY_VARIANTS) {
      const c = variantConfig(v, tiny, { ...base, seed: 7, maxSteps: 2 });
      assert.deepEqual(c.model, { arch: 'resnet8', width: 4 });
      assert.equal(c.dataset.trainLimit, 160);
      assert.equal(c.seed, 7);
      assert.equal(c.maxSteps, 2);
      assert.equal(c.name, undefined, 'run folders are named by the study, not by the base');
    }
  });

  it('scales the base milestones to another epoch count', () => {
    assert.deepEqual(scaleMilestones([4], 6, 6), [4]);
    assert.deepEqual(scaleMilestones([4], 6, 105), [70]);
    assert.deepEqual(scaleMilestones([4], 6, 3), [2]);
    // A milestone at or past the last epoch would never fire.
    assert.deepEqual(scaleMilestones([4], 6, 1), []);
    assert.deepEqual(scaleMilestones([30, 60, 90], 105, 4), [1, 2, 3]);
  });
});

describe('study: leak figures from metrics', () => {
  it('averages the last N logged steps per stream', () => {
    const recs: MetricsRecord[] = [step(10, 0.1, 0.9), step(20, 0.5, 0.6), step(30, 0.7, 0.4), step(40, 0.9, 0.8)];
    const l = leakFigures(recs, 2);
    assert.ok(Math.abs(l.clean! - 0.8) < 1e-12);
    assert.ok(Math.abs(l.adv! - 0.6) < 1e-12);
    assert.equal(l.steps, 2);
    assert.equal(l.flagged, false);
  });

  it('uses what there is when fewer steps were logged than the window', () => {
    const l = leakFigures([step(10, 0.2, 0.4)], 5);
    assert.equal(l.steps, 1);
    assert.equal(l.clean, 0.2);
    assert.equal(l.adv, 0.4);
  });

  it('reports a flag raised at any step, even if later steps cleared it', () => {
    const recs: MetricsRecord[] = [step(10, 0.5, 0.9, true), step(20, 0.5, 0.5, false), step(30, 0.5, 0.5, false)];
    assert.equal(leakFigures(recs, 1).flagged, true);
    const ev: MetricsRecord[] = [step(10, 0.5, 0.5), { v: 1, kind: 'event', t: '', step: 10, event: 'leak', message: 'leak' }];
    assert.equal(leakFigures(ev, 5).flagged, true);
  });

  it('has no adversarial figure for a run without an adversarial stream, and skips non-step records', () => {
    const recs: MetricsRecord[] = [
      step(10, 0.3), { v: 1, kind: 'epoch', t: '', epoch: 0, step: 10, test: { loss: 1, acc: 0.99 }, train: { loss: 1, acc: 0.99 }, seconds: 1 }, step(20, 0.5),
    ];
    const l = leakFigures(recs, 5);
    assert.equal(l.adv, null);
    assert.ok(Math.abs(l.clean! - 0.4) < 1e-12);
    assert.deepEqual(leakFigures([], 5), { clean: null, adv: null, flagged: false, steps: 0 });
  });
});

describe('study: summarizeStudy', () => {
  const fast = variantConfig('fast-advprop', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const van = variantConfig('vanilla', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });

  it('takes every figure from the records', () => {
    const metrics = [step(40, 0.6, 0.5), step(50, 0.7, 0.55)];
    const input: StudyRunInput = {
      variant: 'fast-advprop', runDir: '/r/fast', config: record(fast, { stepsPerEpoch: 125, train: 10000 }), metrics,
      results: results({ steps: 625, clean: { accuracy: 0.8512, loss: 0.4 }, passes: { clean: 40000, attack: 10000, adv: 10000, total: 60000 }, plannedPasses: 60000 }),
    };
    const [s] = summarizeStudy([input], { baseEpochs: 6, leakWindow: 2 });
    assert.equal(s.method, 'fast-advprop');
    assert.equal(s.state, 'completed');
    assert.ok(Math.abs(s.costFactor! - 1.2) < 1e-12);
    assert.equal(s.plannedEpochs, 5);
    assert.equal(s.epochs, 5);
    assert.equal(s.passes, 60000);
    assert.equal(s.budgetRatio, 1);
    assert.equal(s.cleanAccuracy, 0.8512);
    assert.ok(Math.abs(s.leak.clean! - 0.65) < 1e-12);
    assert.ok(Math.abs(s.leak.adv! - 0.525) < 1e-12);
    assert.equal(s.leak.window, 2);
    assert.equal(s.error, undefined);
  });

  it('gives fractional epochs for a run cut short by max-steps', () => {
    const input: StudyRunInput = { variant: 'vanilla', runDir: '/r/v', config: record(van, { stepsPerEpoch: 8 }), results: results({ steps: 2 }), metrics: [] };
    const [s] = summarizeStudy([input]);
    assert.equal(s.epochs, 0.25);
    assert.equal(s.plannedEpochs, 6);
    assert.equal(s.budgetRatio, null, 'no budget ratio without the base epochs');
  });

  it('leaves figures a failed run did not produce null, and keeps the planned schedule from the requested config', () => {
    const adv = variantConfig('advprop-pgd5', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
    const [s] = summarizeStudy([{ variant: 'advprop-pgd5', runDir: '/r/a', requested: adv, exitCode: 2, error: 'exit 2: dataset: boom' }]);
    assert.equal(s.state, 'failed');
    assert.equal(s.cleanAccuracy, null);
    assert.equal(s.passes, null);
    assert.equal(s.epochs, null);
    assert.equal(s.costFactor, 7);
    assert.equal(s.plannedEpochs, 1);
    assert.equal(s.error, 'exit 2: dataset: boom');
  });

  it('counts passes from the last step record when results.json is missing', () => {
    const [s] = summarizeStudy([{ variant: 'fast-advprop', runDir: '/r', config: record(fast), metrics: [step(10, 0.5, 0.5), step(20, 0.5, 0.5)], exitCode: 1, error: 'x' }]);
    assert.equal(s.passes, 64 * 20 + 16 * 20 + 16 * 20);
    assert.equal(s.steps, 20);
    assert.equal(s.state, 'failed');
  });
});

describe('study: table formatting', () => {
  const fast = variantConfig('fast-advprop', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const van = variantConfig('vanilla', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const adv = variantConfig('advprop-pgd5', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const rows = summarizeStudy(
    [
      { variant: 'vanilla', runDir: '/v', config: record(van), metrics: [step(10, 0.91)], results: results({ steps: 600, clean: { accuracy: 0.8812, loss: 1 }, passes: { clean: 38400, attack: 0, adv: 0, total: 38400 } }) },
      { variant: 'advprop-pgd5', runDir: '/a', requested: adv, exitCode: 1, error: 'exit 1: loss diverged' },
      { variant: 'fast-advprop-noshuffle', runDir: '/n', config: record(fast), metrics: [step(10, 0.7, 0.95, true)], results: results({ steps: 500, clean: { accuracy: 0.8, loss: 1 }, passes: { clean: 1, attack: 1, adv: 1, total: 1234567 } }) },
    ],
    { baseEpochs: 6 },
  );

  it('prints a header, a rule and one row per run in the order given', () => {
    const lines = formatStudyTable(rows);
    assert.match(lines[0], /^method\s+cost×\s+epochs\s+image-passes\s+×budget\s+clean acc\s+train acc clean\/adv \(last 5\)\s+leak flag$/);
    assert.match(lines[1], /^-+( +-+)+$/);
    assert.match(lines[2], /^Vanilla training\s/);
    assert.match(lines[3], /^Same-budget PGD-5 AdvProp\s/);
    assert.match(lines[4], /^Fast AdvProp, no shuffle BN\s/);
  });

  it('aligns every column under its header', () => {
    const lines = formatStudyTable(rows).slice(0, 5);
    // Right-aligned figure columns end where their header ends.
    const ends = (l: string, re: RegExp): number => { const m = re.exec(l)!; return m.index + m[0].length; };
    const accEnd = ends(lines[0], /clean acc/);
    assert.equal(lines[2].slice(0, accEnd).trimEnd().endsWith('88.12%'), true, lines[2]);
    assert.equal(lines[4].slice(0, accEnd).trimEnd().endsWith('80.00%'), true, lines[4]);
  });

  it('shows the figures, marks a flagged leak and a missing figure, and explains a failed row', () => {
    const lines = formatStudyTable(rows);
    assert.match(lines[2], /\b1\.00\b.*\b6\b.*38,400.*88\.12%.*91\.0% \/ –\s+–$/);
    assert.match(lines[4], /\b1\.20\b.*1,234,567.*80\.00%.*70\.0% \/ 95\.0%\s+FLAGGED$/);
    assert.match(lines[3], /7\.00\s+1\s+–\s+–\s+– \(failed\)/);
    assert.ok(lines.some((l) => l === 'Same-budget PGD-5 AdvProp: failed — exit 1: loss diverged'), lines.join('\n'));
  });

  it('adds the mean corruption error column (labelled "mean CE", not mCE) only for robustness, with a dash for a run that has none', () => {
    assert.ok(!formatStudyTable(rows)[0].includes('mean CE'));
    const withMce = formatStudyTable([{ ...rows[0], meanCorruptionError: 23.456 }, rows[1]], { robustness: true });
    assert.match(withMce[0], /mean CE$/);
    assert.ok(!withMce[0].includes('mCE'));
    assert.match(withMce[2], /23\.46$/);
    assert.match(withMce[3], /–$/);
  });
});

describe('study: the Table-4 grid', () => {
  it('is Fast AdvProp at 8:1, 4:1, 2:1 and 1:1, differing from the default only in the split', () => {
    assert.deepEqual([...TABLE4_VARIANTS], ['fast-advprop-8to1', 'fast-advprop-4to1', 'fast-advprop-2to1', 'fast-advprop-1to1']);
    assert.deepEqual([...STUDY_VARIANTS], [...TABLE1_VARIANTS, ...TABLE4_VARIANTS]);
    const shared = { epochs: 6, milestones: [4] };
    const fast = variantConfig('fast-advprop', DEFAULT_CONFIG, shared);
    const splits = TABLE4_VARIANTS.map((v) => variantConfig(v, DEFAULT_CONFIG, shared));
    assert.deepEqual(splits.map((c) => c.split), ['8:1', '4:1', '2:1', '1:1']);
    for (const c of splits) assert.deepEqual({ ...c, split: '4:1' }, fast);
  });

  it('keeps each split at the vanilla budget of 6 epochs (decay at 4), rounding half-to-even', () => {
    const shared = { epochs: 6, milestones: [4] };
    const cal = TABLE4_VARIANTS.map((v) => calibrationOf(variantConfig(v, DEFAULT_CONFIG, shared)));
    // cost (C + 2A) / (C + A) image-passes per clean-batch image: 8:1 → 10/9, 4:1 → 6/5, 2:1 → 4/3, 1:1 → 3/2.
    const expected = [[10 / 9, 5, [4]], [1.2, 5, [3]], [4 / 3, 4, [3]], [1.5, 4, [3]]] as const;
    cal.forEach((c, i) => {
      assert.ok(Math.abs(c.costFactor - expected[i][0]) < 1e-12, `${TABLE4_VARIANTS[i]}: ${c.costFactor}`);
      // 6 / (4/3) = 4.5 → 4 (ties to even); 4 / 1.5 = 2.67 → 3; 4 / (10/9) = 3.6 → 4.
      assert.equal(c.epochs, expected[i][1], TABLE4_VARIANTS[i]);
      assert.deepEqual(c.milestones, expected[i][2], TABLE4_VARIANTS[i]);
    });
  });

  it('overrides a --config-base split, so the 4:1 row is 4:1 whatever the base says', () => {
    const base = resolveConfig({ split: '1:1' });
    assert.equal(variantConfig('fast-advprop-4to1', base, { epochs: 6, milestones: [4] }).split, '4:1');
  });
});

describe('study: mean ± std over seeds', () => {
  const fast = variantConfig('fast-advprop', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const van = variantConfig('vanilla', DEFAULT_CONFIG, { epochs: 6, milestones: [4] });
  const run = (variant: string, seed: number, acc: number, clean: number, adv: number | undefined, mce: number | undefined, flagged = false): StudyRunInput => ({
    variant, seed, runDir: `/${variant}/seed-${seed}`, config: record(variant === 'vanilla' ? van : fast, { stepsPerEpoch: 125, train: 10000 }),
    metrics: [step(10, clean, adv, adv === undefined ? undefined : flagged)],
    results: results({ steps: 625, clean: { accuracy: acc, loss: 1 }, passes: { clean: 40000, attack: 10000, adv: 10000, total: 60000 } }),
    ...(mce !== undefined ? { meanCorruptionError: mce } : {}),
  });
  const rows = summarizeStudy([
    run('vanilla', 0, 0.88, 0.9, undefined, 30),
    run('fast-advprop', 0, 0.86, 0.8, 0.7, 32),
    run('vanilla', 1, 0.87, 0.9, undefined, 31),
    run('fast-advprop', 1, 0.87, 0.8, 0.9, 33, true),
    run('vanilla', 2, 0.89, 0.9, undefined, 35),
    { variant: 'fast-advprop', seed: 2, runDir: '/f/2', requested: fast, exitCode: 1, error: 'exit 1: diverged' },
  ], { baseEpochs: 6, leakWindow: 1 });

  it('one row per variant in first-seen order, with hand-computed mean and sample std', () => {
    const [v, f] = aggregateStudy(rows);
    assert.equal(v.variant, 'vanilla');
    assert.deepEqual(v.seeds, [0, 1, 2]);
    assert.equal(v.completed, 3);
    // 0.88, 0.87, 0.89: mean 0.88, deviations 0, −0.01, +0.01 → std √(0.0002/2) = 0.01
    assert.ok(Math.abs(v.cleanAccuracy.mean! - 0.88) < 1e-12);
    assert.ok(Math.abs(v.cleanAccuracy.std! - 0.01) < 1e-12);
    // 30, 31, 35: mean 32, squared deviations 4 + 1 + 9 = 14 → std √7
    assert.equal(v.meanCorruptionError.mean, 32);
    assert.ok(Math.abs(v.meanCorruptionError.std! - Math.sqrt(7)) < 1e-12);
    assert.equal(v.trainAdv.n, 0);
    assert.equal(f.variant, 'fast-advprop');
    assert.deepEqual(f.cleanBySeed, [{ seed: 0, accuracy: 0.86 }, { seed: 1, accuracy: 0.87 }, { seed: 2, accuracy: null }]);
  });

  it('leaves a failed seed out of the means (never averaged in as zero) and counts flags per completed run', () => {
    const f = aggregateStudy(rows)[1];
    assert.equal(f.completed, 2);
    assert.equal(f.cleanAccuracy.n, 2);
    // 0.86, 0.87: mean 0.865, std |0.87 − 0.86| / √2
    assert.ok(Math.abs(f.cleanAccuracy.mean! - 0.865) < 1e-12);
    assert.ok(Math.abs(f.cleanAccuracy.std! - 0.01 / Math.SQRT2) < 1e-12);
    assert.ok(Math.abs(f.trainAdv.mean! - 0.8) < 1e-12);
    assert.equal(f.leakFlagged, 1);
    assert.equal(f.budgetRatio.mean, 1);
  });

  it('prints mean ± std in points with n, the per-seed accuracies and a footnote for the failed seed', () => {
    const lines = formatAggregateTable(rows, { robustness: true });
    assert.match(lines[0], /^method\s+n\s+cost×\s+epochs\s+×budget\s+clean acc %\s+train acc clean \/ adv % \(last 1\)\s+leak flags\s+mean CE$/);
    assert.match(lines[2], /^Vanilla training\s+3\s+1\.00\s+6\s+1\.00\s+88\.00 ± 1\.00\s+90\.0 ± 0\.0 \/ –\s+–\s+32\.00 ± 2\.65$/);
    assert.match(lines[3], /^Fast AdvProp\s+2\/3\s+1\.20\s+5\s+1\.00\s+86\.50 ± 0\.71\s+80\.0 ± 0\.0 \/ 80\.0 ± 14\.1\s+1\/2\s+32\.50 ± 0\.71$/);
    assert.ok(lines.includes('  Fast AdvProp: 0: 86.00, 1: 87.00, 2: failed'), lines.join('\n'));
    assert.ok(lines.includes('Fast AdvProp (seed 2): failed — exit 1: diverged'), lines.join('\n'));
  });
});
