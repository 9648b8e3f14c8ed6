import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, resolveConfig, type BackendName, type RunConfig } from '../../shared/config';
import { RUN_FILES, parseStatus, type RunConfigRecord, type RunStatus } from '../../shared/runFormat';
import type { Executor } from '../exec/types';
import { removeStaleTemps } from '../run/atomic';
import { CheckpointError, LAST_CHECKPOINT, NoCheckpointError, checkpointDir, loadCheckpoint } from '../run/checkpoint';
import { cutMetricsAfter } from '../run/metricsTruncate';
import { RunWriter } from '../run/runDir';
import { RunRecordError, readRunRecord } from '../run/runRecord';
import { READ_LIMITS, folderProblem, readBoundedText } from '../util/boundedRead';
import type { EngineDeps } from './engineDeps';
import { datasetInfo, openExecutor, prepare, type Prepared } from './prepare';
import { shellQuote } from '../../shared/shellQuote';
import { checkpointFits, configHash } from './trainer';

// `train --resume RUN` and `train --restart RUN` are all or nothing: planResume reads and checks
// everything (config.json, status, the checkpoint and its provenance, the dataset, the backend)
// and writes nothing; only when every check passed does beginResume touch the run folder. A
// refusal therefore leaves the folder exactly as it was.

/** A resume that cannot go ahead; `field` is the flag or file to fix. */
export class ResumeRefusal extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ResumeRefusal';
  }
}

export interface ResumeRequest {
  runDir: string;
  /** Start again from step 0 instead of a checkpoint (only for a run that has none). */
  restart: boolean;
  maxSteps?: number;
  backend?: string;
  workers?: number;
  /** A new folder for the run's dataset (it moved); resolved against the working folder. */
  datasetPath?: string;
}

export type LoadedCheckpoint = ReturnType<typeof loadCheckpoint>;

export interface ResumePlan {
  runDir: string;
  record: RunConfigRecord;
  prev: RunStatus | undefined;
  prepared: Prepared;
  /** Undefined for a restart from step 0. */
  ckpt: LoadedCheckpoint | undefined;
  executor: Executor;
  datasetMove?: { from: string | null; to: string };
}

const FLAG_OF_FIELD: Record<string, string> = { maxSteps: '--max-steps', backend: '--backend', workers: '--workers' };

function readRecord(runDir: string, flag: string): RunConfigRecord {
  try {
    // config.json is the only record of the run's schedule; without it nothing can be continued.
    return readRunRecord(runDir, 'resumed', true);
  } catch (e) {
    if (e instanceof RunRecordError) throw new ResumeRefusal(flag, e.message);
    throw e;
  }
}

function readStatus(runDir: string): RunStatus | undefined {
  try {
    // Advisory: a missing, oversized or damaged status does not block a resume.
    return parseStatus(readBoundedText(path.join(runDir, RUN_FILES.status), READ_LIMITS.status));
  } catch {
    return undefined;
  }
}


function withOverrides(req: ResumeRequest, recorded: RunConfig): { config: RunConfig; datasetMove?: ResumePlan['datasetMove'] } {
  const overrides: Record<string, unknown> = {};
  if (req.maxSteps !== undefined) overrides.maxSteps = req.maxSteps;
  if (req.backend !== undefined) overrides.backend = req.backend as BackendName;
  if (req.workers !== undefined) overrides.workers = req.workers;
  let config: RunConfig;
  try {
    config = resolveConfig(overrides, recorded);
  } catch (e) {
    if (e instanceof ConfigError && FLAG_OF_FIELD[e.field]) throw new ResumeRefusal(FLAG_OF_FIELD[e.field], e.message.slice(e.field.length + 2));
    throw e;
  }
  if (req.datasetPath === undefined) return { config };
  if (config.dataset.path === undefined) {
    throw new ResumeRefusal('--dataset-path', `the run trains on the built-in dataset "${config.dataset.name}", which has no folder to re-point; leave --dataset-path out`);
  }
  const to = path.resolve(req.datasetPath);
  const bad = folderProblem(to);
  if (bad) throw new ResumeRefusal('--dataset-path', `${to}: ${bad}; give the folder the run's dataset moved to`);
  return { config: { ...config, dataset: { ...config.dataset, path: to } }, datasetMove: { from: config.dataset.path ?? null, to } };
}

/** Everything a resume or restart needs, checked; nothing is written. The caller owns `executor`. */
export async function planResume(req: ResumeRequest, deps: EngineDeps): Promise<ResumePlan> {
  const flag = req.restart ? '--restart' : '--resume';
  const runDir = path.resolve(req.runDir);
  const record = readRecord(runDir, flag);
  const prev = readStatus(runDir);
  // Whether another process is training it is run.lock's to say (taken before this runs, see
  // run/lock.ts): status.json's pid may be forged, or reused after a reboot.
  const { config, datasetMove } = withOverrides(req, record.config);
  const ckptFile = path.join(checkpointDir(runDir), LAST_CHECKPOINT);
  let ckpt: LoadedCheckpoint | undefined;
  if (req.restart) {
    if (fs.existsSync(ckptFile)) {
      throw new ResumeRefusal('--restart', `${runDir} has a checkpoint (${ckptFile}); continue it with --resume ${shellQuote(runDir)}, or start a new run (a restart would throw its steps away)`);
    }
  } else {
    try {
      ckpt = loadCheckpoint(ckptFile);
    } catch (e) {
      if (e instanceof NoCheckpointError) {
        throw new ResumeRefusal('checkpoint', `${e.message.replace(/^checkpoint /, '')} (it was stopped or killed before its first checkpoint); start it again from step 0 with: fast-advprop train --restart ${shellQuote(runDir)}`);
      }
      if (e instanceof CheckpointError) throw new ResumeRefusal('checkpoint', e.message.replace(/^checkpoint /, ''));
      throw e;
    }
    // Provenance before anything slow or written: a checkpoint from another run, or a config.json
    // edited since, would continue the wrong training.
    if (!checkpointFits(ckpt.configHash, record.config)) {
      throw new ResumeRefusal('checkpoint', `${ckptFile} was written for a different config than ${path.join(runDir, RUN_FILES.config)} (config.json was edited, or the checkpoint comes from another run); restore the run's own config.json and checkpoint, or start a new run with the edited config`);
    }
    // The trainer checks the hash of the config it runs (with a re-pointed path) against this.
    ckpt.configHash = configHash(config);
  }
  let prepared: Prepared;
  try {
    prepared = await prepare(config, process.cwd(), deps);
  } catch (e) {
    if (e instanceof ConfigError && e.field.startsWith('dataset') && config.dataset.path !== undefined) {
      throw new ConfigError(e.field, `${e.message.slice(e.field.length + 2)}; if the dataset moved, resume with --dataset-path NEW_FOLDER`);
    }
    throw e;
  }
  const got = datasetInfo(prepared.data);
  const want = record.dataset;
  const shape = (d: typeof want): string => `${d.train} train / ${d.test} test, ${d.height}×${d.width}×${d.channels}, ${d.numClasses} classes`;
  if (shape(got) !== shape(want)) {
    throw new ResumeRefusal(datasetMove ? '--dataset-path' : 'dataset', `${config.dataset.path ?? config.dataset.name} now holds ${shape(got)}, but the run trained on ${shape(want)}; point ${datasetMove ? '--dataset-path' : 'the run'} at the run's own dataset`);
  }
  const { plan } = prepared;
  // A checkpoint at the last step of a run that did not complete (the disk filled while writing
  // results.json or the export, or a kill came after the final checkpoint) is finished: the
  // trainer evaluates, exports and writes the results without training.
  if (ckpt && (ckpt.step > plan.runSteps || (ckpt.step === plan.runSteps && prev?.state === 'completed'))) {
    throw new ResumeRefusal('--resume', `the checkpoint is at step ${ckpt.step} and the run ends at step ${plan.runSteps}; nothing left to train (raise --max-steps to go further)`);
  }
  const executor = await openExecutor(prepared, deps);
  if (ckpt && (ckpt.params.length !== executor.layout.paramCount || ckpt.running.length !== executor.layout.runningCount || ckpt.momentum.length !== executor.layout.paramCount)) {
    await executor.dispose();
    throw new ResumeRefusal('checkpoint', `${ckptFile} holds ${ckpt.params.length} parameters, the run's model has ${executor.layout.paramCount}; it comes from another model`);
  }
  return { runDir, record, prev, prepared, ckpt, executor, ...(datasetMove ? { datasetMove } : {}) };
}

/**
 * The writes of a resume, after planResume: stale temp files and a pending stop request go, the
 * metrics after the checkpoint's step are cut (they are trained again), config.json records the
 * resume, and status says running. Throws a write error (disk full); the caller fails the run.
 */
export function beginResume(p: ResumePlan): { writer: RunWriter; record: RunConfigRecord } {
  const step = p.ckpt?.step ?? 0;
  const at = new Date().toISOString();
  const record: RunConfigRecord = {
    ...p.record,
    config: p.prepared.config,
    backend: p.executor.backend,
    resumedFrom: [...(p.record.resumedFrom ?? []), { step, at, ...(p.ckpt ? {} : { restarted: true as const }), ...(p.datasetMove ? { datasetPath: p.datasetMove } : {}) }],
  };
  // A stop request that the previous engine never read must not end this session at once.
  fs.rmSync(path.join(p.runDir, RUN_FILES.stopRequest), { force: true });
  removeStaleTemps(p.runDir);
  removeStaleTemps(checkpointDir(p.runDir));
  cutMetricsAfter(path.join(p.runDir, RUN_FILES.metrics), step);
  const epochs = p.prepared.plan.epochs;
  const prev: RunStatus | undefined = p.prev && {
    ...p.prev,
    // Progress past the checkpoint was undone with the metrics; a restart has none.
    progress: { ...p.prev.progress, step, epoch: Math.floor(Math.max(0, step - 1) / p.prepared.plan.stepsPerEpoch), epochs, totalSteps: p.prepared.plan.totalSteps },
    ...(p.ckpt ? {} : { lastCheckpoint: undefined, leak: undefined, startedAt: at }),
  };
  // config.json is replaced atomically: if the disk is still full it keeps its old content.
  const writer = RunWriter.reopen(p.runDir, record, prev);
  return { writer, record };
}
