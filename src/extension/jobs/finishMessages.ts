// What the user is told when something they started from VS Code ends. Before, a finished run
// only made the status-bar item disappear and an evaluation's progress toast vanish, so nothing
// said "finished" or what came out. Pure (no vscode import) so the wording is unit tested.
import type { RunResults, RunStatus } from '../../shared/runFormat';
import { mceOf } from '../runSummary';

export type FinishAction = 'Open Dashboard' | 'Show Log' | 'Open Robustness Panel';

export interface FinishMessage {
  severity: 'info' | 'warning' | 'error';
  text: string;
  /** The one action worth a click; the notification offers only this. */
  action: FinishAction;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** The notification for a training run that ended, from its final status.json and results.json. */
export function trainingFinished(name: string, status: RunStatus | undefined, results: RunResults | undefined, consoleTail = ''): FinishMessage {
  const state = status?.state;
  if (state === 'completed') {
    const acc = results?.clean?.accuracy;
    const what = typeof acc === 'number' && Number.isFinite(acc) ? `test accuracy ${pct(acc)}` : 'no test accuracy recorded';
    return { severity: 'info', text: `Fast AdvProp: run ${name} completed: ${what}.`, action: 'Open Dashboard' };
  }
  if (state === 'stopped') {
    const p = status?.progress;
    const where = p && p.totalSteps > 0 ? ` at step ${p.step}/${p.totalSteps}` : '';
    return { severity: 'warning', text: `Fast AdvProp: run ${name} stopped${where}; Resume on its dashboard continues from the last checkpoint.`, action: 'Open Dashboard' };
  }
  const why = status?.error?.message ?? (consoleTail || 'no error message');
  return { severity: 'error', text: `Fast AdvProp: run ${name} failed: ${why}`, action: 'Show Log' };
}

/** The notification for an evaluation that finished, from the robustness.json it wrote. */
export function evaluationFinished(name: string, robustness: unknown): FinishMessage {
  const parts: string[] = [];
  const clean = (robustness as { clean?: { accuracy?: unknown } } | undefined)?.clean?.accuracy;
  if (typeof clean === 'number' && Number.isFinite(clean)) parts.push(`clean accuracy ${pct(clean)}`);
  const mce = mceOf(robustness);
  // Both figures are already in percent (mCE of AlexNet's error, mean CE of 100).
  if (mce) parts.push(`${mce.label} ${mce.value.toFixed(1)}${mce.label === 'mCE' ? '' : ' %'}`);
  return { severity: 'info', text: `Fast AdvProp: robustness of ${name} evaluated${parts.length ? `: ${parts.join(', ')}` : ''}.`, action: 'Open Robustness Panel' };
}
