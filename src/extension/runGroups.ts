// How the Runs view groups and labels runs. Pure, so the grouping rules are tested directly.
import { backendLabel } from '../shared/backendLabel';
import { labelNamesMethod, runStartedStamp, shortRunLabel } from '../shared/runLabel';
import type { RunSnapshot } from './runSnapshot';
import type { ForeignOrigin } from '../shared/foreign/foreignRun';
import { foreignTooltipLines } from './foreign/foreignLabels';
import { bestTestAccuracy, displayEpoch, leakFlagged, mceOf, pAdvOf, progressFraction } from './runSummary';

export const RUN_GROUPS = ['running', 'queued', 'completed', 'stopped', 'failed', 'crashed', 'reference', 'timm', 'tensorboard', 'unknown'] as const;
export type RunGroup = (typeof RUN_GROUPS)[number];

export const GROUP_LABELS: Record<RunGroup, string> = {
  running: 'Running', queued: 'Queued', completed: 'Completed', stopped: 'Stopped', failed: 'Failed', crashed: 'Crashed', unknown: 'Unreadable',
  // Runs other trainers wrote, one group per writer: the group names the origin, so each row's
  // description keeps its room for the figures (#16).
  reference: 'PyTorch reference', timm: 'timm', tensorboard: 'TensorBoard',
};

const FOREIGN_GROUPS: Record<ForeignOrigin, RunGroup> = { 'PyTorch reference': 'reference', timm: 'timm', TensorBoard: 'tensorboard' };

export function runGroupOf(s: RunSnapshot): RunGroup {
  // Another trainer's run has no state we can vouch for (an event file says nothing of its process).
  if (s.foreign) return FOREIGN_GROUPS[s.foreign.origin];
  const st = s.status;
  if (!st) {
    // No status yet: this window just spawned the engine and it has not written one.
    return s.alive ? 'running' : 'unknown';
  }
  switch (st.state) {
    case 'running':
      // A run on another machine (run.lock's host) cannot be checked from here: it counts as running.
      return s.alive || s.elsewhere ? 'running' : 'crashed';
    case 'queued':
      return 'queued';
    case 'completed':
    case 'stopped':
    case 'failed':
      return st.state;
    default:
      return 'unknown';
  }
}

export function groupRuns(runs: readonly RunSnapshot[]): { group: RunGroup; label: string; runs: RunSnapshot[] }[] {
  const by = new Map<RunGroup, RunSnapshot[]>();
  for (const r of runs) {
    const g = runGroupOf(r);
    if (!by.has(g)) by.set(g, []);
    by.get(g)!.push(r);
  }
  return RUN_GROUPS.filter((g) => by.has(g)).map((g) => ({
    group: g,
    label: GROUP_LABELS[g],
    // Queued runs in the order they will start; everything else newest first.
    runs: by.get(g)!.sort((a, b) => (g === 'queued' ? a.createdMs - b.createdMs : b.createdMs - a.createdMs)),
  }));
}

/** The Runs view's label: see shortRunLabel. A foreign run's is its folder's name (its origin leads the description). */
export function runLabel(s: Pick<RunSnapshot, 'name'> & Partial<Pick<RunSnapshot, 'runDir' | 'foreign'>>): string {
  if (s.foreign && s.runDir) return s.runDir.split(/[\\/]/).filter(Boolean).pop() ?? s.name;
  return shortRunLabel(s.name);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * `45% · p_adv 0.20` while training; best accuracy, mCE and a leak mark after. The figures come
 * first so a narrow sidebar cuts the settings, not them; the method is left out when the label
 * already starts with it.
 */
export function runDescription(s: RunSnapshot): string {
  const parts: string[] = [];
  const group = runGroupOf(s);
  if (group === 'running') {
    const f = progressFraction(s);
    parts.push(f === undefined ? 'starting' : `${Math.floor(f * 100)}%`);
  } else {
    const best = bestTestAccuracy(s);
    if (best !== undefined) parts.push(pct(best));
  }
  const mce = mceOf(s.robustness);
  if (mce) parts.push(`${mce.label} ${mce.value.toFixed(1)}`);
  if (leakFlagged(s)) parts.push('⚠ leak');
  if (group === 'unknown') parts.push(s.statusProblem ? 'status unreadable' : 'no status');
  const method = s.config?.config?.method;
  if (method && !labelNamesMethod(s.name)) parts.push(method);
  const p = pAdvOf(s);
  if (p !== undefined) parts.push(`p_adv ${p.toFixed(2)}`);
  // Last, so a narrow sidebar cuts it before the figures; the tooltip always has it.
  const b = s.config?.backend;
  if (b?.gpu) parts.push(backendLabel(b));
  return parts.join(' · ');
}

export function runTooltip(s: RunSnapshot): string {
  const started = runStartedStamp(s.name);
  const lines = [`${s.name}`, s.runDir];
  if (started) lines.push(`Started: ${started}`);
  const c = s.config;
  const st = s.status;
  lines.push(`State: ${GROUP_LABELS[runGroupOf(s)]}${st?.pid && s.alive ? ` (pid ${st.pid})` : ''}${s.elsewhere && !s.alive ? ` on ${s.elsewhere} (not checked from here)` : ''}`);
  if (c?.config) {
    lines.push(`Method: ${c.config.method}${c.config.split ? `, split ${c.config.split}` : ''}, K=${c.config.attack?.steps}`);
    lines.push(`Model: ${c.model?.arch ?? c.config.model?.arch} ×${c.model?.width ?? c.config.model?.width}, dataset ${c.dataset?.name ?? c.config.dataset?.name}`);
  }
  if (c?.backend) lines.push(`Backend: ${backendLabel(c.backend)}`);
  if (st?.progress) lines.push(`Progress: epoch ${displayEpoch(st.progress.epoch, st.progress.epochs)}/${st.progress.epochs}, step ${st.progress.step}/${st.progress.totalSteps}`);
  const best = bestTestAccuracy(s);
  if (best !== undefined) lines.push(`Best clean test accuracy: ${pct(best)}`);
  const mce = mceOf(s.robustness);
  if (mce) lines.push(`${mce.label}: ${mce.value.toFixed(1)}`);
  if (leakFlagged(s)) lines.push(`⚠ Label leak: ${st?.leak?.message ?? s.results?.leak?.message ?? 'adversarial accuracy above clean accuracy'}`);
  if (s.foreign) lines.push(...foreignTooltipLines(s.foreign));
  if (st?.error?.message) lines.push(`Error: ${st.error.message}`);
  if (s.crashed) lines.push('The process is gone but the status was never finalised: it was killed or crashed. Resume continues from the last checkpoint.');
  if (s.crashed && s.staleOwner) lines.push(`Not running: ${s.staleOwner}.`);
  if (s.statusProblem) lines.push(`status.json is ${s.statusProblem}`);
  return lines.join('\n');
}

/**
 * contextValue for menus: `run.<group>` plus `.evaluated` once robustness.json exists; a foreign
 * run is `foreign[.evaluated]`, which no Stop / Resume / Evaluate / Delete `when` clause matches.
 */
export function runContextValue(s: RunSnapshot): string {
  return `${s.foreign ? 'foreign' : `run.${runGroupOf(s)}`}${s.robustness ? '.evaluated' : ''}`;
}
