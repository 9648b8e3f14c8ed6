// The sweep nodes of the Runs view: one per sweep (name, executor, array job id, how many points
// are where), its points below with the state the scheduler and the run folder give together
// ("PENDING (Resources)", "RUNNING on node7 12/40", "completed 87.1%", "CANCELLED") and job id.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { displayState, type PointState } from '../../engine/sweep/state';
import { pointPhase, pointText, sweepSummary } from './labels';
import { runDescription, runTooltip } from '../runGroups';
import type { RunSnapshot } from '../runSnapshot';
import type { SweepView } from './sweepsModel';

export type SweepTreeNode = { kind: 'sweep'; dir: string } | { kind: 'point'; dir: string; index: number };

const ICONS = {
  active: new vscode.ThemeIcon('sync~spin'),
  pending: new vscode.ThemeIcon('clock'),
  done: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  stopped: new vscode.ThemeIcon('debug-stop'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
};

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
