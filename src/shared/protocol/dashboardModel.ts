// Pure view-model of the dashboard: what the charts, the header and the leak banner show, derived
// from run-folder records. Shared by the host (notifications, delta planning) and the webview.

import { validateConfig, type RunConfig } from '../config';
import { epochsText } from '../epochs';
import type { LeakFlag, MetricsRecord, RunConfigRecord, RunResults, RunStatus } from '../runFormat';
import type { DashboardRun } from './dashboard';

export type StateWord = 'queued' | 'running' | 'completed' | 'failed' | 'stopped' | 'crashed' | 'unknown';

/** `crashed` wins over what status.json says: a dead pid cannot still be running. */
export function stateWord(run: Pick<DashboardRun, 'status' | 'crashed'>): StateWord {
  if (run.crashed) return 'crashed';
  return run.status?.state ?? 'unknown';
}

/**
 * True from a start until the engine has written the run's status and config (about 1.7 s while it
 * loads TensorFlow.js and the dataset). The header and budget then have nothing to show, and their
 * placeholders ("UNKNOWN", "method –", "of ? planned") read as a broken run (#16), so the
 * dashboard says "starting…" instead. Only for a live process: a dead run without files is not
 * starting, it is unreadable.
 */
export function isStarting(run: Pick<DashboardRun, 'status' | 'config' | 'alive' | 'crashed'>): boolean {
  if (!run.alive || run.crashed) return false;
  return !run.status || (run.status.state === 'running' && !run.config);
}

export type StepRecord = Extract<MetricsRecord, { kind: 'step' }>;
export type EpochRecord = Extract<MetricsRecord, { kind: 'epoch' }>;

export interface Point {
  x: number;
  y: number;
}

export type Stream = 'clean' | 'noise' | 'adv';
export const STREAMS: readonly Stream[] = ['clean', 'noise', 'adv'];

/** Chart points appended by a batch of records, keyed by chart and series. */
export interface SeriesDelta {
  loss: Record<Stream, Point[]>;
  trainAcc: Record<Stream, Point[]>;
  lr: Point[];
  imagesPerSecond: Point[];
  testAcc: Point[];
  epochTrainAcc: Point[];
}

export function emptySeries(): SeriesDelta {
  return {
    loss: { clean: [], noise: [], adv: [] },
    trainAcc: { clean: [], noise: [], adv: [] },
    lr: [],
    imagesPerSecond: [],
    testAcc: [],
    epochTrainAcc: [],
  };
}

function finite(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/**
 * Turns metrics records into chart points (step on x, accuracy in percent). Unknown kinds and
 * non-finite values are skipped, so a NaN loss leaves a gap instead of breaking the axis.
 */
export function seriesFrom(records: readonly MetricsRecord[]): SeriesDelta {
  const out = emptySeries();
  for (const r of records) {
    if (!r || typeof r !== 'object') continue;
    if (r.kind === 'step') {
      for (const s of STREAMS) {
        const st = r[s];
        if (!st) continue;
        if (finite(st.loss)) out.loss[s].push({ x: r.step, y: st.loss });
        if (finite(st.acc)) out.trainAcc[s].push({ x: r.step, y: st.acc * 100 });
      }
      if (finite(r.lr)) out.lr.push({ x: r.step, y: r.lr });
      if (finite(r.imagesPerSecond)) out.imagesPerSecond.push({ x: r.step, y: r.imagesPerSecond });
    } else if (r.kind === 'epoch') {
      // Records count epochs from 0; the header and the engine's log say "epoch 1/5" for the first.
      if (r.test && finite(r.test.acc)) out.testAcc.push({ x: r.epoch + 1, y: r.test.acc * 100 });
      if (r.train && finite(r.train.acc)) out.epochTrainAcc.push({ x: r.epoch + 1, y: r.train.acc * 100 });
    }
  }
  return out;
}

/** The newest step record, scanning from the end (metrics files grow to thousands of lines). */
/**
 * "data wait 35 %" for a streamed run's latest step record (the share of its interval spent
 * waiting for decoded images), or undefined: not streamed, or a value a forged file made up.
 */
export function dataWaitText(rec: StepRecord | undefined): string | undefined {
  const w = (rec as { dataWait?: unknown } | undefined)?.dataWait;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1) return undefined;
  return `data wait ${Math.round(100 * w)} %`;
}

export function lastStep(records: readonly MetricsRecord[]): StepRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]?.kind === 'step') return records[i] as StepRecord;
  return undefined;
}

/**
 * The leak verdict to show: status.json carries the detector's latest opinion, results.json the
 * final one; failing both, the newest step record that has a verdict.
 */
export function currentLeak(status: RunStatus | undefined, results: RunResults | undefined, records: readonly MetricsRecord[]): LeakFlag | undefined {
  if (results?.leak?.flagged) return results.leak;
  if (status?.leak?.flagged) return status.leak;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r?.kind === 'step' && r.leak) return r.leak.flagged ? r.leak : undefined;
  }
  return status?.leak ?? results?.leak;
}

/**
 * The line next to the leak alarm while it is silent (#16: silence read as "not checked"): the
 * detector's clear verdict, e.g. `no leak: adv 81 % < clean 86 %`, or that it has none yet.
 * Undefined when the alarm itself shows, and for vanilla runs, which have no adversarial stream.
 */
export function leakStateLine(
  method: string | undefined, status: RunStatus | undefined, results: RunResults | undefined, records: readonly MetricsRecord[],
): { text: string; title?: string } | undefined {
  if (method === 'vanilla' || currentLeak(status, results, records)?.flagged) return undefined;
  let latest: LeakFlag | undefined = results?.leak ?? status?.leak;
  for (let i = records.length - 1; i >= 0 && !latest; i--) {
    const r = records[i];
    if (r?.kind === 'step' && r.leak) latest = r.leak;
  }
  if (!latest || !finite(latest.adv) || !finite(latest.clean)) {
    return { text: 'label leak: no verdict yet', title: 'The detector compares adversarial and clean train accuracy once a few intervals are logged.' };
  }
  // Compared at the shown precision, so the sign never contradicts the two numbers beside it.
  const adv = Math.round(latest.adv * 100);
  const clean = Math.round(latest.clean * 100);
  const rel = adv < clean ? '<' : adv === clean ? '=' : '>';
  const within = rel === '>' ? ', within the alarm\'s margin' : '';
  return { text: `no leak: adv ${adv} % ${rel} clean ${clean} %${within}`, title: latest.message || undefined };
}

export interface BudgetProgress {
  /** Image-passes counted so far, per kind and in total. */
  spent: { clean: number; attack: number; adv: number; total: number };
  /** Image-passes the schedule plans for the whole run (results.json's figure when it exists). */
  planned: number | undefined;
  /** spent / planned. */
  fraction: number | undefined;
}

/**
 * Planned passes per step follow the cost model's units: each clean image is one pass, each
 * attacked image costs K attack passes plus one adversarial pass.
 */
export function plannedPasses(config: RunConfigRecord | undefined, results: RunResults | undefined): number | undefined {
  if (results && finite(results.plannedPasses) && results.plannedPasses > 0) return results.plannedPasses;
  if (!config?.schedule || !config.batch) return undefined;
  const k = config.config?.attack?.steps ?? 1;
  const method = config.config?.method;
  const adv = method === 'vanilla' ? 0 : config.batch.adv;
  const perStep = config.batch.clean + adv * (k + 1);
  const steps = config.config?.maxSteps ? Math.min(config.config.maxSteps, config.schedule.totalSteps) : config.schedule.totalSteps;
  return finite(perStep) && finite(steps) ? perStep * steps : undefined;
}

export function budgetProgress(config: RunConfigRecord | undefined, results: RunResults | undefined, records: readonly MetricsRecord[]): BudgetProgress {
  const last = lastStep(records);
  const p = results?.passes ?? last?.passes ?? { clean: 0, attack: 0, adv: 0 };
  const spent = { clean: p.clean ?? 0, attack: p.attack ?? 0, adv: p.adv ?? 0, total: 0 };
  spent.total = spent.clean + spent.attack + spent.adv;
  const planned = plannedPasses(config, results);
  return { spent, planned, fraction: planned ? spent.total / planned : undefined };
}

/**
 * The config for the next run after a leak: shuffle BN on, at least two BN groups (a permutation
 * inside one group leaves batch statistics unchanged), the batch rounded up so the groups divide
 * it, and no name so the engine picks a fresh one. Validated, so the user gets a config that runs.
 */
/** Shuffle BN already on means the fix is more groups, not the same config again. */
function shuffleAlreadyOn(config: Pick<RunConfig, 'shuffleBN' | 'bnGroups'> | undefined): boolean {
  return Boolean(config && config.shuffleBN && config.bnGroups >= 2);
}

/**
 * An attack aimed at label + 1 writes the label into each image's perturbation; no BN grouping can
 * hide that (docs/leak.md: shuffle BN on, it still leaked), so the fix is the target, not the BN.
 */
function labelTargeted(config: { attack?: Pick<RunConfig['attack'], 'targeted' | 'target'> } | undefined): boolean {
  return Boolean(config?.attack?.targeted && config.attack.target === 'next');
}

export function leakFixConfig(config: RunConfig): RunConfig {
  if (labelTargeted(config)) {
    const next: Record<string, unknown> = { ...structuredClone(config), attack: { ...config.attack, target: 'random' } };
    delete next.name;
    return validateConfig(next);
  }
  const bnGroups = shuffleAlreadyOn(config) ? config.bnGroups * 2 : Math.max(2, config.bnGroups);
  const batchSize = Math.ceil(config.batchSize / bnGroups) * bnGroups;
  const next: Record<string, unknown> = { ...structuredClone(config), shuffleBN: true, bnGroups, batchSize };
  delete next.name;
  return validateConfig(next);
}

/** What to do about a leak flag, given the run's own config (the advice differs once shuffle BN is on). */
export function leakAdvice(config: (Pick<RunConfig, 'shuffleBN' | 'bnGroups'> & { attack?: Pick<RunConfig['attack'], 'targeted' | 'target'> }) | undefined): { text: string; button: string } {
  if (labelTargeted(config)) {
    return {
      text: 'This attack aims at label + 1 (attack.target "next"), so each perturbation carries its image\'s label and the adversarial pass can read it; '
        + 'shuffle BN cannot stop that. Fix for the next run: a random target (attack.target "random") or an untargeted attack.',
      button: 'Open a config with a random target',
    };
  }
  if (shuffleAlreadyOn(config)) {
    return {
      text: `Shuffle BN is already on with ${config!.bnGroups} BN groups. A flag in the first steps or on tiny batches is often noise: see whether it persists. `
        + `If it does, use more groups (bnGroups ${config!.bnGroups * 2}) so each adversarial group draws its statistics from more attack groups.`,
      button: `Open a config with bnGroups ${config!.bnGroups * 2}`,
    };
  }
  return {
    text: 'Fix for the next run: shuffle BN (shuffleBN: true) with at least two BN groups (bnGroups ≥ 2), so the adversarial pass takes its statistics from other groups than the attack.',
    button: 'Open a config with shuffle BN',
  };
}

/** status.json and metrics count epochs from 0; people count from 1. */
export function epochLabel(epoch: number, epochs: number): string {
  return `${epochs > 0 ? Math.min(epoch + 1, epochs) : epoch + 1}/${epochs}`;
}

export type MetricsPlan = { kind: 'none' } | { kind: 'delta'; from: number } | { kind: 'snapshot' };

/**
 * What the host sends after the run model changed. The file only grows, so fewer records than
 * were sent means it was rewritten (a run resumed into a fresh folder, a test fixture) and the
 * webview needs everything again.
 */
export function planMetrics(sent: number, available: number): MetricsPlan {
  if (available < sent) return { kind: 'snapshot' };
  if (available === sent) return { kind: 'none' };
  return { kind: 'delta', from: sent };
}

export function formatEta(seconds: number | undefined): string {
  if (!finite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function percent(x: number | undefined, digits = 1): string {
  return finite(x) ? `${(x * 100).toFixed(digits)} %` : '–';
}

export function compactNumber(n: number | undefined): string {
  if (!finite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

/** p_adv shown in the header: from the split when there is one, as the engine resolves it. */
export function describePAdv(config: RunConfig | undefined): string {
  if (!config) return '–';
  if (config.method === 'vanilla') return '0';
  if (config.method === 'advprop') return '0.5 (paired)';
  const m = config.split ? /^(\d+):(\d+)$/.exec(config.split) : null;
  if (m) {
    const p = Number(m[2]) / (Number(m[1]) + Number(m[2]));
    return `${p.toFixed(2)} (${config.split})`;
  }
  return finite(config.pAdv) ? config.pAdv.toFixed(2) : '–';
}

export interface SettingChip {
  k: string;
  v: string;
  title?: string;
}

/**
 * The run's settings as header chips. A vanilla run has no attack, no adversarial BN and no
 * batch split, so its K, p_adv and shuffle-BN chips would describe settings that do nothing.
 */
export function settingChips(config: RunConfig | undefined): SettingChip[] {
  if (!config) return [{ k: 'method', v: '–' }];
  const chips: SettingChip[] = [{ k: 'method', v: config.method }];
  if (config.method === 'vanilla') return chips;
  chips.push({ k: 'p_adv', v: describePAdv(config) });
  chips.push({ k: 'K', v: String(config.attack.steps), title: 'attack steps per adversarial image' });
  chips.push({ k: 'shuffle BN', v: config.shuffleBN ? `on, ${config.bnGroups} groups` : 'off' });
  return chips;
}

/**
 * The schedule line under the budget bar: `cost factor 1.200 · 5 epochs (6 vanilla-equivalent,
 * same budget), milestones 3`. Milestones at or past the last epoch never lower the LR in this
 * run, so they are not listed as if they did.
 */
export function scheduleText(schedule: { costFactor: number; epochs: number; milestones: number[] }, config: Pick<RunConfig, 'epochs' | 'sameBudget'> | undefined): string {
  const configured = config?.sameBudget ? config.epochs : undefined;
  const milestones = schedule.milestones.filter((m) => m < schedule.epochs);
  return `cost factor ${schedule.costFactor.toFixed(3)} · ${epochsText(schedule.epochs, configured)}${milestones.length ? `, milestones ${milestones.join(', ')}` : ''}`;
}
