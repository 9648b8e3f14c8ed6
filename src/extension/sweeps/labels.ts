// The words the Runs view shows for a sweep and its points. Pure (no vscode), so unit tested.
import { displayState, isSettled, type PointState } from '../../engine/sweep/state';
import type { SweepView } from './sweepsModel';

/** One word per point for the icon and the menus: active (may still run), done, failed. */
export function pointPhase(s: PointState): 'active' | 'done' | 'failed' {
  if (!isSettled(s)) return 'active';
  const d = displayState(s);
  return s.run === 'failed' || /^(FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/.test(d) || (s.run === 'running' && !!s.scheduler) ? 'failed' : 'done';
}

export function pointText(s: PointState): string {
  const d = displayState(s);
  const acc = s.accuracy !== undefined ? ` ${(100 * s.accuracy).toFixed(1)}%` : '';
  const job = s.scheduler?.jobId ?? '';
  return `${d}${acc}${job ? ` · job ${job}` : ''}`;
}

export function sweepSummary(v: Pick<SweepView, 'manifest' | 'states' | 'schedulerProblem'>): string {
  if (!v.manifest) return 'unreadable';
  const counts = new Map<string, number>();
  for (const s of v.states) {
    const w = displayState(s).split(' ')[0];
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const parts = [...counts.entries()].map(([w, n]) => `${n} ${w}`);
  const m = v.manifest;
  return [`${m.executor}${m.jobId ? ` job ${m.jobId}` : ''}`, parts.join(', '), ...(v.schedulerProblem ? ['squeue unavailable'] : [])].join(' · ');
}

