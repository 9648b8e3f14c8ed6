// The run folder is the only interface between the engine and everything that watches it (the
// extension, a terminal user, a remote box). These are its records; docs/run-format.md says the
// same in prose. Keep both in step, and bump a schema number when a record changes shape.

import type { BackendName, RunConfig } from './config';

export const RUN_FILES = {
  config: 'config.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  robustness: 'robustness.json',
  log: 'engine.log',
  checkpoints: 'checkpoints',
  stopRequest: 'stop.request',
} as const;

export const METRICS_SCHEMA = 1;
export const STATUS_SCHEMA = 1;
export const RESULTS_SCHEMA = 1;

export type RunState = 'queued' | 'running' | 'completed' | 'failed' | 'stopped';
export const FINAL_STATES: readonly RunState[] = ['completed', 'failed', 'stopped'];

/** The GPU adapter a webgpu backend runs on, as Dawn reports it. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's backend under WebGPU: Vulkan for a real GPU, OpenGL (EGL) for Mesa's software rasteriser. */
  api: 'vulkan' | 'opengl';
  /** The adapter says it is a fallback adapter. */
  fallback: boolean;
  /** A CPU rasteriser (llvmpipe, lavapipe, SwiftShader) or a fallback adapter: correct, not fast. */
  software: boolean;
}

/**
 * `run.lock`: who owns a run folder right now. The engine creates it exclusively before it reads or
 * writes anything in the folder and removes it when it exits; nothing else writes it. status.json's
 * pid is for display only: a pid can be forged or reused, `startTime` cannot be matched by another
 * process (see docs/run-format.md).
 */
export const RUN_LOCK_FILE = 'run.lock';

export interface RunLock {
  schema: 1;
  pid: number;
  /**
   * `<boot id>:<start time in clock ticks since boot>` of `pid` (Linux: /proc/sys/kernel/random/boot_id
   * and field 22 of /proc/<pid>/stat), so a pid reused by another process, or after a reboot,
   * never matches; null where the OS does not tell (then only liveness and host are checked).
   */
  startTime: string | null;
  /** Random per acquisition: tells two owners of the same pid apart, and lets an owner remove only its own lock. */
  nonce: string;
  host: string;
  acquiredAt: string;
  /** e.g. "train", "train --resume", "evaluate". */
  command: string;
}

export interface BackendInfo {
  /** The backend that trains, as tfjs names it: 'tensorflow' (tfjs-node or tfjs-node-gpu), 'webgpu', 'wasm', 'cpu'. */
  name: string;
  requested: BackendName;
  /** Which package provided it, e.g. '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'. */
  package: string;
  gpu: boolean;
  /** Why this one: the order tried and what failed (e.g. the tfjs-node-gpu load error). */
  reason: string;
  attempts: { backend: string; ok: boolean; error?: string }[];
  workers: number;
  /** webgpu only: the adapter that trains. */
  adapter?: AdapterDescription;
}

/** config.json: the fully resolved config plus what the engine decided about it. */
export interface RunConfigRecord {
  schema: 1;
  runName: string;
  createdAt: string;
  config: RunConfig;
  /** Budget calibration actually applied (epochs/milestones after sameBudget). */
  schedule: { epochs: number; milestones: number[]; costFactor: number; stepsPerEpoch: number; totalSteps: number };
  /** Batch composition: clean images, attacked images per step. */
  batch: { clean: number; adv: number };
  backend: BackendInfo;
  dataset: { name: string; source: string; train: number; test: number; height: number; width: number; channels: number; numClasses: number; classNames: string[] };
  model: { arch: string; width: number; params: { shared: number; clean: number; adv: number } };
  engine: { version: string; node: string; argv: string[] };
  /** One entry per resume (or `restarted` from step 0); `datasetPath` when that resume re-pointed the data. */
  resumedFrom?: { step: number; at: string; restarted?: true; datasetPath?: { from: string | null; to: string } }[];
}

export interface LeakFlag {
  flagged: boolean;
  /** Mean train accuracy over the detector window, per stream. */
  clean: number;
  adv: number;
  step: number;
  message: string;
}

/** status.json: rewritten atomically; readers trust `pid` only while that process is alive. */
export interface RunStatus {
  schema: 1;
  state: RunState;
  pid: number | null;
  startedAt: string | null;
  updatedAt: string;
  endedAt?: string;
  progress: { epoch: number; epochs: number; step: number; totalSteps: number; imagesPerSecond?: number; etaSeconds?: number };
  error?: { message: string; field?: string; step?: number; stream?: string };
  leak?: LeakFlag;
  lastCheckpoint?: { step: number; epoch: number; path: string };
  backend?: string;
}

export interface StreamStats {
  loss: number;
  /** Top-1 accuracy in [0, 1] over the interval. */
  acc: number;
  /** Images that passed through this stream in the interval. */
  images: number;
}

/** One line of metrics.jsonl. `kind` tells records apart; new kinds may appear, readers skip unknown ones. */
export type MetricsRecord =
  | {
      v: 1;
      kind: 'step';
      t: string;
      step: number;
      epoch: number;
      lr: number;
      /** Total loss of the step as optimised (weighted sum / divisor of the shared group). */
      loss: number;
      clean: StreamStats;
      noise?: StreamStats;
      adv?: StreamStats;
      imagesPerSecond: number;
      /** Streamed datasets only: the fraction (0..1) of the interval's time spent waiting for decoded images. */
      dataWait?: number;
      /** Counted image-passes (forward+backward of one image = 1) so far, per stream. */
      passes: { clean: number; attack: number; adv: number };
      leak?: LeakFlag;
    }
  | { v: 1; kind: 'epoch'; t: string; epoch: number; step: number; test: { loss: number; acc: number }; train: { loss: number; acc: number }; seconds: number }
  | { v: 1; kind: 'event'; t: string; step: number; event: string; message: string };

/** results.json: written once when the run ends. */
export interface RunResults {
  schema: 1;
  state: RunState;
  clean: { accuracy: number; loss: number };
  epochs: number;
  steps: number;
  wallSeconds: number;
  imagesPerSecond: number;
  passes: { clean: number; attack: number; adv: number; total: number };
  plannedPasses: number;
  leak?: LeakFlag;
}

/**
 * Parses metrics.jsonl text. A writer killed mid-line leaves a torn last line: it is dropped
 * silently. A bad line elsewhere is skipped and reported, never thrown.
 */
export function parseMetricsLines(text: string): { records: MetricsRecord[]; skipped: { line: number; reason: string }[] } {
  const records: MetricsRecord[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const lines = text.split('\n');
  const lastComplete = text.endsWith('\n') ? lines.length - 1 : lines.length - 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      const rec = JSON.parse(line) as unknown;
      if (typeof rec !== 'object' || rec === null || typeof (rec as { kind?: unknown }).kind !== 'string') {
        skipped.push({ line: i + 1, reason: 'not a metrics record (no "kind")' });
        continue;
      }
      records.push(rec as MetricsRecord);
    } catch {
      // The final line without a trailing newline is a torn write, not corruption.
      if (!(i === lastComplete && !text.endsWith('\n'))) skipped.push({ line: i + 1, reason: 'invalid JSON' });
    }
  }
  return { records, skipped };
}

/** Parses status.json; returns undefined (not an exception) for a missing or unreadable record. */
export function parseStatus(text: string): RunStatus | undefined {
  try {
    const s = JSON.parse(text) as RunStatus;
    if (typeof s !== 'object' || s === null || typeof s.state !== 'string') return undefined;
    return s;
  } catch {
    return undefined;
  }
}

/**
 * Appends `rec` to a list of records in file order so that the list keeps one record per step.
 * A resume continues from its checkpoint's step: what the killed session wrote after that step
 * (and an older engine did not cut) is superseded. So a `resume`/`restart` event drops every
 * record after its step, and a step record drops the records from an earlier write of its step
 * on: the last write for a step wins. Other records (epoch ends, other events) never rewind.
 * Returns `list` itself when it only grew, a new array when records were dropped (so a follower
 * can tell the two apart by identity).
 */
export function addMetricsRecord(list: MetricsRecord[], rec: MetricsRecord): MetricsRecord[] {
  const s = (rec as { step?: unknown }).step;
  const rewinds = rec.kind === 'step' || (rec.kind === 'event' && (rec.event === 'resume' || rec.event === 'restart'));
  if (!rewinds || typeof s !== 'number' || !Number.isFinite(s)) {
    list.push(rec);
    return list;
  }
  const stepAt = (i: number): number => {
    const v = (list[i] as { step?: unknown }).step;
    return typeof v === 'number' ? v : -Infinity;
  };
  // Keep records with step < s when rec is a step record that repeats one, else with step <= s.
  let cut = list.length;
  let repeats = false;
  while (cut > 0 && stepAt(cut - 1) >= s) {
    if (stepAt(cut - 1) > s || (rec.kind === 'step' && list[cut - 1].kind === 'step')) repeats = true;
    cut--;
  }
  if (!repeats) {
    list.push(rec);
    return list;
  }
  // Records at step s that are not step records (an event before the repeat) go with the repeat
  // only when rec is a step record; a rewinding event keeps the records of its own step.
  let keep = cut;
  if (rec.kind !== 'step') while (keep < list.length && stepAt(keep) === s) keep++;
  const out = list.slice(0, keep);
  out.push(rec);
  return out;
}

/** The records of a whole metrics.jsonl, one per step (see addMetricsRecord). */
export function oneRecordPerStep(records: readonly MetricsRecord[]): MetricsRecord[] {
  let list: MetricsRecord[] = [];
  for (const r of records) list = addMetricsRecord(list, r);
  return list;
}
