// Where each point of a sweep stands. The run folder comes first: it is what the engine itself
// wrote (running, step, completed with its accuracy, stopped, failed). The scheduler adds what
// only it knows: a job that is PENDING (and why), which node it RUNS on, and how it ended when
// the engine could not say (CANCELLED before it started, TIMEOUT, node failure).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, parseStatus, type RunResults, type RunState } from '../../shared/runFormat';
import { readBoundedText } from '../util/boundedRead';
import { pointMarker, pointRunDir, type SweepManifest, type SweepPointRecord } from './manifest';
import type { SeedRow } from './aggregate';

/** What a scheduler (squeue) says about one task. */
export interface SchedulerInfo {
  jobId: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, … as Slurm spells them. */
  state: string;
  reason?: string;
  node?: string;
}

export interface PointState {
  index: number;
  name: string;
  group: string;
  seed: number;
  runDir: string;
  /** From the run folder; 'pending' while it has none, 'cancelled' when cancelled before it had one. */
  run: RunState | 'pending' | 'cancelled';
  step?: number;
  totalSteps?: number;
  accuracy?: number;
  error?: string;
  scheduler?: SchedulerInfo;
  /** Completed, and its job is to evaluate it next (a study on Slurm) and has not recorded doing so. */
  evaluating?: boolean;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readBoundedText(file, 4 * 1024 * 1024));
  } catch {
    return undefined;
  }
}

/** `evaluates`: the manifest has each job evaluate its run after training (SweepManifest.evaluate). */
export function readPointState(dir: string, p: SweepPointRecord, scheduler?: SchedulerInfo, evaluates = false): PointState {
  const runDir = pointRunDir(dir, p);
  const base = { index: p.index, name: p.name, group: p.group, seed: p.seed, runDir, ...(scheduler ? { scheduler } : {}) };
  if (p.command !== undefined) return commandPointState(dir, p, base);
  let text: string | undefined;
  try {
    text = readBoundedText(path.join(runDir, RUN_FILES.status), 1024 * 1024);
  } catch {
    /* no folder yet */
  }
  const st = text === undefined ? undefined : parseStatus(text);
  if (!st) {
    // The engine refused the point before it made a run folder (a dataset that is not there on the node…).
    const exit = exitCode(dir, p);
    if (exit !== undefined && exit !== '0') return { ...base, run: 'failed', error: `train exited ${exit} before writing its run folder; see the sweep's log or slurm/*.out` };
    return { ...base, run: p.cancelledAt && !fs.existsSync(runDir) ? 'cancelled' : 'pending' };
  }
  // Taken out of the run queue before it ever started (Stop Sweep, Stop on the point): cancelled, as on Slurm.
  if (st.state === 'stopped' && st.startedAt === null) return { ...base, run: 'cancelled' };
  const out: PointState = { ...base, run: st.state, step: st.progress.step, totalSteps: st.progress.totalSteps };
  if (st.error) out.error = st.error.message;
  if (st.state === 'completed') {
    const r = readJson(path.join(runDir, RUN_FILES.results)) as RunResults | undefined;
    const acc = r?.clean?.accuracy;
    if (typeof acc === 'number' && Number.isFinite(acc)) out.accuracy = acc;
    if (evaluates && !fs.existsSync(pointMarker(dir, p.index, 'evaluate-exit'))) out.evaluating = true;
  }
  return out;
}

/**
 * A command point (someone else's training code) writes no status.json: its exit code, recorded by
 * the executor, says completed or failed; until then it is running once started. No accuracy is
 * read from its folder (that is the foreign-run readers' job), so the table shows its state only.
 */
function exitCode(dir: string, p: SweepPointRecord): string | undefined {
  try {
    return readBoundedText(pointMarker(dir, p.index, 'exit'), 1024).trim();
  } catch {
    return undefined;
  }
}

function commandPointState(dir: string, p: SweepPointRecord, base: Omit<PointState, 'run'>): PointState {
  const exit = exitCode(dir, p);
  if (exit !== undefined) return exit === '0' ? { ...base, run: 'completed' } : { ...base, run: 'failed', error: `the command exited ${exit}` };
  if (fs.existsSync(pointMarker(dir, p.index, 'started'))) return { ...base, run: 'running' };
  return { ...base, run: p.cancelledAt ? 'cancelled' : 'pending' };
}

export function readSweepState(dir: string, m: SweepManifest, scheduler: ReadonlyMap<number, SchedulerInfo> = new Map()): PointState[] {
  return m.points.map((p) => readPointState(dir, p, scheduler.get(p.index), m.evaluate !== undefined));
}

const FINAL = new Set(['completed', 'failed', 'stopped', 'cancelled']);

/** Scheduler states of a job that still has work to do (or will, after a requeue). */
const ACTIVE_JOB = new Set(['PENDING', 'RUNNING', 'REQUEUED', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'RESIZING', 'REQUEUE_HOLD', 'REQUEUE_FED']);

/**
 * One word for a point: the run folder's final state wins (except "evaluating" for a completed run
 * its job is still evaluating); while it is not final, a scheduler state that is (CANCELLED,
 * TIMEOUT, FAILED, NODE_FAIL…) or that says more (PENDING) is shown.
 */
export function displayState(s: PointState): string {
  const q = s.scheduler;
  // Trained, and its job now evaluates it: "completed" would read as done while the job still runs.
  if (s.run === 'completed' && s.evaluating && q?.state === 'RUNNING') return `evaluating${q.node ? ` on ${q.node}` : ''}`;
  if (FINAL.has(s.run)) return s.run;
  if (q) {
    if (q.state === 'PENDING') return `PENDING${q.reason && q.reason !== 'None' ? ` (${q.reason})` : ''}`;
    if (q.state === 'RUNNING') return `RUNNING${q.node ? ` on ${q.node}` : ''}${s.step !== undefined && s.totalSteps ? ` ${s.step}/${s.totalSteps}` : ''}`;
    return q.state;
  }
  if (s.run === 'running' && s.step !== undefined && s.totalSteps) return `running ${s.step}/${s.totalSteps}`;
  return s.run;
}

export function isSettled(s: PointState): boolean {
  const q = s.scheduler?.state;
  // A final run folder whose job is still active is not done: a stopped run requeued (or still
  // writing its checkpoint), a completed one its job is still evaluating (a study on Slurm).
  if (FINAL.has(s.run)) return q === undefined || !ACTIVE_JOB.has(q);
  return q !== undefined && !ACTIVE_JOB.has(q);
}

export function seedRows(states: readonly PointState[]): SeedRow[] {
  return states.map((s) => ({ group: s.group, seed: s.seed, state: displayState(s).split(' ')[0], value: s.run === 'completed' && s.accuracy !== undefined ? s.accuracy : null }));
}
