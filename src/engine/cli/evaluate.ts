import * as path from 'node:path';
import { CONFIG_BOUNDS, ConfigError, resolveConfig } from '../../shared/config';
import { CORRUPTIONS, robustnessSummaryLines } from '../../shared/robustness';
import type { RunConfigRecord } from '../../shared/runFormat';
import { shellCommand } from '../../shared/shellQuote';
import { makeAttackSpec } from '../attack';
import { isFileDataset } from '../data/types';
import type { Executor, ModelSpec } from '../exec/types';
import { buildLayout } from '../model';
import { CheckpointError, LAST_CHECKPOINT, NoCheckpointError, loadCheckpoint } from '../run/checkpoint';
import { exportModel } from '../run/export';
import { runLockScope, takeRunLock } from '../run/lock';
import { RunDirError } from '../run/runDir';
import { RunRecordError, readRunRecord } from '../run/runRecord';
import { diskFullCode, writeFailureMessage } from '../run/writeError';
import { evaluateRobustness, writeRobustnessFile } from '../robustness/evaluate';
import { inMemoryChunks, streamedChunks, type StreamedChunks } from '../robustness/testChunks';
import { UsageError, formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import { defaultDeps, type EngineDeps } from '../train/engineDeps';
import type { CliIo } from './io';

// `evaluate` and `export-model` work from a run folder alone: config.json says what the model and
// data are, the checkpoint holds the weights. Evaluation uses the main BN in eval mode.

export const EVALUATE_FLAGS: Record<string, FlagSpec> = {
  run: { type: 'string', metavar: 'DIR', help: 'the run folder to evaluate (required)' },
  checkpoint: { type: 'string', metavar: 'FILE', help: `checkpoint to load (default: <run>/checkpoints/${LAST_CHECKPOINT})` },
  corruptions: { type: 'string', metavar: 'LIST', help: `comma-separated corruption names, "all" (the 15) or "none" (default: all)` },
  severities: { type: 'string', metavar: 'LIST', help: 'comma-separated severities 1..5 (default: 1,2,3,4,5)' },
  pgd: { type: 'string', metavar: 'K,EPS', help: 'also measure accuracy under PGD-K with ε in 1/255 pixel units, e.g. 10,8' },
  limit: { type: 'int', metavar: 'N', help: 'evaluate only the first N test images' },
  'cifar10c': { type: 'string', metavar: 'DIR', help: 'folder of released CIFAR-10-C .npy files, used instead of in-memory corruptions' },
  backend: { type: 'string', metavar: 'NAME', help: 'backend override (default: the run\'s)' },
  workers: { type: 'int', metavar: 'N', help: 'worker threads (default: the run\'s)' },
  json: { type: 'bool', help: 'print the robustness record as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

export const EVALUATE_USAGE = `usage: fast-advprop evaluate --run DIR [--corruptions LIST] [--severities LIST] [--pgd K,EPS] [--json]

Loads the run's checkpoint, evaluates clean accuracy, each corruption × severity and optionally
PGD accuracy, and writes robustness.json into the run folder.

${formatFlags(EVALUATE_FLAGS)}`;

export const EXPORT_FLAGS: Record<string, FlagSpec> = {
  run: { type: 'string', metavar: 'DIR', help: 'the run folder (required)' },
  checkpoint: { type: 'string', metavar: 'FILE', help: `checkpoint to export (default: <run>/checkpoints/${LAST_CHECKPOINT})` },
  out: { type: 'string', metavar: 'DIR', help: 'output folder (default: <run>/export)' },
  help: { type: 'bool', help: 'show this help' },
};

export const EXPORT_USAGE = `usage: fast-advprop export-model --run DIR [--checkpoint FILE] [--out DIR]

Writes the main-BN model as a TensorFlow.js layers model (model.json + weights.bin), loadable with
tf.loadLayersModel. Inputs are NHWC images scaled to [-1, 1]; outputs are logits.

${formatFlags(EXPORT_FLAGS)}`;

interface RunOnDisk {
  dir: string;
  record: RunConfigRecord;
  spec: ModelSpec;
  ckptFile: string;
}

function openRun(flags: Record<string, string | number | boolean>): RunOnDisk {
  if (flags.run === undefined) throw new UsageError('--run', 'required; give the run folder, e.g. --run runs/fast-advprop-20250101-120000');
  const dir = path.resolve(String(flags.run));
  let record: RunConfigRecord;
  try {
    record = readRunRecord(dir, 'evaluated', false);
  } catch (e) {
    if (e instanceof RunRecordError) throw new UsageError('--run', e.message);
    throw e;
  }
  const d = record.dataset;
  const spec: ModelSpec = { arch: record.config.model.arch, width: record.config.model.width, inputHeight: d.height, inputWidth: d.width, inputChannels: d.channels, numClasses: d.numClasses };
  const ckptFile = flags.checkpoint !== undefined ? path.resolve(String(flags.checkpoint)) : path.join(dir, 'checkpoints', LAST_CHECKPOINT);
  return { dir, record, spec, ckptFile };
}

function load(ckptFile: string, given: boolean): ReturnType<typeof loadCheckpoint> {
  try {
    return loadCheckpoint(ckptFile);
  } catch (e) {
    if (e instanceof NoCheckpointError && given) throw new UsageError('--checkpoint', `${ckptFile}: not found; give an existing checkpoint file, or leave --checkpoint out for the run's last.ckpt`);
    if (e instanceof CheckpointError) throw new UsageError('--checkpoint', e.message);
    throw e;
  }
}

function parseList(flag: string, v: string | undefined, all: readonly string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === 'all') return [...all];
  if (v === 'none') return [];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(flag, 'expected a comma-separated list');
  return items;
}

/** Holds the run's run.lock while it exports: export/ is written inside the run folder. */
export function exportCommand(argv: readonly string[], io: CliIo, deps?: EngineDeps): Promise<number> {
  return runLockScope(() => exportLocked(argv, io, deps));
}

async function exportLocked(argv: readonly string[], io: CliIo, _deps?: EngineDeps): Promise<number> {
  try {
    const { flags } = parseFlags('export-model', argv, EXPORT_FLAGS);
    if (flags.help) {
      io.out(EXPORT_USAGE);
      return 0;
    }
    if (flags.run !== undefined) takeRunLock(String(flags.run), 'export-model', { field: '--run', say: io.out });
    const run = openRun(flags);
    const ckpt = load(run.ckptFile, flags.checkpoint !== undefined);
    const layout = buildLayout(run.spec);
    if (ckpt.params.length !== layout.paramCount) throw new UsageError('--checkpoint', 'does not match the run\'s model');
    const out = exportModel(run.dir, run.spec, layout, ckpt.params, ckpt.running, flags.out !== undefined ? path.resolve(String(flags.out)) : undefined);
    io.out(`exported step ${ckpt.step} to ${out}`);
    return 0;
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
}

/** Holds the run's run.lock while it evaluates (train's autoEvaluate reuses train's own lock). */
export function evaluateCommand(argv: readonly string[], io: CliIo, depsIn?: EngineDeps): Promise<number> {
  return runLockScope(() => evaluateLocked(argv, io, depsIn));
}

async function evaluateLocked(argv: readonly string[], io: CliIo, depsIn?: EngineDeps): Promise<number> {
  let executor: Executor | undefined;
  let streamed: StreamedChunks | undefined;
  let runDir = '';
  try {
    const { flags } = parseFlags('evaluate', argv, EVALUATE_FLAGS);
    if (flags.help) {
      io.out(EVALUATE_USAGE);
      return 0;
    }
    if (flags.run !== undefined) takeRunLock(String(flags.run), 'evaluate', { field: '--run', say: flags.json ? io.err : io.out });
    const run = openRun(flags);
    runDir = run.dir;
    const corruptions = parseList('--corruptions', flags.corruptions as string | undefined, CORRUPTIONS);
    const sevList = parseList('--severities', flags.severities as string | undefined, ['1', '2', '3', '4', '5']);
    const severities = sevList?.map((s) => {
      if (!/^[1-5]$/.test(s)) throw new UsageError('--severities', `expected numbers 1..5, got ${JSON.stringify(s)}`);
      return Number(s);
    });
    let pgd: { steps: number; epsilon: number } | undefined;
    if (flags.pgd !== undefined) {
      const m = /^\s*(\d+)\s*,\s*([\d.]+)\s*$/.exec(String(flags.pgd));
      // The same bounds as a config's attack.steps and attack.epsilon.
      if (!m || Number(m[1]) < 1 || Number(m[1]) > CONFIG_BOUNDS.attackSteps || !(Number(m[2]) <= 255)) {
        throw new UsageError('--pgd', `expected K,EPS with 1 ≤ K ≤ ${CONFIG_BOUNDS.attackSteps} and 0 ≤ ε ≤ 255 (in 1/255 pixel units), e.g. --pgd 10,8; got ${JSON.stringify(flags.pgd).slice(0, 60)}`);
      }
      pgd = { steps: Number(m[1]), epsilon: Number(m[2]) };
    }
    const limit = flags.limit as number | undefined;
    if (limit !== undefined && !(limit >= 1 && limit <= CONFIG_BOUNDS.datasetLimit)) {
      throw new UsageError('--limit', `must be a number of test images from 1 to ${CONFIG_BOUNDS.datasetLimit}, got ${limit}; leave it out to use them all`);
    }
    const over: Record<string, unknown> = {};
    if (flags.backend !== undefined) over.backend = flags.backend;
    if (flags.workers !== undefined) over.workers = flags.workers;
    let config;
    try {
      config = resolveConfig(over, run.record.config);
    } catch (e) {
      // Only the flags can be wrong here (config.json was checked by openRun): name the flag.
      if (e instanceof ConfigError && (e.field === 'backend' || e.field === 'workers')) throw new UsageError(`--${e.field}`, e.message.slice(e.field.length + 2));
      throw e;
    }
    const deps = depsIn ?? (await defaultDeps());
    const ckpt = load(run.ckptFile, flags.checkpoint !== undefined);
    let test;
    try {
      ({ test } = await deps.loadDataset(config.dataset, process.cwd()));
    } catch (e) {
      throw new ConfigError('dataset', (e as Error).message.replace(/^dataset[\w.]*: /, ''));
    }
    executor = await deps.createExecutor({ spec: run.spec, backend: config.backend, workers: config.workers });
    await executor.setState(ckpt.params, ckpt.running);
    const ex = executor;
    const px = test.height * test.width * test.channels;
    const n = Math.min(test.count, limit ?? test.count);
    const say = flags.json ? io.err : io.out;
    // A streamed split is decoded a chunk at a time, ahead of use, never whole (issue #14).
    const chunks = isFileDataset(test)
      ? (streamed = await streamedChunks(test, { seed: config.seed, chunk: deps.evaluateChunk, log: say }))
      : inMemoryChunks(test.images.subarray(0, n * px), test.labels.subarray(0, n), px);
    const toModel = (batch: Float32Array): Float32Array => batch.map((v) => v * 2 - 1);
    const argmax = (logits: Float32Array, count: number): Int32Array => {
      const C = run.spec.numClasses;
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        let b = 0;
        for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + b]) b = c;
        out[i] = b;
      }
      return out;
    };
    const predictModel = async (x: Float32Array, count: number): Promise<Int32Array> => {
      const [r] = await ex.run([{ images: x, count, labels: new Int32Array(count), bn: 'main', training: false, groupSize: count, lossWeight: 1, paramGrads: false }]);
      return argmax(r.logits!, count);
    };
    const record = await evaluateRobustness({
      chunks, limit: n, height: test.height, width: test.width, channels: test.channels,
      predict: (batch, count) => predictModel(toModel(batch), count),
      corruptions, severities, seed: config.seed,
      ...(flags.cifar10c !== undefined ? { npyDir: path.resolve(String(flags.cifar10c)) } : {}),
      ...(pgd
        ? {
            pgd: async (batch: Float32Array, labels: Int32Array, count: number) => {
              // Deterministic PGD from the clean image (no random start), on the deployed model.
              const attack = makeAttackSpec({ steps: pgd!.steps, epsilon: pgd!.epsilon, stepSize: 0 }, { reuseGradients: false });
              const [a] = await ex.run([{ images: toModel(batch), count, labels, bn: 'main', training: false, groupSize: count, lossWeight: 1, paramGrads: false, attack }]);
              return predictModel(a.advImages!, count);
            },
            pgdSettings: pgd,
          }
        : {}),
      run: { id: run.record.runName, dir: run.dir, method: config.method, checkpoint: path.relative(run.dir, run.ckptFile), dataset: run.record.dataset.name },
      thumbnails: true,
      onProgress: flags.json ? undefined : (done, total, label) => io.out(`[${done}/${total}] ${label}`),
    });
    const skipped = streamed?.skippedLine();
    if (skipped) say(skipped);
    const file = await writeRobustnessFile(run.dir, record);
    if (flags.json) io.out(JSON.stringify(record));
    else {
      io.out(`clean accuracy ${(100 * record.clean.accuracy).toFixed(2)}%`);
      for (const line of robustnessSummaryLines(record.summary)) io.out(line);
      if (record.pgd) io.out(`PGD-${record.pgd.steps} ε ${record.pgd.epsilon}/255 accuracy ${(100 * record.pgd.accuracy).toFixed(2)}%`);
      io.out(`wrote ${file}`);
    }
    return 0;
  } catch (e) {
    const again = shellCommand(['fast-advprop', 'evaluate', ...argv]);
    const full = diskFullCode(e) ? writeFailureMessage(e, runDir, undefined, `run ${again} again`) : undefined;
    const msg = (e as Error).message;
    io.err(`error: ${full ?? (/^[\w.[\]-]+: /.test(msg) ? msg : `evaluate: ${msg}`)}`);
    // Bad requests exit 2 like train's; a failure while evaluating exits 1.
    return e instanceof UsageError || e instanceof ConfigError || e instanceof RunDirError ? 2 : 1;
  } finally {
    await streamed?.close();
    await executor?.dispose();
  }
}
