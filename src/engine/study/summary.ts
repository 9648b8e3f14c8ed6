// The pure half of `fast-advprop study`: which runs make up the Table-1-like comparison, what
// each one's schedule is at equal budget, and how the run folders are boiled down to one row per
// run. No file or process access here, so every figure can be checked on synthetic records.

import { resolveConfig, type RunConfig } from '../../shared/config';
import type { MetricsRecord, RunConfigRecord, RunResults, RunState } from '../../shared/runFormat';
import { calibrate, parseSplit, splitFromPAdv, type Calibration, type Split } from '../budget/costModel';
import { MISSING, aggregateBy, formatMeanStd, type MeanStd } from '../util/meanStd';

/** The paper's Table 1 at equal budget: the default set. */
export const TABLE1_VARIANTS = ['vanilla', 'advprop-pgd5', 'fast-advprop', 'fast-advprop-noshuffle'] as const;
/** The paper's Table 4: Fast AdvProp at four clean:adv splits, each at the same budget. */
export const TABLE4_VARIANTS = ['fast-advprop-8to1', 'fast-advprop-4to1', 'fast-advprop-2to1', 'fast-advprop-1to1'] as const;
export const STUDY_VARIANTS = [...TABLE1_VARIANTS, ...TABLE4_VARIANTS] as const;
export type StudyVariant = (typeof STUDY_VARIANTS)[number];
/** Names --variants accepts for a whole set. */
export const VARIANT_SETS: Record<string, readonly StudyVariant[]> = { table1: TABLE1_VARIANTS, table4: TABLE4_VARIANTS };

export const VARIANT_LABELS: Record<StudyVariant, string> = {
  vanilla: 'Vanilla training',
  'advprop-pgd5': 'Same-budget PGD-5 AdvProp',
  'fast-advprop': 'Fast AdvProp',
  'fast-advprop-noshuffle': 'Fast AdvProp, no shuffle BN',
  'fast-advprop-8to1': 'Fast AdvProp 8:1',
  'fast-advprop-4to1': 'Fast AdvProp 4:1',
  'fast-advprop-2to1': 'Fast AdvProp 2:1',
  'fast-advprop-1to1': 'Fast AdvProp 1:1',
};

/**
 * What each variant changes on top of the base config. Every variant is forced to sameBudget so
 * the comparison stays at equal cost even when a --config-base turns it off; vanilla's cost factor
 * is 1, so for it the flag changes nothing.
 */
export function variantOverrides(variant: StudyVariant): Record<string, unknown> {
  switch (variant) {
    case 'vanilla':
      return { method: 'vanilla', sameBudget: true };
    case 'advprop-pgd5':
      return { method: 'advprop', attack: { steps: 5 }, sameBudget: true };
    case 'fast-advprop':
      return { method: 'fast-advprop', sameBudget: true };
    case 'fast-advprop-noshuffle':
      return { method: 'fast-advprop', shuffleBN: false, sameBudget: true };
    // The split is written out even for 4:1 (the default's) so a --config-base with another split cannot change a Table-4 row.
    case 'fast-advprop-8to1':
      return { method: 'fast-advprop', split: '8:1', sameBudget: true };
    case 'fast-advprop-4to1':
      return { method: 'fast-advprop', split: '4:1', sameBudget: true };
    case 'fast-advprop-2to1':
      return { method: 'fast-advprop', split: '2:1', sameBudget: true };
    case 'fast-advprop-1to1':
      return { method: 'fast-advprop', split: '1:1', sameBudget: true };
  }
}

/**
 * Milestones for a base epoch count other than the base config's: the base milestones scaled by
 * the same ratio (default 6 epochs with a decay at 4 → 105 epochs with a decay at 70), dropping
 * any that would land on or after the last epoch.
 */
export function scaleMilestones(milestones: readonly number[], fromEpochs: number, toEpochs: number): number[] {
  const out: number[] = [];
  for (const m of milestones) {
    const s = Math.max(1, Math.round((m * toEpochs) / fromEpochs));
    if (s < toEpochs && (out.length === 0 || s > out[out.length - 1])) out.push(s);
  }
  return out;
}

/** The config a variant trains with: base config, then the variant, then the study's shared settings. */
export function variantConfig(
  variant: StudyVariant,
  base: RunConfig,
  shared: { epochs: number; milestones: number[]; seed?: number; maxSteps?: number },
): RunConfig {
  const o = variantOverrides(variant);
  const merged: Record<string, unknown> = { ...o, epochs: shared.epochs, milestones: shared.milestones };
  if (shared.seed !== undefined) merged.seed = shared.seed;
  if (shared.maxSteps !== undefined) merged.maxSteps = shared.maxSteps;
  // A variant must not inherit the base's name: every run folder is named by the study.
  const { name: _name, ...unnamed } = base;
  return resolveConfig(merged, unnamed as RunConfig);
}

function splitOf(config: RunConfig): Split | undefined {
  if (config.method !== 'fast-advprop') return undefined;
  if (config.split !== undefined) return parseSplit(config.split);
  if (config.pAdv !== undefined) return splitFromPAdv(config.pAdv);
  return undefined;
}

/** The cost model's schedule for a config, i.e. what `train` will apply (epochs and milestones after sameBudget). */
export function calibrationOf(config: RunConfig): Calibration {
  return calibrate({
    method: config.method,
    split: splitOf(config),
    k: config.attack.steps,
    epochs: config.epochs,
    milestones: config.milestones,
    sameBudget: config.sameBudget,
  });
}

export interface LeakFigures {
  /** Mean clean-stream train accuracy over the last `window` logged steps; null if none logged. */
  clean: number | null;
  /** Same for the adversarial stream; null for runs without one (vanilla). */
  adv: number | null;
  /** Whether the run's leak detector flagged at any logged step. */
  flagged: boolean;
  /** How many logged steps the means cover (fewer than asked when the run logged fewer). */
  steps: number;
}

/**
 * Leak figures from metrics records: plain means over the last `window` step records, as the
 * engine's own detector averages intervals (not images), so the two agree on a finished run.
 */
export function leakFigures(records: readonly MetricsRecord[], window: number): LeakFigures {
  const steps = records.filter((r): r is MetricsRecord & { kind: 'step' } => r.kind === 'step');
  const flagged = steps.some((r) => r.leak?.flagged === true) || records.some((r) => r.kind === 'event' && r.event === 'leak');
  const last = steps.slice(-Math.max(1, window));
  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const finite = (x: number | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
  return {
    clean: mean(last.map((r) => r.clean?.acc).filter(finite)),
    adv: mean(last.map((r) => r.adv?.acc).filter(finite)),
    flagged,
    steps: last.length,
  };
}

/** What the study knows about one run after it ended: the parsed run-folder records and how the child exited. */
export interface StudyRunInput {
  variant: string;
  /** The run's seed; the study trains each variant once per seed. */
  seed?: number;
  runDir: string;
  /** The config the study asked for; used when the run died before writing config.json. */
  requested?: RunConfig;
  config?: RunConfigRecord;
  results?: RunResults;
  metrics?: readonly MetricsRecord[];
  exitCode?: number | null;
  /** Why the run failed, in one line (exit code and the engine's or the executor's "error:" text, or a missing record). */
  error?: string;
  meanCorruptionError?: number | null;
  robustnessNote?: string;
  wallSeconds?: number;
}

export interface StudyRunSummary {
  variant: string;
  seed?: number;
  label: string;
  method: string;
  runDir: string;
  state: RunState | 'missing';
  costFactor: number | null;
  /** Epochs of the applied schedule (after sameBudget). */
  plannedEpochs: number | null;
  /** Epochs actually trained: steps taken / steps per epoch (fractional when --max-steps cut it short). */
  epochs: number | null;
  steps: number | null;
  /** Counted image-passes (forward+backward of one image = 1), all streams. */
  passes: number | null;
  passesByStream: { clean: number; attack: number; adv: number } | null;
  /** Passes the schedule planned (cost model), for comparison with the count. */
  plannedPasses: number | null;
  /** Counted passes over the vanilla budget (base epochs × training images); 1 = equal budget. */
  budgetRatio: number | null;
  cleanAccuracy: number | null;
  leak: LeakFigures & { window: number };
  wallSeconds: number | null;
  meanCorruptionError?: number | null;
  robustnessNote?: string;
  error?: string;
}

function lastPasses(records: readonly MetricsRecord[] | undefined): { clean: number; attack: number; adv: number } | undefined {
  if (!records) return undefined;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r.kind === 'step' && r.passes) return r.passes;
  }
  return undefined;
}

function lastStep(records: readonly MetricsRecord[] | undefined): number | undefined {
  if (!records) return undefined;
  for (let i = records.length - 1; i >= 0; i--) if (records[i].kind === 'step') return records[i].step;
  return undefined;
}

/**
 * One row per run. Numbers come only from the records passed in; a figure a run did not produce
 * is null, never a default, so a failed run cannot pass for a zero-accuracy one.
 */
export function summarizeStudy(runs: readonly StudyRunInput[], opts: { baseEpochs?: number; leakWindow?: number } = {}): StudyRunSummary[] {
  return runs.map((r) => {
    const cfg = r.config?.config ?? r.requested;
    const window = opts.leakWindow ?? cfg?.leak.window ?? 5;
    const passesRec = r.results?.passes ?? lastPasses(r.metrics);
    const passes = r.results?.passes.total ?? (passesRec ? passesRec.clean + passesRec.attack + passesRec.adv : null);
    const steps = r.results?.steps ?? lastStep(r.metrics) ?? null;
    const spe = r.config?.schedule.stepsPerEpoch;
    let plannedEpochs: number | null = r.config?.schedule.epochs ?? null;
    let costFactor: number | null = r.config?.schedule.costFactor ?? null;
    if (cfg && (plannedEpochs === null || costFactor === null)) {
      try {
        const cal = calibrationOf(cfg);
        plannedEpochs ??= cal.epochs;
        costFactor ??= cal.costFactor;
      } catch {
        /* an unusable config leaves the figures unknown */
      }
    }
    const trainImages = r.config?.dataset.train;
    const budgetRatio = passes !== null && trainImages && opts.baseEpochs ? passes / (opts.baseEpochs * trainImages) : null;
    const state: StudyRunSummary['state'] = r.results?.state ?? (r.error !== undefined || (r.exitCode ?? 0) !== 0 ? 'failed' : r.config ? 'stopped' : 'missing');
    const acc = r.results?.clean.accuracy;
    const out: StudyRunSummary = {
      variant: r.variant,
      label: (VARIANT_LABELS as Record<string, string>)[r.variant] ?? r.variant,
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      method: cfg?.method ?? 'unknown',
      runDir: r.runDir,
      state,
      costFactor,
      plannedEpochs,
      epochs: steps !== null && spe ? steps / spe : null,
      steps,
      passes,
      passesByStream: passesRec ? { clean: passesRec.clean, attack: passesRec.attack, adv: passesRec.adv } : null,
      plannedPasses: r.results?.plannedPasses ?? null,
      budgetRatio,
      cleanAccuracy: typeof acc === 'number' && Number.isFinite(acc) ? acc : null,
      leak: { ...leakFigures(r.metrics ?? [], window), window },
      wallSeconds: r.results?.wallSeconds ?? r.wallSeconds ?? null,
    };
    if (r.results?.leak?.flagged) out.leak.flagged = true;
    if (r.meanCorruptionError !== undefined) out.meanCorruptionError = r.meanCorruptionError;
    if (r.robustnessNote !== undefined) out.robustnessNote = r.robustnessNote;
    if (r.error !== undefined) out.error = r.error;
    return out;
  });
}

const DASH = MISSING;

function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined ? DASH : `${(100 * x).toFixed(digits)}%`;
}

function fmtEpochs(x: number | null): string {
  if (x === null) return DASH;
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function fmtInt(x: number | null): string {
  return x === null ? DASH : Math.round(x).toLocaleString('en-US');
}

/**
 * The comparison as aligned text lines: one row per run in the order given, then one footnote
 * line per failed run or robustness note, so a reader sees why a row has dashes.
 */
export function formatStudyTable(rows: readonly StudyRunSummary[], opts: { robustness?: boolean } = {}): string[] {
  const withMce = opts.robustness ?? rows.some((r) => r.meanCorruptionError !== undefined);
  const window = rows.find((r) => r.leak)?.leak.window;
  const header = ['method', 'cost×', 'epochs', 'image-passes', '×budget', 'clean acc', `train acc clean/adv (last ${window ?? '?'})`, 'leak flag'];
  if (withMce) header.push('mean CE'); // summary.meanCorruptionError (100 − mean accuracy), not the AlexNet-normalised mCE
  const body = rows.map((r) => {
    const cells = [
      r.label,
      r.costFactor === null ? DASH : r.costFactor.toFixed(2),
      r.plannedEpochs !== null && r.epochs !== null && Math.abs(r.epochs - r.plannedEpochs) > 1e-9
        ? `${fmtEpochs(r.epochs)}/${r.plannedEpochs}`
        : fmtEpochs(r.epochs ?? r.plannedEpochs),
      fmtInt(r.passes),
      r.budgetRatio === null ? DASH : r.budgetRatio.toFixed(2),
      r.state === 'completed' ? pct(r.cleanAccuracy) : `${pct(r.cleanAccuracy)} (${r.state})`,
      `${pct(r.leak.clean, 1)} / ${pct(r.leak.adv, 1)}`,
      r.leak.adv === null ? DASH : r.leak.flagged ? 'FLAGGED' : 'no',
    ];
    if (withMce) cells.push(r.meanCorruptionError === undefined || r.meanCorruptionError === null ? DASH : r.meanCorruptionError.toFixed(2));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  // Text columns left-aligned, figures right-aligned, like a printed table.
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  for (const r of rows) {
    if (r.error) out.push(`${r.label}: ${r.state} — ${r.error}`);
    if (r.robustnessNote) out.push(`${r.label}: ${r.robustnessNote}`);
  }
  return out;
}

/** One variant over its seeds: what the table with error bars shows. */
export interface StudyAggregate {
  variant: string;
  label: string;
  method: string;
  /** Seeds of the runs that make up the row, failed ones included. */
  seeds: number[];
  /** Runs that completed (their figures are the ones averaged). */
  completed: number;
  costFactor: number | null;
  plannedEpochs: number | null;
  budgetRatio: MeanStd;
  cleanAccuracy: MeanStd;
  trainClean: MeanStd;
  trainAdv: MeanStd;
  /** Runs whose leak detector flagged, out of `completed`. */
  leakFlagged: number;
  meanCorruptionError: MeanStd;
  /** Per seed, in seed order: the clean test accuracy (null for a failed seed), so a reader can see the spread. */
  cleanBySeed: { seed: number | null; accuracy: number | null }[];
}

/**
 * One row per variant (in first-seen order): mean ± sample std over its completed seeds. Figures
 * of failed runs are left out of the means, so `completed` (the n of each mean) can be below the
 * number of seeds; a failed run is never averaged in as zero.
 */
export function aggregateStudy(rows: readonly StudyRunSummary[]): StudyAggregate[] {
  const done = (r: StudyRunSummary): boolean => r.state === 'completed' && r.error === undefined;
  const only = <T>(f: (r: StudyRunSummary) => T | null | undefined) => (r: StudyRunSummary): T | null => (done(r) ? (f(r) ?? null) : null);
  const groups = aggregateBy(rows, (r) => r.variant, {
    budgetRatio: only((r) => r.budgetRatio),
    cleanAccuracy: only((r) => r.cleanAccuracy),
    trainClean: only((r) => r.leak.clean),
    trainAdv: only((r) => r.leak.adv),
    meanCorruptionError: only((r) => r.meanCorruptionError),
  });
  return groups.map(({ rows: rs, stats }) => {
    const first = rs.find(done) ?? rs[0];
    return {
      variant: first.variant,
      label: first.label,
      method: first.method,
      seeds: rs.map((r) => r.seed).filter((x): x is number => x !== undefined),
      completed: rs.filter(done).length,
      costFactor: first.costFactor,
      plannedEpochs: first.plannedEpochs,
      ...stats,
      leakFlagged: rs.filter((r) => done(r) && r.leak.flagged).length,
      cleanBySeed: rs.map((r) => ({ seed: r.seed ?? null, accuracy: done(r) ? r.cleanAccuracy : null })),
    };
  });
}

/**
 * The comparison over seeds as aligned text lines: mean ± sample std (percent points) and n per
 * row, then each row's clean accuracy seed by seed, and a footnote per failed run.
 */
export function formatAggregateTable(rows: readonly StudyRunSummary[], opts: { robustness?: boolean } = {}): string[] {
  const agg = aggregateStudy(rows);
  const withMce = opts.robustness ?? rows.some((r) => r.meanCorruptionError !== undefined);
  const window = rows.find((r) => r.leak)?.leak.window;
  const header = ['method', 'n', 'cost×', 'epochs', '×budget', 'clean acc %', `train acc clean / adv % (last ${window ?? '?'})`, 'leak flags'];
  if (withMce) header.push('mean CE');
  const body = agg.map((a) => {
    const cells = [
      a.label,
      a.completed === a.seeds.length || a.seeds.length === 0 ? String(a.completed) : `${a.completed}/${a.seeds.length}`,
      a.costFactor === null ? DASH : a.costFactor.toFixed(2),
      a.plannedEpochs === null ? DASH : String(a.plannedEpochs),
      formatMeanStd({ ...a.budgetRatio, std: null }, { digits: 2 }),
      formatMeanStd(a.cleanAccuracy, { scale: 100, digits: 2 }),
      `${formatMeanStd(a.trainClean, { scale: 100, digits: 1 })} / ${formatMeanStd(a.trainAdv, { scale: 100, digits: 1 })}`,
      a.trainAdv.mean === null ? DASH : `${a.leakFlagged}/${a.completed}`,
    ];
    if (withMce) cells.push(formatMeanStd(a.meanCorruptionError, { digits: 2 }));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  out.push('', 'mean ± sample standard deviation over the n completed seeds (no ± with one seed); clean acc by seed:');
  for (const a of agg) {
    out.push(`  ${a.label}: ${a.cleanBySeed.map((c) => `${c.seed ?? '?'}: ${c.accuracy === null ? 'failed' : (100 * c.accuracy).toFixed(2)}`).join(', ')}`);
  }
  for (const r of rows) {
    const who = r.seed !== undefined ? `${r.label} (seed ${r.seed})` : r.label;
    if (r.error) out.push(`${who}: ${r.state} — ${r.error}`);
    if (r.robustnessNote) out.push(`${who}: ${r.robustnessNote}`);
  }
  return out;
}
