// `fast-advprop study`: trains vanilla, same-budget PGD-5 AdvProp, Fast AdvProp and Fast AdvProp
// without shuffle BN at equal budget on one dataset and prints a Table-1-like comparison.
//
// Each variant is a child process of the same CLI rather than an in-process train: a run uses
// every core, owns its backend and worker threads, and a crash or divergence in one must not take
// the others (or the table) down with it. Runs go one after another for the same reason.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, stripJsonComments, type RunConfig } from '../../shared/config';
import { RUN_FILES, oneRecordPerStep, parseMetricsLines, type MetricsRecord, type RunConfigRecord, type RunResults } from '../../shared/runFormat';
import { UsageError, formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import {
  STUDY_VARIANTS, VARIANT_LABELS, calibrationOf, formatStudyTable, scaleMilestones, summarizeStudy, variantConfig,
  type StudyRunInput, type StudyRunSummary, type StudyVariant,
} from './summary';
import { READ_LIMITS, readBoundedText } from '../util/boundedRead';

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

export function studyBaseConfig(): RunConfig {
  return resolveConfig(structuredClone(STUDY_BASE));
}

export const STUDY_FLAGS: Record<string, FlagSpec> = {
  epochs: { type: 'int', metavar: 'E', help: `vanilla epochs, the shared budget; the others get E / cost factor (default ${DEFAULT_STUDY_EPOCHS})` },
  out: { type: 'string', metavar: 'DIR', help: 'study folder, one run folder per variant inside (default runs/study-<timestamp>)' },
  variants: { type: 'string', metavar: 'LIST', help: `comma-separated subset of ${STUDY_VARIANTS.join(', ')} (default all, in that order)` },
  'max-steps': { type: 'int', metavar: 'N', help: 'stop every run after N optimizer steps (smoke tests); the table then shows fractional epochs' },
  seed: { type: 'int', metavar: 'N', help: 'seed shared by all runs (default: the config\'s, 0)' },
  'config-base': { type: 'string', metavar: 'FILE', help: 'partial run config applied to every variant first (model, dataset limits, backend…)' },
  'leak-window': { type: 'int', metavar: 'N', help: 'logged steps averaged for the clean/adv train accuracy (default: the run\'s leak.window, 5)' },
  robustness: { type: 'bool', help: 'also run "evaluate --run DIR --json" on each run and show the mean corruption error' },
  cli: { type: 'string', metavar: 'PATH', help: 'the cli.js that trains the runs (default: the one running)' },
  json: { type: 'bool', help: 'print one JSON object instead of the table (progress then goes to stderr)' },
  help: { type: 'bool', help: 'show this help' },
};

export const STUDY_USAGE = `usage: fast-advprop study [--epochs E] [--out DIR] [--variants LIST] [--robustness] [--json]

Trains, one after another and at equal budget on the same data: vanilla; same-budget PGD-5
AdvProp (epochs and milestones divided by 7); Fast AdvProp (the default config); Fast AdvProp
without shuffle BN. All four use the default config (ResNet-8 of width 16; override with
--config-base). Then prints a Table-1-like comparison read from the run folders: cost factor,
epochs trained, counted image-passes, clean test accuracy, clean vs adversarial train accuracy
and the leak detector's verdict. Exit codes: 0 all runs completed, 1 a run failed (the others
still run and are reported), 2 bad flag or config (nothing is trained).

${formatFlags(STUDY_FLAGS)}`;

export interface StudyJson {
  runs: (Omit<StudyRunSummary, 'label'> & { leak: { clean: number | null; adv: number | null; flagged: boolean; window: number; steps: number } })[];
  budget: {
    baseEpochs: number;
    baseMilestones: number[];
    /** Per variant: the cost model's factor and the schedule it implies at this budget. */
    schedules: { variant: string; method: string; costFactor: number; epochs: number; milestones: number[]; totalCost: number }[];
    maxSteps: number | null;
  };
  seconds: number;
  outDir: string;
  failed: string[];
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function stamp(d: Date): string {
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
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
  robustness: boolean;
  json: boolean;
}

function parseVariants(text: string): StudyVariant[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('--variants', `needs at least one of ${STUDY_VARIANTS.join(', ')}`);
  const out: StudyVariant[] = [];
  for (const n of names) {
    if (!(STUDY_VARIANTS as readonly string[]).includes(n)) {
      throw new UsageError('--variants', `unknown variant ${JSON.stringify(n)}; use a comma-separated list of ${STUDY_VARIANTS.join(', ')}`);
    }
    if (out.includes(n as StudyVariant)) throw new UsageError('--variants', `${n} is listed twice; list each variant once`);
    out.push(n as StudyVariant);
  }
  return out;
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
  const { flags, positional } = parseFlags('study', args, STUDY_FLAGS);
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
  const variants = flags.variants !== undefined ? parseVariants(String(flags.variants)) : [...STUDY_VARIANTS];

  const cli = path.resolve(String(flags.cli ?? process.argv[1] ?? ''));
  if (!flags.cli && !/\.js$/.test(cli)) throw new UsageError('--cli', `cannot tell which cli.js to run (this process runs ${cli}); pass --cli dist/cli.js`);
  if (!fs.existsSync(cli) || !fs.statSync(cli).isFile()) throw new UsageError('--cli', `${cli} does not exist; build it with "npm run build" or pass --cli PATH/TO/cli.js`);

  const base = flags['config-base'] !== undefined ? readBase(path.resolve(String(flags['config-base']))) : studyBaseConfig();
  const baseEpochs = epochsFlag ?? base.epochs;
  const baseMilestones = epochsFlag !== undefined && epochsFlag !== base.epochs ? scaleMilestones(base.milestones, base.epochs, epochsFlag) : [...base.milestones];

  const configs = new Map<StudyVariant, RunConfig>();
  for (const v of variants) {
    let c: RunConfig;
    try {
      c = variantConfig(v, base, { epochs: baseEpochs, milestones: baseMilestones, seed, maxSteps });
    } catch (e) {
      const field = e instanceof ConfigError ? e.field : 'config';
      throw new UsageError(flags['config-base'] !== undefined ? '--config-base' : field, `variant ${v}: ${(e as Error).message}`);
    }
    const cal = calibrationOf(c);
    if (cal.epochs < 1) {
      const need = Math.ceil(cal.costFactor / 2 + 1e-9);
      throw new UsageError('--epochs', `${VARIANT_LABELS[v]} divides ${baseEpochs} epochs by its cost factor ${cal.costFactor.toFixed(2)}, leaving none; use --epochs ${need} or more`);
    }
    configs.set(v, c);
  }

  const outDir = path.resolve(String(flags.out ?? path.join('runs', `study-${stamp(new Date())}`)));
  if (fs.existsSync(outDir)) {
    if (!fs.statSync(outDir).isDirectory()) throw new UsageError('--out', `${outDir} exists and is not a folder; pick a new folder`);
    if (fs.readdirSync(outDir).length > 0) throw new UsageError('--out', `${outDir} is not empty; pick a new folder so no earlier run is mixed into the table`);
  }
  return { variants, configs, baseEpochs, baseMilestones, outDir, cli, maxSteps, leakWindow, robustness: flags.robustness === true, json: flags.json === true };
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

function readRun(runDir: string): { config?: RunConfigRecord; results?: RunResults; metrics?: MetricsRecord[] } {
  const config = readJson<RunConfigRecord>(path.join(runDir, RUN_FILES.config));
  const results = readJson<RunResults>(path.join(runDir, RUN_FILES.results));
  let metrics: MetricsRecord[] | undefined;
  try {
    metrics = oneRecordPerStep(parseMetricsLines(readBoundedText(path.join(runDir, RUN_FILES.metrics), READ_LIMITS.metrics, 'metrics.jsonl')).records);
  } catch {
    metrics = undefined;
  }
  return { config, results, metrics };
}

/** The failure reason a person needs: the child's own "error:" line if it printed one. */
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

async function evaluateRun(cli: string, runDir: string): Promise<{ mce?: number | null; note?: string }> {
  const r = await runChild(cli, ['evaluate', '--run', runDir, '--json'], () => undefined, true);
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

const PROGRESS_RE = /^epoch \d+\/\d+\s+step \d+\/\d+/;

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
  fs.mkdirSync(p.outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-advprop-study-'));
  const inputs: StudyRunInput[] = [];
  say(`study ${p.outDir}: ${p.variants.length} runs at a budget of ${p.baseEpochs} vanilla epochs${p.maxSteps ? `, each stopped after ${p.maxSteps} steps` : ''}`);
  try {
    for (const [i, v] of p.variants.entries()) {
      const config = p.configs.get(v)!;
      const cal = calibrationOf(config);
      const runDir = path.join(p.outDir, v);
      const cfgFile = path.join(tmp, `${v}.advprop.json`);
      fs.writeFileSync(cfgFile, JSON.stringify(config, null, 2));
      const tag = `[${i + 1}/${p.variants.length} ${v}]`;
      say(`${tag} ${VARIANT_LABELS[v]}: cost ×${cal.costFactor.toFixed(2)}, ${cal.epochs} epoch${cal.epochs === 1 ? '' : 's'}${cal.milestones.length ? `, LR decay at ${cal.milestones.join(',')}` : ''}`);
      const started = Date.now();
      let lastShown = 0;
      let pending: string | undefined;
      const child = await runChild(p.cli, ['train', '--config', cfgFile, '--run-dir', runDir], (line, stream) => {
        if (stream !== 'out' || !PROGRESS_RE.test(line)) return;
        // Training logs every few seconds; one line per interval keeps four runs readable.
        const now = Date.now();
        if (now - lastShown >= progressMs) {
          say(`${tag} ${line}`);
          lastShown = now;
          pending = undefined;
        } else pending = line;
      });
      if (pending) say(`${tag} ${pending}`);
      const wallSeconds = (Date.now() - started) / 1000;
      const rec = readRun(runDir);
      const input: StudyRunInput = { variant: v, runDir, requested: config, ...rec, exitCode: child.code, wallSeconds };
      if (child.code !== 0 || child.spawnError) input.error = failureReason(child);
      else if (!rec.results) input.error = `the run wrote no ${RUN_FILES.results} (it was stopped before the end?)`;
      else if (rec.results.state !== 'completed') input.error = `the run ended ${rec.results.state}`;
      if (input.error) say(`${tag} FAILED after ${duration(wallSeconds)}: ${input.error}`);
      else {
        const acc = rec.results!.clean.accuracy;
        say(`${tag} completed ${rec.results!.steps} steps in ${duration(wallSeconds)}: test accuracy ${(100 * acc).toFixed(2)}%`);
        if (p.robustness) {
          say(`${tag} evaluating corruption robustness…`);
          const ev = await evaluateRun(p.cli, runDir);
          if (ev.mce !== undefined) input.meanCorruptionError = ev.mce;
          if (ev.note) {
            input.robustnessNote = ev.note;
            say(`${tag} ${ev.note}`);
          }
        }
      }
      inputs.push(input);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const rows = summarizeStudy(inputs, { baseEpochs: p.baseEpochs, leakWindow: p.leakWindow });
  const seconds = (Date.now() - t0) / 1000;
  const failed = rows.filter((r) => r.error !== undefined).map((r) => r.variant);
  const json: StudyJson = {
    runs: rows.map(({ label: _label, ...r }) => r),
    budget: {
      baseEpochs: p.baseEpochs,
      baseMilestones: p.baseMilestones,
      schedules: p.variants.map((v) => {
        const c = calibrationOf(p.configs.get(v)!);
        return { variant: v, method: c.method, costFactor: c.costFactor, epochs: c.epochs, milestones: c.milestones, totalCost: c.totalCost };
      }),
      maxSteps: p.maxSteps ?? null,
    },
    seconds,
    outDir: p.outDir,
    failed,
  };
  // Kept beside the runs so the table can be rebuilt or diffed later without re-reading every folder.
  try {
    fs.writeFileSync(path.join(p.outDir, 'study.json'), JSON.stringify(json, null, 2) + '\n');
  } catch (e) {
    say(`could not write study.json: ${(e as Error).message}`);
  }
  if (p.json) {
    out(JSON.stringify(json, null, 2));
  } else {
    out('');
    for (const l of formatStudyTable(rows, { robustness: p.robustness })) out(l);
    out('');
    out(`budget: ${p.baseEpochs} vanilla epochs${p.baseMilestones.length ? ` (LR decay at ${p.baseMilestones.join(',')})` : ''}; ×budget = counted image-passes / (${p.baseEpochs} × training images)`);
    out(`${rows.length} runs in ${duration(seconds)}; results in ${p.outDir}`);
    if (failed.length) out(`failed: ${failed.join(', ')}`);
  }
  return failed.length ? 1 : 0;
}
