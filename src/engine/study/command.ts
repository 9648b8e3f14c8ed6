// `fast-advprop study`: trains vanilla, same-budget PGD-5 AdvProp, Fast AdvProp and Fast AdvProp
// without shuffle BN at equal budget on one dataset and prints a Table-1-like comparison.
//
// A study is a sweep of its variants: its folder is a sweep folder (sweep.json, configs/, runs/),
// one point per variant and seed, run by a sweep executor (local child processes one after another
// by default, or a Slurm array). So `sweep status|table|cancel`, the Runs view and Compare read a
// study like any other sweep; what the study adds is its plan (the variants at equal budget), the
// corruption evaluation of each completed point (on Slurm inside the point's own job, so nothing
// heavy runs on the login node), and its Table-1-like table from the run folders.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, stripJsonComments, type RunConfig } from '../../shared/config';
import { RUN_FILES, oneRecordPerStep, parseMetricsLines, parseStatus, type MetricsRecord, type RunConfigRecord, type RunResults, type RunStatus } from '../../shared/runFormat';
import { UsageError, formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import {
  STUDY_VARIANTS, TABLE1_VARIANTS, VARIANT_LABELS, VARIANT_SETS, aggregateStudy, calibrationOf, formatAggregateTable, formatStudyTable,
  scaleMilestones, summarizeStudy, variantConfig, variantOverrides,
  type StudyAggregate, type StudyRunInput, type StudyRunSummary, type StudyVariant,
} from './summary';
import { READ_LIMITS, readBoundedText } from '../util/boundedRead';
import { MISSING } from '../util/meanStd';
import { folderStamp } from '../../shared/folderStamp';
import { createSweep } from '../sweep/create';
import { EXECUTOR_FLAG, PARALLEL_FLAG, REPEATABLE_SLURM_FLAGS, SLURM_FLAGS, executorFor, executorSettings, splitRepeatable } from '../sweep/flags';
import { flattenOverrides, type SweepPoint } from '../sweep/grid';
import {
  SWEEP_CANCEL_REQUEST, evaluateArgs, pointEvaluateLog, pointMarker, pointRunDir, readManifest, writeManifest,
  type SlurmSettings, type SweepExecutorKind, type SweepManifest,
} from '../sweep/manifest';
import { parseRobustness } from '../../shared/robustness';
import { displayState, readPointState, type SchedulerInfo } from '../sweep/state';
import { waitSettled } from '../sweep/wait';

/**
 * What the study changes in the default config before the variants: nothing since our wasm
 * kernels (2026-11-26) made the default ResNet-8 of width 16 train about twice as fast; the whole
 * study takes minutes (docs/study.md). It used to be a half-width ResNet-8 to stay near 30 minutes.
 * --config-base overrides it (e.g. {"model": {"arch": "resnet8", "width": 8}} for a quicker look).
 */
export const STUDY_BASE: Readonly<Record<string, unknown>> = {};

/**
 * Base epochs when --epochs is not given: the default config's own 6 (vanilla trains 6, Fast
 * AdvProp 5, PGD-5 AdvProp 1). Fewer would leave PGD-5 AdvProp with no epoch at all (3/7 → 0),
 * and at 4 its single epoch would cost 7/4 of the budget instead of 7/6.
 */
export const DEFAULT_STUDY_EPOCHS = DEFAULT_CONFIG.epochs;

/**
 * What `evaluate` computes per run unless told otherwise: all 15 corruptions at severities 1, 3
 * and 5 on the first 1,000 test images (45 cells: 33 s for the default model on two nearly
 * idle cores, against about 1.8 min scaled to all 75 cells on all 2,000), so robustness can stay on by default.
 */
export const STUDY_ROBUSTNESS_DEFAULTS = { severities: [1, 3, 5], images: 1000 } as const;

/** The most seeds one study trains: each seed is a full set of runs. */
export const MAX_STUDY_SEEDS = 100;

export function studyBaseConfig(): RunConfig {
  return resolveConfig(structuredClone(STUDY_BASE));
}

export const STUDY_FLAGS: Record<string, FlagSpec> = {
  epochs: { type: 'int', metavar: 'E', help: `vanilla epochs, the shared budget; the others get E / cost factor (default ${DEFAULT_STUDY_EPOCHS})` },
  out: { type: 'string', metavar: 'DIR', help: 'study folder, a sweep folder: run folders in DIR/runs/<variant>, <variant>-seed-<s> with --seeds above 1 (default runs/study-<timestamp>)' },
  variants: { type: 'string', metavar: 'LIST', help: `comma-separated variants or sets: table1 (${TABLE1_VARIANTS.join(', ')}; the default), table4 (${VARIANT_SETS.table4.join(', ')}), or any of the names` },
  'max-steps': { type: 'int', metavar: 'N', help: 'stop every run after N optimizer steps (smoke tests); the table then shows fractional epochs' },
  seed: { type: 'int', metavar: 'S', help: 'first seed (default: the config\'s, 0)' },
  seeds: { type: 'int', metavar: 'N', help: 'train every variant with seeds S..S+N-1 and show mean ± sample std over them (default 1)' },
  'config-base': { type: 'string', metavar: 'FILE', help: 'partial run config applied to every variant first (model, dataset limits, backend…)' },
  'leak-window': { type: 'int', metavar: 'N', help: 'logged steps averaged for the clean/adv train accuracy (default: the run\'s leak.window, 5)' },
  robustness: { type: 'bool', help: `run "evaluate" on each run and show the mean corruption error (the default; see --robustness-severities, --robustness-images)` },
  'no-robustness': { type: 'bool', help: 'skip the corruption evaluation' },
  'robustness-severities': { type: 'string', metavar: 'LIST', help: `severities evaluated, all 15 corruptions at each (default ${STUDY_ROBUSTNESS_DEFAULTS.severities.join(',')})` },
  'robustness-images': { type: 'int', metavar: 'N', help: `first N test images evaluated (default ${STUDY_ROBUSTNESS_DEFAULTS.images})` },
  executor: EXECUTOR_FLAG,
  parallel: PARALLEL_FLAG,
  ...SLURM_FLAGS,
  cli: { type: 'string', metavar: 'PATH', help: 'the cli.js that trains the runs (default: the one running)' },
  json: { type: 'bool', help: 'print one JSON object instead of the table (progress then goes to stderr)' },
  help: { type: 'bool', help: 'show this help' },
};

export const STUDY_USAGE = `usage: fast-advprop study [--epochs E] [--out DIR] [--variants LIST] [--seeds N] [--no-robustness] [--json]
                         [--executor local|slurm] [slurm flags]

Trains, one after another and at equal budget on the same data: vanilla; same-budget PGD-5
AdvProp (epochs and milestones divided by 7); Fast AdvProp (the default config); Fast AdvProp
without shuffle BN (the paper's Table 1; --variants table4 trains Fast AdvProp at the splits
8:1, 4:1, 2:1 and 1:1 instead). All use the default config (ResNet-8 of width 16; override with
--config-base). With --seeds N each variant trains once per seed. Then prints a comparison read
from the run folders: cost factor, epochs trained, counted image-passes, clean test accuracy,
clean vs adversarial train accuracy, the leak detector's verdict and the mean corruption error
(mean ± sample std over seeds when N > 1). The study folder is a sweep folder, one point per
variant and seed (fast-advprop sweep status|table|cancel DIR work on it); --executor slurm trains
the points as one Slurm array (the sweep's flags), each task evaluating its own run after it
trains, and waits for it. Exit codes: 0 all runs
completed, 1 a run failed (the others still run and are reported), 2 bad flag or config (nothing
is trained).

${formatFlags(STUDY_FLAGS)}`;

export interface StudyJson {
  /** One per run (variant × seed), in the order trained. */
  runs: (Omit<StudyRunSummary, 'label'> & { leak: { clean: number | null; adv: number | null; flagged: boolean; window: number; steps: number } })[];
  /** One per variant: mean ± sample std over its completed seeds. */
  aggregate: Omit<StudyAggregate, 'label'>[];
  seeds: number[];
  /** What each run's corruption evaluation covered; null with --no-robustness. */
  robustness: { corruptions: 'all'; severities: number[]; images: number } | null;
  budget: {
    baseEpochs: number;
    baseMilestones: number[];
    /** Per variant: the cost model's factor and the schedule it implies at this budget. */
    schedules: { variant: string; method: string; costFactor: number; epochs: number; milestones: number[]; totalCost: number }[];
    maxSteps: number | null;
  };
  seconds: number;
  outDir: string;
  /** The study folder as a sweep: its manifest (sweep.json) and the executor that ran the points. */
  sweep: { dir: string; manifest: string; executor: SweepExecutorKind; jobId: string | null };
  failed: string[];
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${pad2(Math.round(s - 60 * m))}s` : `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
}

interface Plan {
  variants: StudyVariant[];
  configs: Map<StudyVariant, RunConfig>;
  baseEpochs: number;
  baseMilestones: number[];
  outDir: string;
  cli: string;
  maxSteps?: number;
  leakWindow?: number;
  seeds: number[];
  robustness: { severities: number[]; images: number } | null;
  json: boolean;
  base: RunConfig;
  baseFile?: string;
  executor: { kind: SweepExecutorKind; parallel?: number; slurm?: SlurmSettings };
}

function parseVariants(text: string): StudyVariant[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const sets = Object.keys(VARIANT_SETS);
  if (names.length === 0) throw new UsageError('--variants', `needs at least one of ${[...sets, ...STUDY_VARIANTS].join(', ')}`);
  const out: StudyVariant[] = [];
  for (const n of names) {
    const expanded = VARIANT_SETS[n] ?? ((STUDY_VARIANTS as readonly string[]).includes(n) ? [n as StudyVariant] : undefined);
    if (!expanded) {
      throw new UsageError('--variants', `unknown variant ${JSON.stringify(n)}; use a comma-separated list of ${[...sets, ...STUDY_VARIANTS].join(', ')}`);
    }
    for (const v of expanded) {
      if (out.includes(v)) throw new UsageError('--variants', `${v} is listed twice${expanded.length > 1 ? ` (${n} includes it)` : ''}; list each variant once`);
      out.push(v);
    }
  }
  return out;
}

function parseSeverities(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^[1-5]$/.test(p))) {
    throw new UsageError('--robustness-severities', `expected a comma-separated list of severities 1..5, got ${JSON.stringify(text)}; e.g. --robustness-severities 1,3,5`);
  }
  const out = [...new Set(parts.map(Number))];
  return out.sort((a, b) => a - b);
}

function readBase(file: string): RunConfig {
  let text: string;
  try {
    text = readBoundedText(file, READ_LIMITS.config, 'a run config');
  } catch (e) {
    throw new UsageError('--config-base', (e as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stripJsonComments(text));
  } catch (e) {
    throw new UsageError('--config-base', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  let base: RunConfig;
  try {
    // Over the study's base, so a file that only limits the dataset keeps the study's model.
    base = resolveConfig(raw, studyBaseConfig());
  } catch (e) {
    throw new UsageError('--config-base', (e as Error).message);
  }
  // The variant configs are written elsewhere, so a relative data path must be pinned to where the base file meant it.
  if (base.dataset.path !== undefined && !path.isAbsolute(base.dataset.path)) {
    base = { ...base, dataset: { ...base.dataset, path: path.resolve(path.dirname(file), base.dataset.path) } };
  }
  return base;
}

function makePlan(args: readonly string[]): Plan | 'help' {
  const split = splitRepeatable(args, REPEATABLE_SLURM_FLAGS, STUDY_FLAGS);
  const { flags, positional } = parseFlags('study', split.rest, STUDY_FLAGS);
  if (flags.help) return 'help';
  if (positional.length) throw new UsageError(positional[0], 'study takes no positional arguments; pass options as --name VALUE (see fast-advprop study --help)');
  const intAtLeast = (name: string, min: number, eg: string): number | undefined => {
    const v = flags[name] as number | undefined;
    if (v !== undefined && v < min) throw new UsageError(`--${name}`, `must be ≥ ${min}, got ${v}; e.g. --${name} ${eg}`);
    return v;
  };
  const epochsFlag = intAtLeast('epochs', 1, String(DEFAULT_STUDY_EPOCHS));
  const maxSteps = intAtLeast('max-steps', 1, '2');
  const seed = intAtLeast('seed', 0, '0');
  const leakWindow = intAtLeast('leak-window', 1, '5');
  const nSeeds = intAtLeast('seeds', 1, '3') ?? 1;
  if (nSeeds > MAX_STUDY_SEEDS) throw new UsageError('--seeds', `at most ${MAX_STUDY_SEEDS}, got ${nSeeds}; each seed trains every variant again`);
  if (flags.robustness === true && flags['no-robustness'] === true) throw new UsageError('--no-robustness', 'contradicts --robustness; pass one of them');
  const images = intAtLeast('robustness-images', 1, String(STUDY_ROBUSTNESS_DEFAULTS.images));
  const severities = flags['robustness-severities'] !== undefined ? parseSeverities(String(flags['robustness-severities'])) : undefined;
  const skipRobustness = flags['no-robustness'] === true;
  if (skipRobustness && (images !== undefined || severities !== undefined)) {
    throw new UsageError(images !== undefined ? '--robustness-images' : '--robustness-severities', 'has no effect with --no-robustness; drop one of them');
  }
  const variants = flags.variants !== undefined ? parseVariants(String(flags.variants)) : [...TABLE1_VARIANTS];
  const executor = executorSettings(flags, split.multi);

  const cli = path.resolve(String(flags.cli ?? process.argv[1] ?? ''));
  if (!flags.cli && !/\.js$/.test(cli)) throw new UsageError('--cli', `cannot tell which cli.js to run (this process runs ${cli}); pass --cli dist/cli.js`);
  if (!fs.existsSync(cli) || !fs.statSync(cli).isFile()) throw new UsageError('--cli', `${cli} does not exist; build it with "npm run build" or pass --cli PATH/TO/cli.js`);

  const baseFile = flags['config-base'] !== undefined ? path.resolve(String(flags['config-base'])) : undefined;
  const base = baseFile !== undefined ? readBase(baseFile) : studyBaseConfig();
  const baseEpochs = epochsFlag ?? base.epochs;
  const baseMilestones = epochsFlag !== undefined && epochsFlag !== base.epochs ? scaleMilestones(base.milestones, base.epochs, epochsFlag) : [...base.milestones];

  const firstSeed = seed ?? base.seed;
  const seeds = Array.from({ length: nSeeds }, (_, i) => firstSeed + i);

  const configs = new Map<StudyVariant, RunConfig>();
  for (const v of variants) {
    let c: RunConfig;
    try {
      c = variantConfig(v, base, { epochs: baseEpochs, milestones: baseMilestones, seed: firstSeed, maxSteps });
      // The last seed too, so a seed range past the config's bound is refused before anything trains.
      if (seeds.length > 1) variantConfig(v, base, { epochs: baseEpochs, milestones: baseMilestones, seed: seeds[seeds.length - 1], maxSteps });
    } catch (e) {
      const field = e instanceof ConfigError ? e.field : 'config';
      const flag = field === 'seed' ? (seeds.length > 1 ? '--seeds' : '--seed') : flags['config-base'] !== undefined ? '--config-base' : field;
      throw new UsageError(flag, `variant ${v}: ${(e as Error).message}`);
    }
    const cal = calibrationOf(c);
    if (cal.epochs < 1) {
      const need = Math.ceil(cal.costFactor / 2 + 1e-9);
      throw new UsageError('--epochs', `${VARIANT_LABELS[v]} divides ${baseEpochs} epochs by its cost factor ${cal.costFactor.toFixed(2)}, leaving none; use --epochs ${need} or more`);
    }
    configs.set(v, c);
  }

  const outDir = path.resolve(String(flags.out ?? path.join('runs', `study-${folderStamp()}`)));
  if (fs.existsSync(outDir)) {
    if (!fs.statSync(outDir).isDirectory()) throw new UsageError('--out', `${outDir} exists and is not a folder; pick a new folder`);
    if (fs.readdirSync(outDir).length > 0) throw new UsageError('--out', `${outDir} is not empty; pick a new folder so no earlier run is mixed into the table`);
  }
  return {
    variants, configs, baseEpochs, baseMilestones, outDir, cli, maxSteps, leakWindow, seeds,
    robustness: skipRobustness ? null : { severities: severities ?? [...STUDY_ROBUSTNESS_DEFAULTS.severities], images: images ?? STUDY_ROBUSTNESS_DEFAULTS.images },
    json: flags.json === true,
    base,
    ...(baseFile !== undefined ? { baseFile } : {}),
    executor,
  };
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stdout+stderr, for the failure reason. */
  tail: string[];
  stdout: string;
  spawnError?: string;
}

function runChild(cli: string, argv: string[], onLine: (line: string, stream: 'out' | 'err') => void, keepStdout = false): Promise<ChildResult> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    let stdout = '';
    const child = spawn(process.execPath, [cli, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const pump = (stream: NodeJS.ReadableStream, name: 'out' | 'err'): void => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        if (keepStdout && name === 'out') stdout += chunk;
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 20) tail.shift();
          onLine(line, name);
        }
      });
      stream.on('end', () => {
        if (buf.trim()) {
          tail.push(buf);
          onLine(buf, name);
        }
      });
    };
    pump(child.stdout, 'out');
    pump(child.stderr, 'err');
    let spawnError: string | undefined;
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code, signal) => resolve({ code, signal, tail, stdout, ...(spawnError ? { spawnError } : {}) }));
  });
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readBoundedText(file, READ_LIMITS.config)) as T;
  } catch {
    return undefined;
  }
}

function readRun(runDir: string): { config?: RunConfigRecord; results?: RunResults; metrics?: MetricsRecord[]; status?: RunStatus } {
  const config = readJson<RunConfigRecord>(path.join(runDir, RUN_FILES.config));
  const results = readJson<RunResults>(path.join(runDir, RUN_FILES.results));
  let metrics: MetricsRecord[] | undefined;
  try {
    metrics = oneRecordPerStep(parseMetricsLines(readBoundedText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics, 'metrics.jsonl')).records);
  } catch {
    metrics = undefined;
  }
  let status: RunStatus | undefined;
  try {
    status = parseStatus(readBoundedText(path.join(runDir, RUN_FILES.status), 1024 * 1024));
  } catch {
    status = undefined;
  }
  return { config, results, metrics, ...(status ? { status } : {}) };
}

/** Why `evaluate` failed: the child's own "error:" line if it printed one. */
function failureReason(r: ChildResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  const err = [...r.tail].reverse().find((l) => /^error:/i.test(l.trim()));
  const how = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return err ? `${how}: ${err.trim().replace(/^error:\s*/i, '')}` : `${how}${r.tail.length ? `: ${r.tail[r.tail.length - 1].trim()}` : ''}`;
}

/** Mean corruption error from `evaluate --json` output; tolerant of the record or a wrapper around it. */
export function meanCorruptionErrorOf(json: unknown): number | null | undefined {
  const o = json as { summary?: { meanCorruptionError?: unknown }; meanCorruptionError?: unknown; robustness?: { summary?: { meanCorruptionError?: unknown } } } | null;
  // null is a real answer (no cells evaluated), so only an absent key falls through to the next place.
  const candidates = [o?.summary, o?.robustness?.summary, o];
  for (const c of candidates) {
    if (!c || !('meanCorruptionError' in c)) continue;
    const v = c.meanCorruptionError;
    if (v === null) return null;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

async function evaluateRun(cli: string, runDir: string, what: { severities: number[]; images: number }): Promise<{ mce?: number | null; note?: string }> {
  const argv = ['evaluate', '--run', runDir, '--json', ...evaluateArgs({ corruptions: 'all', ...what })];
  const r = await runChild(cli, argv, () => undefined, true);
  if (r.code !== 0) return { note: `robustness skipped: evaluate ${failureReason(r)}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    return { note: 'robustness skipped: evaluate --json did not print JSON' };
  }
  const mce = meanCorruptionErrorOf(parsed);
  return mce === undefined ? { note: 'robustness skipped: evaluate --json printed no summary.meanCorruptionError' } : { mce };
}

/** The exit code a sweep executor recorded for a point (points/<i>.exit: a number, or "killed"). */
function recordedExit(dir: string, index: number, what: 'exit' | 'evaluate-exit' = 'exit'): string | undefined {
  try {
    return readBoundedText(pointMarker(dir, index, what), 1024).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** robustness.json with its thumbnails is well under this. */
const ROBUSTNESS_READ_LIMIT = 64 * 1024 * 1024;

/** The last `bytes` of a log as lines (a long evaluation log is only read at its end). */
function logTail(file: string, bytes = 64 * 1024): string[] {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, bytes));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The evaluation a point's Slurm job ran after training (slurm/script.ts): undefined while it has
 * not ended; else the mean corruption error from the run's robustness.json, or a one-line note
 * naming the run, the job and the log. `ended`: the job is gone, so a missing exit code is final.
 */
export function jobEvaluation(dir: string, index: number, runDir: string, ended: boolean, jobId?: string): { mce?: number | null; note?: string } | undefined {
  const exit = recordedExit(dir, index, 'evaluate-exit');
  const log = pointEvaluateLog(dir, index);
  const rel = path.relative(dir, runDir) || runDir;
  const job = jobId ? ` in Slurm job ${jobId}` : '';
  if (exit === undefined) {
    if (!ended) return undefined;
    return { note: `robustness skipped: the evaluation of ${rel} did not end${job} (job cancelled or killed before it finished?)${fs.existsSync(log) ? `; log ${log}` : ''}` };
  }
  if (exit !== '0') {
    const err = [...logTail(log)].reverse().find((l) => /^error:/i.test(l));
    const how = exit === '143' ? 'was stopped (SIGTERM)' : `exited ${exit}`;
    return { note: `robustness skipped: evaluate of ${rel} ${how}${job}${err ? `: ${err.replace(/^error:\s*/i, '')}` : ''}; log ${log}` };
  }
  try {
    const record = parseRobustness(readBoundedText(path.join(runDir, RUN_FILES.robustness), ROBUSTNESS_READ_LIMIT, 'robustness.json'));
    return { mce: record.summary.meanCorruptionError ?? null };
  } catch (e) {
    return { note: `robustness skipped: evaluate of ${rel} exited 0${job} but its ${RUN_FILES.robustness} cannot be read (${(e as Error).message}); log ${log}` };
  }
}

/**
 * Why a point has no completed run, in one line: how it ended (the exit code the executor
 * recorded, else what the sweep state says) and the engine's own error from status.json, else the
 * last "error:" line the executor reported for the point.
 */
function pointFailure(how: string | undefined, engineError: string | undefined, executorLine: string | undefined, fallback: string): string {
  const logged = executorLine !== undefined ? /error:\s*(.+)$/i.exec(executorLine)?.[1]?.trim() : undefined;
  const why = engineError ?? logged;
  if (how && why) return `${how}: ${why}`;
  return why ?? (how ? `${how}: ${fallback}` : fallback);
}

/**
 * Runs the study. Lines go to `out` as they happen (progress, then the table); with --json the
 * progress goes to `log` (stderr by default) so `out` carries only the JSON object. Returns the
 * exit code: 0 all runs completed, 1 any failed, 2 a bad flag or config.
 */
export async function studyCommand(
  args: string[],
  out: (s: string) => void,
  opts: { log?: (s: string) => void; progressSeconds?: number } = {},
): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = makePlan(args);
  } catch (e) {
    const msg = e instanceof UsageError || e instanceof ConfigError ? e.message : `study: ${(e as Error).message}`;
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`error: ${msg}`);
    return 2;
  }
  if (plan === 'help') {
    out(STUDY_USAGE);
    return 0;
  }
  const p = plan;
  const say = p.json ? (opts.log ?? ((s: string) => process.stderr.write(s + '\n'))) : out;
  const progressMs = 1000 * (opts.progressSeconds ?? 20);
  const t0 = Date.now();
  const multi = p.seeds.length > 1;

  // Seed-major: every variant gets seed s before any gets s + 1, so a study cut short is still balanced.
  const points: SweepPoint[] = [];
  for (const seed of p.seeds) {
    for (const v of p.variants) {
      const config: RunConfig = { ...p.configs.get(v)!, seed };
      const overrides = flattenOverrides({ ...variantOverrides(v), epochs: p.baseEpochs, milestones: p.baseMilestones, seed, ...(p.maxSteps !== undefined ? { maxSteps: p.maxSteps } : {}) });
      points.push({ index: points.length, name: multi ? `${v}-seed-${seed}` : v, variant: v, group: v, seed, overrides, config });
    }
  }
  const total = points.length;
  const variantOf = (i: number): StudyVariant => points[i].variant as StudyVariant;
  const tag = (i: number): string => `[${i + 1}/${total} ${points[i].variant}${multi ? ` seed ${points[i].seed}` : ''}]`;

  // On Slurm each point's own job evaluates its run right after training, on the node that trained
  // it: this process (on the login node) only reads the results. Locally this process evaluates.
  const evaluateInJob = p.robustness !== null && p.executor.kind === 'slurm';
  let m: SweepManifest;
  try {
    m = createSweep({
      dir: p.outDir, name: path.basename(p.outDir), base: p.base, ...(p.baseFile !== undefined ? { baseFile: p.baseFile } : {}),
      grid: { axes: [], variants: [], seeds: 0 }, executor: p.executor.kind,
      ...(p.executor.parallel !== undefined ? { parallel: p.executor.parallel } : {}), ...(p.executor.slurm ? { slurm: p.executor.slurm } : {}),
      ...(evaluateInJob ? { evaluate: { corruptions: 'all', ...p.robustness! } } : {}),
    }, points);
  } catch (e) {
    (opts.log ?? ((s: string) => process.stderr.write(s + '\n')))(`error: ${(e as Error).message}`);
    return 2;
  }
  say(`study ${p.outDir}: ${total} runs (${p.variants.length} variant${p.variants.length === 1 ? '' : 's'}${multi ? ` × seeds ${p.seeds[0]}..${p.seeds[p.seeds.length - 1]}` : `, seed ${p.seeds[0]}`}) at a budget of ${p.baseEpochs} vanilla epochs${p.maxSteps ? `, each stopped after ${p.maxSteps} steps` : ''}; executor ${p.executor.kind}`);
  if (p.robustness) {
    say(`robustness: all 15 corruptions at severities ${p.robustness.severities.join(',')} on the first ${p.robustness.images} test images, of each completed run ${evaluateInJob ? `in its own Slurm job right after it trains (log ${path.join(p.outDir, 'slurm', 'evaluate-<i>.log')})` : 'once all have trained'}`);
  }
  for (let i = 0; i < total; i++) {
    const cal = calibrationOf(points[i].config);
    say(`${tag(i)} ${VARIANT_LABELS[variantOf(i)]}: cost ×${cal.costFactor.toFixed(2)}, ${cal.epochs} epoch${cal.epochs === 1 ? '' : 's'}${cal.milestones.length ? `, LR decay at ${cal.milestones.join(',')}` : ''}`);
  }

  const inputs: (StudyRunInput | undefined)[] = new Array(total).fill(undefined);
  const build = (): { rows: StudyRunSummary[]; json: StudyJson } => {
    const rows = summarizeStudy(inputs.filter((x): x is StudyRunInput => x !== undefined), { baseEpochs: p.baseEpochs, leakWindow: p.leakWindow });
    const json: StudyJson = {
      runs: rows.map(({ label: _label, ...r }) => r),
      aggregate: aggregateStudy(rows).map(({ label: _label, ...a }) => a),
      seeds: p.seeds,
      robustness: p.robustness ? { corruptions: 'all', ...p.robustness } : null,
      budget: {
        baseEpochs: p.baseEpochs,
        baseMilestones: p.baseMilestones,
        schedules: p.variants.map((v) => {
          const c = calibrationOf(p.configs.get(v)!);
          return { variant: v, method: c.method, costFactor: c.costFactor, epochs: c.epochs, milestones: c.milestones, totalCost: c.totalCost };
        }),
        maxSteps: p.maxSteps ?? null,
      },
      seconds: (Date.now() - t0) / 1000,
      outDir: p.outDir,
      sweep: { dir: p.outDir, manifest: path.join(p.outDir, 'sweep.json'), executor: m.executor, jobId: m.jobId ?? null },
      failed: rows.filter((r) => r.error !== undefined).map((r) => (r.seed !== undefined && multi ? `${r.variant}@${r.seed}` : r.variant)),
    };
    return { rows, json };
  };
  // Kept beside the runs, and rewritten after every run, so a long study stopped half-way still leaves its table.
  const save = (): void => {
    try {
      fs.writeFileSync(path.join(p.outDir, 'study.json'), JSON.stringify(build().json, null, 2) + '\n');
    } catch (e) {
      say(`could not write study.json: ${(e as Error).message}`);
    }
  };

  // What the executor said last about each point ("point 3 …: failed (exit 1) …: error: …"), for a failure's reason.
  const executorLines = new Map<number, string>();
  const executorLog = (line: string): void => {
    const hit = /^point (\d+) /.exec(line);
    if (hit) executorLines.set(Number(hit[1]), line);
    say(line);
  };
  let scheduler: ReadonlyMap<number, SchedulerInfo> = new Map();

  const onDisk = (): SweepManifest | undefined => {
    try {
      return readManifest(p.outDir);
    } catch {
      return undefined;
    }
  };

  /** Reads a settled point's run folder into the table's input; `ended` when the executor is done with it. */
  const settle = (i: number, ended: boolean): boolean => {
    if (inputs[i] !== undefined) return true;
    const pt = m.points[i];
    const runDir = pointRunDir(p.outDir, pt);
    const { status, ...rec } = readRun(runDir);
    // While points still run, only a run whose results say completed counts as ended.
    if (!ended && rec.results?.state !== 'completed') return false;
    const exit = recordedExit(p.outDir, i);
    const input: StudyRunInput = {
      variant: variantOf(i), seed: pt.seed, runDir, requested: points[i].config, ...rec,
      ...(exit !== undefined ? { exitCode: /^-?\d+$/.test(exit) ? Number(exit) : null } : {}),
    };
    const how = exit === undefined ? undefined : /^-?\d+$/.test(exit) ? `exit ${exit}` : 'killed';
    if (!rec.results) {
      // The manifest on disk: a `sweep cancel` or Stop Sweep from elsewhere recorded its points there.
      const s = readPointState(p.outDir, onDisk()?.points[i] ?? pt, scheduler.get(i));
      const neverStarted = s.run === 'cancelled' || (s.run === 'pending' && fs.existsSync(path.join(p.outDir, SWEEP_CANCEL_REQUEST)));
      input.error = neverStarted
        ? 'cancelled before it started'
        : pointFailure(how ?? displayState(s), status?.error?.message, executorLines.get(i), s.error ?? `the run wrote no ${RUN_FILES.results} (it was stopped before the end?)`);
    } else if (rec.results.state !== 'completed') input.error = `the run ended ${rec.results.state}${status?.error?.message ? `: ${status.error.message}` : ''}`;
    else if (exit !== undefined && exit !== '0') input.error = pointFailure(how, status?.error?.message, executorLines.get(i), 'train exited non-zero after writing its results');
    inputs[i] = input;
    if (input.error) say(`${tag(i)} FAILED: ${input.error}`);
    else say(`${tag(i)} completed ${rec.results!.steps} steps${typeof rec.results!.wallSeconds === 'number' ? ` in ${duration(rec.results!.wallSeconds)}` : ''}: test accuracy ${(100 * rec.results!.clean.accuracy).toFixed(2)}%`);
    save();
    return true;
  };

  // The executor runs the points; the study follows their run folders: a progress line per running
  // point at most every progressSeconds, and a point's result line as soon as it has one.
  const lastShown = new Map<number, { at: number; step?: number }>();
  const evaluated = new Set<number>();
  /** Takes a point's in-job evaluation into its row once it has ended (or, `ended`, once its job has). */
  const settleJobEvaluation = (i: number, ended: boolean): void => {
    const input = inputs[i];
    if (!evaluateInJob || evaluated.has(i) || !input || input.error) return;
    const ev = jobEvaluation(p.outDir, i, input.runDir, ended, m.points[i].jobId);
    if (!ev) return;
    evaluated.add(i);
    if (ev.mce !== undefined) input.meanCorruptionError = ev.mce;
    if (ev.note) {
      input.robustnessNote = interrupted && ev.mce === undefined ? `robustness skipped: the study was cancelled (${ev.note.replace(/^robustness skipped: /, '')})` : ev.note;
      say(`${tag(i)} ${input.robustnessNote}`);
    } else say(`${tag(i)} mean corruption error ${ev.mce === null || ev.mce === undefined ? MISSING : ev.mce.toFixed(2)} (evaluated in Slurm job ${m.points[i].jobId ?? '?'})`);
    save();
  };
  const follow = (): void => {
    for (let i = 0; i < total; i++) {
      settleJobEvaluation(i, false);
      if (inputs[i] !== undefined) continue;
      const s = readPointState(p.outDir, m.points[i], scheduler.get(i));
      // Only a completed run is final while the executor still works: a stopped one may be a Slurm
      // job that checkpointed and requeues itself, and resumes.
      if (s.run === 'completed') {
        settle(i, false);
        continue;
      }
      if (s.run !== 'running' || !s.step) continue;
      const last = lastShown.get(i);
      const now = Date.now();
      if (last && (last.step === s.step || now - last.at < progressMs)) continue;
      lastShown.set(i, { at: now, step: s.step });
      say(`${tag(i)} step ${s.step}/${s.totalSteps ?? '?'}`);
    }
  };
  const ex = executorFor(m.executor, p.cli);
  const saveManifest = (next: SweepManifest): void => {
    m = next;
    writeManifest(p.outDir, next);
  };
  const timer = setInterval(follow, Math.max(200, Math.min(1000, progressMs)));
  // Ctrl-C (or SIGTERM) cancels the study as `sweep cancel` would, through its executor: no further
  // point starts, running ones stop at their next step; the table is still printed. Again: exit now.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`${sig}: cancelling the study (no further run starts, running ones stop after their current step); send it again to exit at once`);
    ex.cancel(p.outDir, m).then((lines) => lines.forEach((l) => say(l)), (e: Error) => say(`error: ${e.message}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let submitError: string | undefined;
  try {
    // The local executor returns when every point has ended; Slurm once the array is submitted, so wait for it.
    await ex.submit(p.outDir, m, saveManifest, executorLog);
    if (m.executor !== 'local') {
      const states = await waitSettled(p.outDir, m, ex, say, 2000);
      scheduler = new Map(states.filter((s) => s.scheduler).map((s) => [s.index, s.scheduler!]));
    }
  } catch (e) {
    submitError = (e as Error).message;
    say(`error: ${submitError}`);
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (let i = 0; i < total; i++) settle(i, true);
  // Every job has ended: an evaluation that left no exit code never finished.
  for (let i = 0; i < total; i++) settleJobEvaluation(i, true);

  if (p.robustness && !evaluateInJob) {
    // After every point has trained, one evaluation at a time: each uses every core, as a run does.
    for (let i = 0; i < total; i++) {
      const input = inputs[i]!;
      if (input.error) continue;
      if (interrupted) {
        input.robustnessNote = 'robustness skipped: the study was cancelled';
        continue;
      }
      const evStarted = Date.now();
      const ev = await evaluateRun(p.cli, input.runDir, p.robustness);
      if (ev.mce !== undefined) input.meanCorruptionError = ev.mce;
      if (ev.note) {
        input.robustnessNote = ev.note;
        say(`${tag(i)} ${ev.note}`);
      } else say(`${tag(i)} mean corruption error ${ev.mce === null || ev.mce === undefined ? MISSING : ev.mce.toFixed(2)} (${duration((Date.now() - evStarted) / 1000)})`);
      save();
    }
  }

  const { rows, json } = build();
  save();
  const seconds = json.seconds;
  const failed = json.failed;
  if (p.json) {
    out(JSON.stringify(json, null, 2));
  } else {
    out('');
    const table = multi ? formatAggregateTable(rows, { robustness: p.robustness !== null }) : formatStudyTable(rows, { robustness: p.robustness !== null });
    for (const l of table) out(l);
    out('');
    out(`budget: ${p.baseEpochs} vanilla epochs${p.baseMilestones.length ? ` (LR decay at ${p.baseMilestones.join(',')})` : ''}; ×budget = counted image-passes / (${p.baseEpochs} × training images)`);
    if (p.robustness) out(`mean CE: 100 − mean accuracy (%) over all 15 corruptions × severities ${p.robustness.severities.join(',')} on the first ${p.robustness.images} test images (not the AlexNet-normalised mCE)`);
    out(`${rows.length} runs in ${duration(seconds)}; results in ${p.outDir} (a sweep folder: fast-advprop sweep table ${p.outDir})`);
    if (failed.length) out(`failed: ${failed.join(', ')}`);
  }
  return failed.length || submitError !== undefined ? 1 : 0;
}
