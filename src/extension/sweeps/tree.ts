// The sweep nodes of the Runs view: one per sweep (name, executor, array job id, how many points
// are where), its points below with the state the scheduler and the run folder give together
// ("PENDING (Resources)", "RUNNING on node7 12/40", "completed 87.1%", "CANCELLED") and job id.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { displayState, isSettled, type PointState } from '../../engine/sweep/state';
import { runDescription, runTooltip } from '../runGroups';
import type { RunSnapshot } from '../runSnapshot';
import type { SweepView } from './sweepsModel';

export type SweepTreeNode = { kind: 'sweep'; dir: string } | { kind: 'point'; dir: string; index: number };

/** One word per point for the icon and the menus: active (may still run), done, failed. */
export function pointPhase(s: PointState): 'active' | 'done' | 'failed' {
  if (!isSettled(s)) return 'active';
  const d = displayState(s);
  return s.run === 'failed' || /^(FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/.test(d) || (s.run === 'running' && !!s.scheduler) ? 'failed' : 'done';
}

const ICONS = {
  active: new vscode.ThemeIcon('sync~spin'),
  pending: new vscode.ThemeIcon('clock'),
  done: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-stop'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
};

export function pointText(s: PointState): string {
  const d = displayState(s);
  const acc = s.accuracy !== undefined ? ` ${(100 * s.accuracy).toFixed(1)}%` : '';
  const job = s.scheduler?.jobId ?? '';
  return `${d}${acc}${job ? ` · job ${job}` : ''}`;
}

export function sweepSummary(v: SweepView): string {
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

export function sweepItem(v: SweepView): vscode.TreeItem {
  const name = v.manifest?.name ?? path.basename(v.dir);
  const item = new vscode.TreeItem(`Sweep ${name}`, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `sweep:${v.dir}`;
  item.description = sweepSummary(v);
  const active = v.states.some((s) => pointPhase(s) === 'active');
  item.iconPath = v.problem ? new vscode.ThemeIcon('warning') : active ? ICONS.active : new vscode.ThemeIcon('layers');
  item.tooltip = [v.dir, v.problem ?? '', v.schedulerProblem ? `Slurm: ${v.schedulerProblem}` : ''].filter(Boolean).join('\n');
  item.contextValue = `sweep.${v.manifest?.executor ?? 'unknown'}.${active ? 'active' : 'done'}`;
  item.resourceUri = vscode.Uri.file(v.dir);
  return item;
}

export function pointItem(v: SweepView, s: PointState, snap: RunSnapshot | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
  item.id = `sweep-point:${v.dir}:${s.index}`;
  const phase = pointPhase(s);
  item.description = pointText(s);
  item.tooltip = [`${s.name} (point ${s.index})`, `State: ${displayState(s)}`, s.scheduler ? `Slurm job ${s.scheduler.jobId}${s.scheduler.reason ? `, reason ${s.scheduler.reason}` : ''}` : '', snap ? runTooltip(snap) : s.runDir, snap ? runDescription(snap) : '']
    .filter(Boolean).join('\n');
  item.iconPath = phase === 'active' ? (s.scheduler?.state === 'PENDING' || s.run === 'pending' ? ICONS.pending : ICONS.active) : phase === 'failed' ? ICONS.failed : s.run === 'completed' ? ICONS.done : ICONS.stopped;
  // run.* keeps the run menus (dashboard, log, compare) for points that have a folder; Stop and
  // Resume of a sweep point go through the sweep (scancel / the executor), not the job manager.
  item.contextValue = `sweepPoint.${phase}${snap ? '.hasRun' : ''}`;
  if (snap) {
    item.resourceUri = vscode.Uri.file(snap.runDir);
    item.command = { title: 'Open Dashboard', command: 'fastAdvprop.openDashboard', arguments: [snap.runDir] };
  }
  return item;
}
