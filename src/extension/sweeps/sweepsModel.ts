// Follows the sweeps in the runs folder: their manifests, each point's state from its run folder,
// and for Slurm sweeps what squeue says (PENDING + reason, RUNNING on a node, how a job ended).
// squeue is asked every few seconds while a sweep has unsettled points, never otherwise; where it
// cannot run (no Slurm on this machine) the sweep shows its run folders and says so once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readManifest, type SweepManifest } from '../../engine/sweep/manifest';
import { runSlurm, squeueArray, type SlurmRunner } from '../../engine/sweep/slurm/commands';
import { isSettled, readSweepState, type PointState, type SchedulerInfo } from '../../engine/sweep/state';
import type { RunsModel } from '../services';
import { isSweepFolder } from './runFolders';

export interface SweepView {
  dir: string;
  manifest?: SweepManifest;
  /** Why the manifest cannot be read (forged, torn, not ours). */
  problem?: string;
  states: PointState[];
  /** Why the scheduler could not be asked (no squeue here, squeue failed). */
  schedulerProblem?: string;
}

const QUERY_MS = 3000;

export class SweepsModel implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private views = new Map<string, SweepView>();
  private queues = new Map<string, Map<number, SchedulerInfo>>();
  private problems = new Map<string, string>();
  private readonly sub: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;
  private querying = false;
  private soon: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly runs: RunsModel,
    private readonly onSchedulerProblem: (message: string) => void,
    private readonly slurm: SlurmRunner = runSlurm,
  ) {
    this.sub = runs.onDidChange(() => this.refreshSoon());
    this.refresh();
    this.timer = setInterval(() => void this.query(), QUERY_MS);
    void this.query();
  }

  list(): SweepView[] {
    return [...this.views.values()].sort((a, b) => (b.manifest?.createdAt ?? '').localeCompare(a.manifest?.createdAt ?? ''));
  }

  get(dir: string): SweepView | undefined {
    return this.views.get(path.resolve(dir));
  }

  /** The sweep a run folder belongs to (`<sweep>/runs/<name>`), if any. */
  sweepOf(runDir: string): string | undefined {
    const sweep = path.dirname(path.dirname(path.resolve(runDir)));
    return this.views.has(sweep) ? sweep : undefined;
  }

  refresh(): void {
    const folder = this.runs.runsFolder;
    let names: string[] = [];
    try {
      names = fs.readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      /* no runs folder yet */
    }
    const next = new Map<string, SweepView>();
    for (const n of names) {
      const dir = path.join(folder, n);
      if (!isSweepFolder(dir)) continue;
      try {
        const manifest = readManifest(dir);
        const q = this.queues.get(dir) ?? new Map();
        next.set(dir, { dir, manifest, states: readSweepState(dir, manifest, q), ...(this.problems.has(dir) ? { schedulerProblem: this.problems.get(dir)! } : {}) });
      } catch (e) {
        next.set(dir, { dir, problem: (e as Error).message, states: [] });
      }
    }
    this.views = next;
    this.emitter.fire();
  }

  private refreshSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.refresh();
    }, 150);
  }

  /** squeue for every Slurm sweep with a point not yet settled. */
  async query(): Promise<void> {
    if (this.querying) return;
    this.querying = true;
    try {
      let changed = false;
      for (const v of this.views.values()) {
        const m = v.manifest;
        if (!m || m.executor !== 'slurm' || !m.jobId) continue;
        if (v.states.length && v.states.every(isSettled) && this.queues.has(v.dir)) continue;
        try {
          this.queues.set(v.dir, await squeueArray(this.slurm, m.jobId));
          if (this.problems.delete(v.dir)) changed = true;
          changed = true;
        } catch (e) {
          const msg = (e as Error).message.replace(/^slurm: /, '');
          if (this.problems.get(v.dir) !== msg) changed = true;
          this.problems.set(v.dir, msg);
          if (!this.warned) {
            this.warned = true;
            this.onSchedulerProblem(`Fast AdvProp: cannot ask Slurm about sweep "${m.name}": ${msg}. Its runs are shown from their run folders only.`);
          }
        }
      }
      if (changed) this.refresh();
    } finally {
      this.querying = false;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.sub.dispose();
    this.emitter.dispose();
  }
}
