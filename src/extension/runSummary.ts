// The few numbers a researcher scans a run list for, derived from its records. Pure.
import { parseSplitString } from '../shared/config';
import type { MetricsRecord } from '../shared/runFormat';
import type { RunSnapshot } from './runSnapshot';

/**
 * Epochs in status.json and metrics records count from 0 (the epoch in progress); people count
 * from 1, as the engine's own progress lines do. A finished run may report epoch = epochs.
 */
export function displayEpoch(epoch: number, epochs?: number): number {
  const shown = epoch + 1;
  return epochs && epochs > 0 ? Math.min(shown, epochs) : shown;
}

/** Fraction of attacked images per step: from the engine's batch record, else the config. */
export function pAdvOf(s: RunSnapshot): number | undefined {
  const rec = s.config;
  if (!rec) return undefined;
  if (rec.config?.method === 'vanilla') return undefined;
  if (rec.batch && rec.batch.clean + rec.batch.adv > 0) return rec.batch.adv / (rec.batch.clean + rec.batch.adv);
  const c = rec.config;
  if (c?.split) {
    try {
      const [clean, adv] = parseSplitString(c.split);
      return adv / (clean + adv);
    } catch {
      return undefined;
    }
  }
  return c?.pAdv;
}

export function bestTestAccuracy(s: RunSnapshot): number | undefined {
  let best: number | undefined;
  for (const r of s.metrics) {
    if (r.kind === 'epoch' && typeof r.test?.acc === 'number' && (best === undefined || r.test.acc > best)) best = r.test.acc;
  }
  const final = s.results?.clean?.accuracy;
  if (typeof final === 'number' && (best === undefined || final > best)) best = final;
  return best;
}

/** Latest clean accuracy: the last epoch's test accuracy, else the last interval's train accuracy. */
export function latestAccuracy(metrics: readonly MetricsRecord[]): { value: number; what: string; short: 'test acc' | 'train acc' } | undefined {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const r = metrics[i];
    if (r.kind === 'epoch' && typeof r.test?.acc === 'number') return { value: r.test.acc, what: `clean test accuracy after epoch ${displayEpoch(r.epoch)}`, short: 'test acc' };
    if (r.kind === 'step' && typeof r.clean?.acc === 'number') {
      // An epoch record further back is still the better number to show.
      for (let j = i - 1; j >= 0; j--) {
        const e = metrics[j];
        if (e.kind === 'epoch' && typeof e.test?.acc === 'number') return { value: e.test.acc, what: `clean test accuracy after epoch ${displayEpoch(e.epoch)}`, short: 'test acc' };
      }
      return { value: r.clean.acc, what: 'clean train accuracy (last interval)', short: 'train acc' };
    }
  }
  return undefined;
}

/** mCE (ImageNet-C convention) or, failing that, the mean corruption error, from robustness.json. */
export function mceOf(robustness: unknown): { value: number; label: string } | undefined {
  const summary = (robustness as { summary?: { mCE?: unknown; meanCorruptionError?: unknown } } | undefined)?.summary;
  if (!summary) return undefined;
  if (typeof summary.mCE === 'number' && Number.isFinite(summary.mCE)) return { value: summary.mCE, label: 'mCE' };
  if (typeof summary.meanCorruptionError === 'number' && Number.isFinite(summary.meanCorruptionError)) return { value: summary.meanCorruptionError, label: 'mean CE' };
  return undefined;
}

export function progressFraction(s: RunSnapshot): number | undefined {
  const p = s.status?.progress;
  if (!p || !(p.totalSteps > 0)) return undefined;
  return Math.min(1, Math.max(0, p.step / p.totalSteps));
}

export function leakFlagged(s: RunSnapshot): boolean {
  if (s.status?.leak?.flagged || s.results?.leak?.flagged) return true;
  for (let i = s.metrics.length - 1; i >= 0; i--) {
    const r = s.metrics[i];
    if (r.kind === 'step' && r.leak) return r.leak.flagged === true;
  }
  return false;
}
