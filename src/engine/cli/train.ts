import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, parseConfigText, resolveConfig, type RunConfig } from '../../shared/config';
import type { RunConfigRecord, RunResults } from '../../shared/runFormat';
import { backendLabel } from '../../shared/backendLabel';
import { shellCommand } from '../../shared/shellQuote';
import type { Executor } from '../exec/types';
import { LAST_CHECKPOINT, saveCheckpoint } from '../run/checkpoint';
import { exportModel } from '../run/export';
import { runLockScope, takeRunLock, withRunLock } from '../run/lock';
import { RunDirError, RunWriter, checkNewRunDir, chooseRunDir, defaultRunName } from '../run/runDir';
import { diskFullCode, writeFailureMessage } from '../run/writeError';
import { bnSpatialSizes } from '../train/bnSpatial';
import { defaultDeps, type EngineDeps } from '../train/engineDeps';
import { stepPieces } from '../train/plan';
import { datasetInfo, openExecutor, prepare, type Prepared } from '../train/prepare';
import { ResumeRefusal, beginResume, planResume, type LoadedCheckpoint, type ResumePlan } from '../train/resume';
import { DivergenceError, Trainer, formatDuration, type TrainOutcome } from '../train/trainer';
import { FileReadError, READ_LIMITS, readBoundedText } from '../util/boundedRead';
import { UsageError, formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import { evaluateCommand } from './evaluate';
import type { CliIo } from './io';
import { installStop } from './stop';
import { engineVersion } from './version';

export type { CliIo } from './io';
export { defaultDeps, type EngineDeps } from '../train/engineDeps';

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', metavar: 'FILE', help: 'run config (*.advprop.json); default: the built-in Fast AdvProp config on the embedded Fashion-MNIST subset' },
  'run-dir': { type: 'string', metavar: 'DIR', help: 'write the run exactly here (must not hold a run yet)' },
  'runs-dir': { type: 'string', metavar: 'DIR', help: 'parent folder for new runs (default ./runs); the run is <name or method-yyyyMMdd-HHmmss>' },
  epochs: { type: 'int', metavar: 'N', help: 'epochs before same-budget scaling' },
  'max-steps': { type: 'int', metavar: 'N', help: 'stop after N optimizer steps (0 = no limit); the run still evaluates and writes results' },
  seed: { type: 'int', metavar: 'N', help: 'seed for weights, data order, augmentation and attacks' },
  backend: { type: 'string', metavar: 'NAME', help: 'auto | tensorflow-gpu | tensorflow | wasm | cpu' },
  workers: { type: 'int', metavar: 'N', help: 'worker threads (0 = one per core on wasm/cpu, at most a training step\'s pieces: bnGroups, ×2 with attacked images)' },
  method: { type: 'string', metavar: 'M', help: 'vanilla | advprop | fast-advprop' },
  split: { type: 'string', metavar: 'C:A', help: 'clean:attacked ratio of a Fast AdvProp batch, e.g. 4:1' },
  'p-adv': { type: 'number', metavar: 'P', help: 'attacked fraction, mapped to a ratio (0.2 → 4:1)' },
  resume: { type: 'string', metavar: 'RUN_DIR', help: 'continue a stopped or crashed run from its last checkpoint (same schedule and data order)' },
  restart: { type: 'string', metavar: 'RUN_DIR', help: 'train a run that has no checkpoint yet again from step 0, on its own config.json' },
  'dataset-path': { type: 'string', metavar: 'DIR', help: 'with --resume/--restart: the folder the run\'s dataset moved to (recorded in config.json)' },
  help: { type: 'bool', help: 'show this help' },
};

export const TRAIN_USAGE = `usage: fast-advprop train [--config FILE] [--run-dir DIR | --runs-dir DIR] [overrides…]
       fast-advprop train --resume RUN_DIR [--max-steps N] [--backend NAME] [--workers N] [--dataset-path DIR]
       fast-advprop train --restart RUN_DIR [same flags as --resume]

Trains a classifier and writes a run folder (config.json, status.json, metrics.jsonl,
results.json, engine.log, checkpoints/, export/). Progress goes to stdout, one line per
log interval. Exit codes: 0 completed or stopped, 1 failed while training, 2 bad config,
flag or dataset, or a resume that cannot go ahead (nothing is created or changed then).

${formatFlags(TRAIN_FLAGS)}`;

/** Flags that may change on --resume: they do not alter the schedule or the arithmetic. */
const RESUME_FLAGS = new Set(['resume', 'restart', 'max-steps', 'backend', 'workers', 'dataset-path', 'help']);

/** `field: message` for the one-line `error:` output; errors that know their field keep it. */
function prefixed(e: unknown, fallback: string): string {
  if (e instanceof ConfigError || e instanceof UsageError || e instanceof RunDirError || e instanceof ResumeRefusal) {
    // Their message is "<field>: <text>"; the field is taken from the error, never parsed back
    // out of the text, which may hold any character ("(file)", a quoted odd key, a path).
    const body = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
    return `${e.field}: ${body}`;
  }
  return `${fallback}: ${e instanceof Error ? e.message : String(e)}`;
}

function buildOverrides(flags: Record<string, string | number | boolean>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (flags.epochs !== undefined) o.epochs = flags.epochs;
  if (flags['max-steps'] !== undefined) o.maxSteps = flags['max-steps'];
  if (flags.seed !== undefined) o.seed = flags.seed;
  if (flags.backend !== undefined) o.backend = flags.backend;
  if (flags.workers !== undefined) o.workers = flags.workers;
  if (flags.method !== undefined) o.method = flags.method;
  if (flags.split !== undefined) o.split = flags.split;
  if (flags['p-adv'] !== undefined) o.pAdv = flags['p-adv'];
  return o;
}

const FLAG_OF_FIELD: Record<string, string> = {
  epochs: '--epochs', maxSteps: '--max-steps', seed: '--seed', backend: '--backend', workers: '--workers', method: '--method', split: '--split', pAdv: '--p-adv',
};

/** Every run.lock taken by a train command (and its autoEvaluate) is released when it ends. */
export function trainCommand(argv: readonly string[], io: CliIo, depsIn?: EngineDeps): Promise<number> {
  return runLockScope(() => trainLocked(argv, io, depsIn));
}

async function trainLocked(argv: readonly string[], io: CliIo, depsIn?: EngineDeps): Promise<number> {
  let flags: Record<string, string | number | boolean>;
  try {
    ({ flags } = parseFlags('train', argv, TRAIN_FLAGS));
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.out(TRAIN_USAGE);
    return 0;
  }
  const deps = depsIn ?? (await defaultDeps());
  if (flags.resume !== undefined || flags.restart !== undefined) {
    // The lock comes first: nothing of the run folder is read before this process owns it.
    const restart = flags.resume === undefined;
    const dir = String(restart ? flags.restart : flags.resume);
    return withRunLock(io, dir, restart ? 'train --restart' : 'train --resume', restart ? '--restart' : '--resume', () => resumeCommand(flags, io, deps));
  }
  if (flags['dataset-path'] !== undefined) {
    io.err('error: --dataset-path: only re-points the dataset of an existing run (with --resume or --restart); for a new run set dataset.path in the config');
    return 2;
  }

  // Everything that can be wrong with the request is checked before the run folder exists.
  let prepared: Prepared;
  let runDir: string;
  let runDirFlag: string;
  let executor: Executor;
  try {
    let base: RunConfig = DEFAULT_CONFIG;
    let baseDir = process.cwd();
    if (flags.config !== undefined) {
      const file = path.resolve(String(flags.config));
      let text: string;
      try {
        text = readBoundedText(file, READ_LIMITS.config, 'a run config');
      } catch (e) {
        throw new UsageError('--config', e instanceof FileReadError ? e.message : `cannot read ${file} (${(e as Error).message})`);
      }
      base = parseConfigText(text, file);
      baseDir = path.dirname(file);
    }
    let config: RunConfig;
    try {
      config = resolveConfig(buildOverrides(flags), base);
    } catch (e) {
      if (e instanceof ConfigError && FLAG_OF_FIELD[e.field] && flags[FLAG_OF_FIELD[e.field].slice(2)] !== undefined) {
        throw new ConfigError(FLAG_OF_FIELD[e.field], e.message.slice(e.field.length + 2));
      }
      throw e;
    }
    // Recorded absolute, so that --resume and evaluate (run from any folder) find the same data.
    if (config.dataset.path !== undefined && !path.isAbsolute(config.dataset.path)) {
      config = { ...config, dataset: { ...config.dataset, path: path.resolve(baseDir, config.dataset.path) } };
    }
    prepared = await prepare(config, baseDir, deps);
    runDir = chooseRunDir({
      runDir: flags['run-dir'] as string | undefined,
      runsDir: (flags['runs-dir'] as string | undefined) ?? path.resolve('runs'),
      name: defaultRunName(config),
    });
    runDirFlag = flags['run-dir'] !== undefined ? '--run-dir' : '--runs-dir';
    checkNewRunDir(runDir, runDirFlag);
    takeRunLock(runDir, 'train', { field: runDirFlag, create: true, say: io.out });
    executor = await openExecutor(prepared, deps);
  } catch (e) {
    io.err(`error: ${prefixed(e, 'train')}`);
    return 2;
  }

  const { config, data, plan, spec } = prepared;
  const init = deps.initParams(spec, config.seed);
  const record: RunConfigRecord = {
    schema: 1,
    runName: path.basename(runDir),
    createdAt: new Date().toISOString(),
    config,
    schedule: { epochs: plan.epochs, milestones: plan.milestones, costFactor: plan.costFactor, stepsPerEpoch: plan.stepsPerEpoch, totalSteps: plan.totalSteps },
    batch: { clean: plan.batch.clean, adv: plan.batch.adv },
    backend: executor.backend,
    dataset: datasetInfo(data),
    model: { arch: config.model.arch, width: config.model.width, params: { ...executor.layout.groupCounts } },
    engine: { version: engineVersion(), node: process.version, argv: ['train', ...argv] },
  };
  let writer: RunWriter;
  try {
    writer = RunWriter.create(runDir, record, runDirFlag);
  } catch (e) {
    await executor.dispose();
    io.err(`error: ${prefixed(e, runDirFlag)}`);
    return 2;
  }
  return runTrainer({ writer, record, prepared, executor, init, io, deps });
}

async function resumeCommand(flags: Record<string, string | number | boolean>, io: CliIo, deps: EngineDeps): Promise<number> {
  let p: ResumePlan;
  try {
    if (flags.resume !== undefined && flags.restart !== undefined) throw new UsageError('--restart', 'give either --resume RUN_DIR or --restart RUN_DIR, not both');
    const flag = flags.restart !== undefined ? '--restart' : '--resume';
    for (const k of Object.keys(flags)) {
      if (!RESUME_FLAGS.has(k)) throw new UsageError(`--${k}`, `cannot change on ${flag} (the run continues on its own schedule); only --max-steps, --backend, --workers and --dataset-path may be given`);
    }
    p = await planResume({
      runDir: String(flags.restart ?? flags.resume),
      restart: flags.restart !== undefined,
      ...(flags['max-steps'] !== undefined ? { maxSteps: flags['max-steps'] as number } : {}),
      ...(flags.backend !== undefined ? { backend: String(flags.backend) } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers as number } : {}),
      ...(flags['dataset-path'] !== undefined ? { datasetPath: String(flags['dataset-path']) } : {}),
    }, deps);
  } catch (e) {
    io.err(`error: ${prefixed(e, 'resume')}`);
    return 2;
  }
  const step = p.ckpt?.step ?? 0;
  let begun: ReturnType<typeof beginResume>;
  try {
    begun = beginResume(p);
  } catch (e) {
    await p.executor.dispose();
    const msg = writeFailureMessage(e, p.runDir, p.ckpt?.step) ?? `resume: ${(e as Error).message}`;
    io.err(`error: ${msg}`);
    return 1;
  }
  const { writer, record } = begun;
  try {
    // Results of an earlier (max-steps) finish no longer describe the run.
    fs.rmSync(writer.file('results'), { force: true });
    const message = p.ckpt ? `resumed from the checkpoint at step ${step}` : 'started again from step 0 (no checkpoint had been written)';
    writer.appendMetrics({ v: 1, kind: 'event', t: new Date().toISOString(), step, event: p.ckpt ? 'resume' : 'restart', message }, true);
    if (p.datasetMove) writer.log(`dataset re-pointed from ${p.datasetMove.from} to ${p.datasetMove.to}`);
  } catch (e) {
    return failRun({ writer, executor: p.executor, io, step, error: e });
  }
  const init = p.ckpt ? { params: p.ckpt.params, running: p.ckpt.running } : deps.initParams(p.prepared.spec, p.prepared.config.seed);
  return runTrainer({ writer, record, prepared: p.prepared, executor: p.executor, init, io, deps, ...(p.ckpt ? { resumeFrom: p.ckpt } : {}) });
}

/**
 * Ends a run that cannot go on: one `error:` line on stderr, and, as far as the disk still allows
 * it, a `failed` event in metrics.jsonl and status `failed` with the same message. Every write here
 * is best effort (after a full disk they may fail too); the exit code is 1 either way. The last
 * checkpoint is never touched, so `--resume` continues from it.
 */
async function failRun(a: { writer: RunWriter; executor: Executor; io: CliIo; step: number; error: unknown }): Promise<number> {
  const { writer, error: e } = a;
  const div = e instanceof DivergenceError ? e : undefined;
  const written = writeFailureMessage(e, writer.dir, writer.currentStatus.lastCheckpoint?.step);
  const message = div ? div.message : written ?? (e instanceof Error ? e.message : String(e));
  const detail = div ? `${div.message}; the last good checkpoint is kept (lower lr, or check the data)`
    : written ?? (e instanceof Error ? e.stack ?? e.message : String(e));
  writer.log(`failed: ${detail}`);
  try {
    writer.appendMetrics({ v: 1, kind: 'event', t: new Date().toISOString(), step: a.step, event: 'failed', message }, true);
  } catch {
    /* the disk refuses even this line: the file still ends after a whole record */
  }
  try {
    writer.finish('failed', { error: { message, step: div ? div.step + 1 : a.step, ...(div ? { stream: div.stream } : {}) } });
  } catch {
    /* status.json keeps its last content (it is only replaced whole); the exit code says it */
  }
  writer.close();
  await a.executor.dispose();
  a.io.err(`error: ${message}`);
  return 1;
}

async function runTrainer(a: {
  writer: RunWriter;
  record: RunConfigRecord;
  prepared: Prepared;
  executor: Executor;
  init: { params: Float32Array; running: Float32Array };
  io: CliIo;
  deps: EngineDeps;
  resumeFrom?: LoadedCheckpoint;
}): Promise<number> {
  const { writer, prepared, executor, io } = a;
  const { config, plan, data, spec } = prepared;
  const say = (line: string): void => {
    io.out(line);
    writer.log(line);
  };
  const stop = installStop(writer.dir, { onFirst: say });
  // status.progress.epoch is the 0-based epoch of the latest step done, as in metrics records.
  const epochOfStep = (step: number): number => Math.floor(Math.max(0, step - 1) / plan.stepsPerEpoch);
  const t0 = Date.now();
  const trainer = new Trainer({
    config, plan, executor, train: data.train, test: data.test, params: a.init.params, running: a.init.running,
    bnSpatial: bnSpatialSizes(spec),
    shouldStop: () => stop.requested(),
    hooks: {
      record: (rec, sync) => writer.appendMetrics(rec, sync),
      log: (line) => say(line),
      progress: (p) => {
        io.out(p.line);
        writer.updateStatus({
          progress: { epoch: p.epoch, epochs: plan.epochs, step: p.step, totalSteps: p.totalSteps, imagesPerSecond: p.imagesPerSecond, etaSeconds: p.etaSeconds },
          ...(p.leak ? { leak: p.leak } : {}),
        });
      },
      checkpoint: (state, reason) => {
        // last.ckpt first, and recorded in status before the milestone copy: if the disk fills on
        // the copy, status (and the failure message) name the checkpoint a resume will use.
        const file = saveCheckpoint(writer.dir, LAST_CHECKPOINT, state);
        writer.updateStatus({
          lastCheckpoint: { step: state.step, epoch: state.epoch, path: path.relative(writer.dir, file) },
          progress: { ...writer.currentStatus.progress, step: state.step, epoch: epochOfStep(state.step) },
        });
        if (reason === 'milestone') saveCheckpoint(writer.dir, `epoch-${state.epoch}.ckpt`, state);
      },
    },
  });
  if (a.resumeFrom) trainer.restore(a.resumeFrom);
  say(`run ${writer.dir}`);
  say(
    `${config.method}${config.method === 'fast-advprop' ? ` split ${plan.split}` : ''} on ${a.record.dataset.name} (${data.train.count} train / ${data.test.count} test), ` +
      `${config.model.arch}×${config.model.width}, backend ${backendLabel(executor.backend)}, ` +
      `${plan.epochs} epochs × ${plan.stepsPerEpoch} steps (batch ${plan.batch.clean}+${plan.batch.adv})` +
      (plan.runSteps < plan.totalSteps ? `, stopping after step ${plan.runSteps}` : '') +
      (a.resumeFrom ? `, resuming at step ${a.resumeFrom.step}` : ''),
  );
  // Worker threads beyond a step's pieces would idle while training: say so, and what would help.
  const split = executor.backend.name === 'wasm';
  const pieces = stepPieces(plan, split);
  const groups = stepPieces(plan);
  const why = `a training step splits into ${pieces} pieces (${plan.bnGroups} BN groups${groups > plan.bnGroups ? ' × the clean and the attacked pass' : ''}${pieces > groups ? `, each over ${pieces / groups} workers` : ''})`;
  const more = 'a larger bnGroups trains on more cores (it changes the BN statistics, and so the results)';
  if (executor.workers > pieces) say(`note: ${executor.workers} workers, but ${why}: the others only speed up evaluation; ${more}`);
  else if (config.workers === 0 && !['tensorflow', 'webgpu'].includes(executor.backend.name) && executor.workers < os.availableParallelism()) say(`using ${executor.workers} of ${os.availableParallelism()} cores: ${why}; ${more}`);
  let outcome: TrainOutcome;
  try {
    outcome = await trainer.run();
    writer.syncMetrics();
    if (outcome.state === 'stopped') {
      writer.finish('stopped', { progress: { ...writer.currentStatus.progress, step: outcome.step, epoch: epochOfStep(outcome.step) } });
    }
  } catch (e) {
    stop.dispose();
    return failRun({ writer, executor, io, step: trainer.step, error: e });
  }
  stop.dispose();
  if (outcome.state === 'stopped') {
    say(`stopped at step ${outcome.step}; ${stoppedHint(writer.dir)}`);
    writer.close();
    await executor.dispose();
    return 0;
  }
  const perStep = plan.passesPerStep.clean + plan.passesPerStep.attack + plan.passesPerStep.adv;
  const results: RunResults = {
    schema: 1,
    state: 'completed',
    clean: { accuracy: outcome.test?.acc ?? NaN, loss: outcome.test?.loss ?? NaN },
    epochs: plan.epochs,
    steps: outcome.step,
    wallSeconds: (Date.now() - t0) / 1000,
    imagesPerSecond: outcome.imagesPerSecond,
    passes: { ...outcome.passes, total: outcome.passes.clean + outcome.passes.attack + outcome.passes.adv },
    plannedPasses: perStep * plan.runSteps,
    ...(outcome.leak ? { leak: outcome.leak } : {}),
  };
  try {
    try {
      const dir = exportModel(writer.dir, spec, executor.layout, trainer.params, trainer.running);
      say(`exported the main-BN model to ${path.relative(process.cwd(), dir) || dir}`);
    } catch (e) {
      // A disk that refuses the export refuses results.json too, if not now then soon: the run
      // fails, and a resume after freeing space exports and finishes it.
      if (diskFullCode(e)) throw e;
      say(`export skipped: ${(e as Error).message}`);
    }
    writer.writeResults(results);
    writer.finish('completed', { progress: { ...writer.currentStatus.progress, step: outcome.step, epoch: epochOfStep(outcome.step), etaSeconds: 0 } });
  } catch (e) {
    // results.json is only replaced whole; one from this session that status does not call
    // completed would describe a run that failed.
    try {
      fs.rmSync(writer.file('results'), { force: true });
    } catch {
      /* a read-only disk: it cannot have been written in this session either */
    }
    return failRun({ writer, executor, io, step: trainer.step, error: e });
  }
  say(`completed ${outcome.step} steps in ${formatDuration(results.wallSeconds)}: test accuracy ${(100 * results.clean.accuracy).toFixed(2)}%`);
  writer.close();
  await executor.dispose();
  if (config.autoEvaluate) {
    say('autoEvaluate: evaluating corruption robustness');
    const code = await evaluateCommand(['--run', writer.dir], io, a.deps);
    // The run itself completed; a failed evaluation is reported but does not undo that.
    if (code !== 0) io.err(`warning: autoEvaluate failed (exit ${code}); run ${shellCommand(['fast-advprop', 'evaluate', '--run', writer.dir])} to retry`);
  }
  return 0;
}

/**
 * How to continue a stopped run. Under the extension (which sets FAST_ADVPROP_UI=vscode when it
 * spawns the engine) a `fast-advprop` command exists only in a source checkout, never for a .vsix
 * user (#16), so the log points at the UI's Resume instead; the CLI keeps the pasteable command.
 */
export function stoppedHint(runDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.FAST_ADVPROP_UI === 'vscode') return 'resume it from the Runs view or the dashboard\'s Resume button';
  return `continue with: ${shellCommand(['fast-advprop', 'train', '--resume', runDir])}`;
}
