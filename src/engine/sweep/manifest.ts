// sweep.json: what a sweep is (its points, their run folders and configs), how it was submitted
// (executor, job ids) and when. Replaced whole and atomically on every change, so a watcher (the
// Runs view, `sweep status`) reads either the old or the new manifest, never half of one.
// Paths inside are relative to the sweep folder: a sweep folder moved on a shared filesystem
// still reads; the Slurm batch script carries its own absolute copy.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../run/atomic';
import { FileReadError, readBoundedText } from '../util/boundedRead';
import { UsageError } from '../util/flags';

export const SWEEP_MANIFEST = 'sweep.json';
export const SWEEP_CANCEL_REQUEST = 'cancel.request';
export const SWEEP_EXECUTORS = ['local', 'slurm'] as const;
export type SweepExecutorKind = (typeof SWEEP_EXECUTORS)[number];

/** Scheduler settings of a Slurm sweep, as given on the command line (see slurm/script.ts). */
export interface SlurmSettings {
  partition?: string;
  account?: string;
  /** sbatch --time, e.g. "04:00:00". */
  time?: string;
  /** GPUs per run (--gres=gpu:N); 0 = none asked for. */
  gpus: number;
  cpus: number;
  /** Extra `#SBATCH` lines, without the prefix. */
  extra: string[];
  /** Shell lines run on the node before the engine (module load …, source venv …). */
  setup: string[];
  /** Put in front of the node command (e.g. `apptainer exec img.sif`). */
  prefix?: string;
  /** Seconds before the time limit at which the job checkpoints and requeues itself. */
  signalSeconds: number;
  /** At most this many array tasks at once (%N); 0 = no limit. */
  maxParallel: number;
  /** The node binary on the compute nodes. */
  node: string;
}

/**
 * A corruption evaluation each point's own job runs after training (`study --executor slurm`): on
 * the compute node that trained the run, not on the machine that submitted the sweep. The local
 * executor leaves it to the study, which evaluates in its own process as it always has.
 */
export interface SweepEvaluate {
  corruptions: 'all';
  severities: number[];
  /** First N test images (`evaluate --limit`). */
  images: number;
}

/** What `evaluate` is asked after `--run DIR` (the study's local evaluation asks the same, with --json). */
export function evaluateArgs(e: SweepEvaluate): string[] {
  return ['--corruptions', e.corruptions, '--severities', e.severities.join(','), '--limit', String(e.images)];
}

export interface SweepPointRecord {
  index: number;
  name: string;
  group: string;
  seed: number;
  variant?: string;
  overrides: Record<string, unknown>;
  /** Relative to the sweep folder. */
  runDir: string;
  config: string;
  /** Slurm: `<array job id>_<index>`. */
  jobId?: string;
  /** Cancelled through `sweep cancel` / Stop (a pending Slurm task leaves no other trace). */
  cancelledAt?: string;
  /** Command sweeps: what runs for this point (its `config` is then the shell script holding it). */
  command?: string;
}

export interface SweepManifest {
  schema: 1;
  kind: 'fast-advprop-sweep';
  name: string;
  createdAt: string;
  /** The base config file, absolute; absent for the built-in default. */
  base?: string;
  executor: SweepExecutorKind;
  /** local: runs at once. */
  parallel?: number;
  /** Command sweeps: the template, and the folder the commands run in. */
  command?: string;
  cwd?: string;
  slurm?: SlurmSettings;
  /** Slurm: evaluate each point in its own job after it trains (see SweepEvaluate). */
  evaluate?: SweepEvaluate;
  /** Slurm array job id. */
  jobId?: string;
  submittedAt?: string;
  /** Epoch milliseconds just before sbatch was called, for the submit-to-RUNNING figure. */
  submittedAtMs?: number;
  points: SweepPointRecord[];
}

export class SweepError extends UsageError {}

export function writeManifest(dir: string, m: SweepManifest): void {
  writeFileAtomic(path.join(dir, SWEEP_MANIFEST), JSON.stringify(m, null, 2) + '\n');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A relative path that stays inside the sweep folder (a forged manifest cannot point elsewhere). */
function inside(dir: string, rel: unknown, field: string): string {
  if (typeof rel !== 'string' || rel === '' || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    throw new SweepError(field, `must be a path inside the sweep folder, got ${JSON.stringify(rel)?.slice(0, 80)}; the manifest was edited or forged, recreate the sweep`);
  }
  return path.join(dir, rel);
}

/** Reads and checks sweep.json; every problem is one SweepError naming the field. */
export function readManifest(dir: string): SweepManifest {
  const file = path.join(dir, SWEEP_MANIFEST);
  let text: string;
  try {
    text = readBoundedText(file, 16 * 1024 * 1024, 'a sweep manifest');
  } catch (e) {
    throw new SweepError('sweep', e instanceof FileReadError ? e.message : `${dir} is not a sweep folder (no readable ${SWEEP_MANIFEST}: ${(e as Error).message})`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new SweepError(SWEEP_MANIFEST, `is not valid JSON (${(e as Error).message}); recreate the sweep`);
  }
  if (!isObject(m) || m.kind !== 'fast-advprop-sweep' || m.schema !== 1) throw new SweepError(SWEEP_MANIFEST, 'is not a schema-1 fast-advprop sweep manifest');
  if (!SWEEP_EXECUTORS.includes(m.executor as SweepExecutorKind)) throw new SweepError(`${SWEEP_MANIFEST} executor`, `must be one of ${SWEEP_EXECUTORS.join(', ')}`);
  if (!Array.isArray(m.points)) throw new SweepError(`${SWEEP_MANIFEST} points`, 'must be a list');
  if (m.evaluate !== undefined) checkEvaluate(m.evaluate);
  if (m.jobId !== undefined && (typeof m.jobId !== 'string' || !/^\d+$/.test(m.jobId))) throw new SweepError(`${SWEEP_MANIFEST} jobId`, 'must be a Slurm job id (digits)');
  m.points.forEach((p: unknown, i: number) => {
    const f = `${SWEEP_MANIFEST} points[${i}]`;
    if (!isObject(p) || typeof p.name !== 'string' || p.index !== i || typeof p.group !== 'string') throw new SweepError(f, 'must have index, name and group');
    inside(dir, p.runDir, `${f}.runDir`);
    inside(dir, p.config, `${f}.config`);
    if (p.jobId !== undefined && (typeof p.jobId !== 'string' || !/^\d+(_\d+)?$/.test(p.jobId))) throw new SweepError(`${f}.jobId`, 'must be a Slurm job id like 12_3');
  });
  return m as unknown as SweepManifest;
}

function checkEvaluate(e: unknown): void {
  const f = `${SWEEP_MANIFEST} evaluate`;
  if (!isObject(e) || e.corruptions !== 'all') throw new SweepError(f, 'must be { corruptions: "all", severities, images }; recreate the sweep');
  if (!Array.isArray(e.severities) || e.severities.length === 0 || !e.severities.every((v) => Number.isInteger(v) && v >= 1 && v <= 5)) {
    throw new SweepError(`${f}.severities`, 'must be a non-empty list of severities 1..5; recreate the sweep');
  }
  if (!Number.isInteger(e.images) || (e.images as number) < 1) throw new SweepError(`${f}.images`, 'must be a whole number of test images ≥ 1; recreate the sweep');
}

export function pointRunDir(dir: string, p: SweepPointRecord): string {
  return inside(dir, p.runDir, 'runDir');
}

export function pointConfigFile(dir: string, p: SweepPointRecord): string {
  return inside(dir, p.config, 'config');
}

/**
 * Command points leave no status.json: when they started and how they exited are kept here; so is
 * the exit code of a point's in-job evaluation (`evaluate-exit`), written once it has ended.
 */
export function pointMarker(dir: string, index: number, what: 'started' | 'exit' | 'cancel' | 'evaluate-exit'): string {
  return path.join(dir, 'points', `${index}.${what}`);
}

/** What a point's in-job evaluation printed, after a header line naming the Slurm job and node that ran it. */
export function pointEvaluateLog(dir: string, index: number): string {
  return path.join(dir, 'slurm', `evaluate-${index}.log`);
}

export function isSweepDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, SWEEP_MANIFEST));
}
