// `fast-advprop sweep`: a grid of runs from one base config, run locally or on a Slurm cluster,
// followed through the run folders (`sweep status|table|cancel DIR`).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, parseConfigText, type RunConfig } from '../../shared/config';
import { aggregateBySeed, formatGroupTable, type GroupRow } from '../sweep/aggregate';
import { createSweep, planSweep } from '../sweep/create';
import { LocalExecutor } from '../sweep/local';
import { EXECUTOR_FLAG, PARALLEL_FLAG, REPEATABLE_SLURM_FLAGS, SLURM_FLAGS, executorFor, executorSettings, splitRepeatable } from '../sweep/flags';
import { checkCommand, commandFor, parseGridText, parseSetFlag, type GridSpec } from '../sweep/grid';
import { readManifest, writeManifest, type SweepManifest } from '../sweep/manifest';
import { batchScript } from '../sweep/slurm/script';
import { BATCH_SCRIPT } from '../sweep/slurm/executor';
import { displayState, readSweepState, seedRows, type PointState } from '../sweep/state';
import { waitSettled } from '../sweep/wait';
import { FileReadError, READ_LIMITS, readBoundedText } from '../util/boundedRead';
import { UsageError, formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import { formatFigure } from '../util/meanStd';
import type { CliIo } from './io';
import { folderStamp } from '../../shared/folderStamp';

export { executorFor } from '../sweep/flags';

export const SWEEP_FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', metavar: 'FILE', help: 'base run config (default: the built-in default)' },
  grid: { type: 'string', metavar: 'FILE', help: 'grid file: {"axes": {"key": [values]}, "variants": {name: {overrides}}, "seeds": N}' },
  set: { type: 'string', metavar: 'KEY=V1,V2', help: 'one axis of dotted config key and values (repeatable), e.g. --set split=8:1,4:1' },
  seeds: { type: 'int', metavar: 'N', help: 'train each point with seeds s…s+N-1 (s = the base config\'s seed)' },
  command: { type: 'string', metavar: 'TEMPLATE', help: 'run this shell command per point instead of our engine, {key} filled in, e.g. "python imagenet.py --lr {lr} --checkpoint {runDir}"' },
  executor: EXECUTOR_FLAG,
  out: { type: 'string', metavar: 'DIR', help: 'sweep folder (default runs/sweep-<timestamp>); run folders go in DIR/runs/' },
  name: { type: 'string', metavar: 'NAME', help: 'sweep name (default: the folder name)' },
  parallel: PARALLEL_FLAG,
  ...SLURM_FLAGS,
  'enqueue-only': { type: 'bool', help: 'local: create the sweep and queue its points without starting any (VS Code\'s job manager starts them)' },
  wait: { type: 'bool', help: 'slurm: stay until every point ended, then print the table and submit-to-RUNNING times' },
  'dry-run': { type: 'bool', help: 'print the points (and for slurm the batch script) without creating anything' },
  cli: { type: 'string', metavar: 'PATH', help: 'the cli.js that trains the runs (default: the one running)' },
  json: { type: 'bool', help: 'status/table: print JSON' },
  point: { type: 'int', metavar: 'I', help: 'cancel: only this point' },
  help: { type: 'bool', help: 'show this help' },
};

const REPEATABLE = ['set', ...REPEATABLE_SLURM_FLAGS];

export const SWEEP_USAGE = `usage: fast-advprop sweep [--config BASE] (--grid FILE | --set KEY=V1,V2 …) [--seeds N]
                         [--executor local|slurm] [--out DIR] [slurm flags] [--wait]
       fast-advprop sweep --command TEMPLATE (--grid FILE | --set KEY=V1,V2 …) [--seeds N] [--executor …]
       fast-advprop sweep status DIR [--wait] [--json]
       fast-advprop sweep table DIR [--json]
       fast-advprop sweep cancel DIR [--point I]

Trains the cartesian product of the grid's values (× variants × seeds), one run folder per point
under DIR/runs/, and keeps DIR/sweep.json (points, run folders, executor, job ids). The table is
built from the run folders: test accuracy, mean ± std over seeds. local queues the points in the
run queue VS Code also drains, runs them as child processes (--parallel at a time; a point VS Code
took first is waited for, not run twice) and returns when all ended; slurm submits one
sbatch --array and returns (or --wait).
Exit codes: 0 done (or submitted), 1 a point failed, 2 bad flag, grid or config (nothing created).

${formatFlags(SWEEP_FLAGS)}`;

function cliPath(flag: unknown): string {
  const cli = path.resolve(String(flag ?? process.argv[1] ?? ''));
  if (!flag && !/\.js$/.test(cli)) throw new UsageError('--cli', `cannot tell which cli.js to run (this process runs ${cli}); pass --cli dist/cli.js`);
  return cli;
}

export async function sweepCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let flags: Record<string, string | number | boolean>;
  let positional: string[];
  let multi: Record<string, string[]>;
  try {
    const split = splitRepeatable(argv, REPEATABLE, SWEEP_FLAGS);
    multi = split.multi;
    ({ flags, positional } = parseFlags('sweep', split.rest, SWEEP_FLAGS));
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.out(SWEEP_USAGE);
    return 0;
  }
  try {
    const [sub, dir, ...extra] = positional;
    if (extra.length) throw new UsageError(extra[0], 'unexpected argument; see fast-advprop sweep --help');
    if (sub === undefined) return await submitCommand(flags, multi, io);
    if (!['status', 'table', 'cancel'].includes(sub)) throw new UsageError(sub, 'unknown sweep subcommand; use status, table or cancel (or flags only to start a sweep)');
    if (!dir) throw new UsageError(sub, `needs the sweep folder: fast-advprop sweep ${sub} DIR`);
    const m = readManifest(dir);
    if (sub === 'cancel') return await cancelCommand(dir, m, flags, io);
    if (sub === 'status' && flags.wait) await waitSettled(dir, m, executorFor(m.executor, cliPath(flags.cli ?? process.argv[1])), io.out);
    const states = await sweepStates(dir, m, io);
    if (sub === 'table') printTable(states, flags.json === true, io);
    else printStatus(dir, m, states, flags.json === true, io);
    return states.some((s) => s.run === 'failed') ? 1 : 0;
  } catch (e) {
    io.err(`error: ${e instanceof UsageError || e instanceof ConfigError ? `${e.field}: ${e.message.slice(e.field.length + 2)}` : (e as Error).message}`);
    return 2;
  }
}

function readBase(file: string | undefined): { base: RunConfig; baseFile?: string } {
  if (file === undefined) return { base: DEFAULT_CONFIG };
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readBoundedText(abs, READ_LIMITS.config, 'a run config');
  } catch (e) {
    throw new UsageError('--config', e instanceof FileReadError ? e.message : `cannot read ${abs} (${(e as Error).message})`);
  }
  let base = parseConfigText(text, abs);
  // Each point's config file sits in the sweep folder: a relative dataset path must not move with it.
  if (base.dataset.path !== undefined && !path.isAbsolute(base.dataset.path)) base = { ...base, dataset: { ...base.dataset, path: path.resolve(path.dirname(abs), base.dataset.path) } };
  return { base, baseFile: abs };
}

async function submitCommand(flags: Record<string, string | number | boolean>, multi: Record<string, string[]>, io: CliIo): Promise<number> {
  const { kind, parallel, slurm } = executorSettings(flags, multi);
  if (flags['enqueue-only'] && kind !== 'local') throw new UsageError('--enqueue-only', 'queues points for the local run queue; Slurm has its own queue (leave it out)');
  if (flags.seeds !== undefined && (Number(flags.seeds) < 1 || Number(flags.seeds) > 1000)) throw new UsageError('--seeds', 'must be 1 to 1000');
  let grid: GridSpec = { axes: [], variants: [], seeds: 0 };
  if (flags.grid !== undefined) {
    const file = path.resolve(String(flags.grid));
    let text: string;
    try {
      text = readBoundedText(file, READ_LIMITS.config, 'a grid file');
    } catch (e) {
      throw new UsageError('--grid', (e as Error).message);
    }
    grid = parseGridText(text, file);
  }
  for (const s of multi.set) {
    const [k, vs] = parseSetFlag(s);
    if (grid.axes.some(([a]) => a === k)) throw new UsageError('--set', `${k} is already an axis (given twice, or also in the grid file)`);
    grid.axes.push([k, vs]);
  }
  if (flags.seeds !== undefined) grid = { ...grid, seeds: Number(flags.seeds) };
  if (flags.command !== undefined) grid = { ...grid, command: checkCommand(flags.command, '--command') };
  if (grid.command !== undefined && flags['enqueue-only']) throw new UsageError('--enqueue-only', 'a command sweep runs your command, which the run queue cannot start; leave out --enqueue-only');
  if (grid.command !== undefined && flags.config !== undefined) throw new UsageError('--config', 'a command sweep runs your command, not our engine: leave out --config (the grid\'s keys fill the command\'s {placeholders})');
  const { base, baseFile } = readBase(flags.config as string | undefined);
  const cli = cliPath(flags.cli);
  const dir = path.resolve(String(flags.out ?? path.join('runs', `sweep-${folderStamp()}`)));
  const name = String(flags.name ?? path.basename(dir));
  const input = { dir, name, base, ...(baseFile ? { baseFile } : {}), grid, executor: kind, ...(parallel !== undefined ? { parallel } : {}), ...(slurm ? { slurm } : {}) };
  const points = planSweep(input);
  if (flags['dry-run']) {
    io.out(`${points.length} points (${kind}):`);
    for (const p of points) io.out(`  ${p.name}  ${grid.command !== undefined ? commandFor(grid.command, p, path.join(dir, 'runs', p.name)) : JSON.stringify(p.overrides)}`);
    if (slurm) {
      const ext = grid.command !== undefined ? 'command.sh' : 'advprop.json';
      io.out(`\n${BATCH_SCRIPT} (sbatch --array=0-${points.length - 1}${slurm.maxParallel > 0 ? `%${slurm.maxParallel}` : ''}):`);
      io.out(batchScript({ name, sweepDir: dir, cli, settings: slurm, ...(grid.command !== undefined ? { command: true } : {}), points: points.map((p) => ({ runDir: path.join(dir, 'runs', p.name), config: path.join(dir, 'configs', `${p.name}.${ext}`) })) }));
    }
    return 0;
  }
  let m = createSweep(input, points);
  io.out(`sweep ${dir}: ${points.length} point${points.length === 1 ? "" : "s"}, executor ${kind}`);
  const save = (next: SweepManifest): void => {
    m = next;
    writeManifest(dir, next);
  };
  if (flags['enqueue-only']) {
    new LocalExecutor(cli).enqueue(dir, m, save);
    io.out(`queued ${points.length} point${points.length === 1 ? '' : 's'}; they start from the run queue (VS Code, under fastAdvprop.maxConcurrentRuns)`);
    io.out(`follow it with: fast-advprop sweep status ${dir}   (stop: fast-advprop sweep cancel ${dir})`);
    return 0;
  }
  const ex = executorFor(kind, cli);
  const release = kind === 'local' ? cancelOnSignal(dir, io) : () => undefined;
  try {
    await ex.submit(dir, m, save, io.out);
  } finally {
    release();
  }
  if (kind === 'slurm' && !flags.wait) {
    io.out(`follow it with: fast-advprop sweep status ${dir}   (stop: fast-advprop sweep cancel ${dir})`);
    return 0;
  }
  if (kind === 'slurm') await waitSettled(dir, m, ex, io.out);
  // Read again: a cancel from elsewhere recorded its points in the manifest on disk.
  const final = readManifest(dir);
  const states = readSweepState(dir, final, await ex.query(dir, final).catch(() => new Map()));
  printTable(states, false, io);
  if (kind === 'slurm') printStartTimes(dir, final, io);
  return states.some((s) => s.run !== 'completed') ? 1 : 0;
}

/**
 * Ctrl-C (or SIGTERM) on a local sweep cancels it, as `sweep cancel` would: its queued points leave
 * the run queue (else a VS Code window opening the folder would start them later) and its running
 * points stop at their next step with a checkpoint. A second signal exits at once.
 */
function cancelOnSignal(dir: string, io: CliIo): () => void {
  let got = false;
  const handler = (sig: NodeJS.Signals): void => {
    if (got) process.exit(130);
    got = true;
    io.err(`${sig}: cancelling the sweep (queued points leave the queue, running ones stop after their current step); send it again to exit at once`);
    void cancelSweep(dir, readManifest(dir), undefined).then((lines) => lines.forEach((l) => io.out(l)), (e: Error) => io.err(`error: ${e.message}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function sweepStates(dir: string, m: SweepManifest, io: CliIo): Promise<PointState[]> {
  let q = new Map();
  if (m.executor === 'slurm') {
    try {
      q = await executorFor('slurm', '').query(dir, m);
    } catch (e) {
      io.err(`note: ${(e as Error).message}; showing the run folders only`);
    }
  }
  return readSweepState(dir, m, q);
}

/** Submit-to-RUNNING per point: from just before sbatch to the first line the batch script ran. */
export function startDelays(dir: string, m: SweepManifest): (number | null)[] {
  return m.points.map((p) => {
    try {
      const first = fs.readFileSync(path.join(dir, 'slurm', `started-${p.index}`), 'utf8').split('\n')[0].split(' ');
      const t = Number(first[1]);
      return m.submittedAtMs !== undefined && Number.isFinite(t) ? t - m.submittedAtMs / 1000 : null;
    } catch {
      return null;
    }
  });
}

function printStartTimes(dir: string, m: SweepManifest, io: CliIo): void {
  const d = startDelays(dir, m);
  io.out(`submit-to-RUNNING per point (s): ${d.map((x, i) => `${i}: ${formatFigure(x)}`).join(', ')}`);
}

function printStatus(dir: string, m: SweepManifest, states: PointState[], json: boolean, io: CliIo): void {
  if (json) {
    io.out(JSON.stringify({ dir, name: m.name, executor: m.executor, jobId: m.jobId ?? null, points: states.map((s) => ({ ...s, state: displayState(s) })) }, null, 2));
    return;
  }
  io.out(`sweep ${m.name} (${m.executor}${m.jobId ? `, array job ${m.jobId}` : ''}): ${states.filter((s) => s.run === 'completed').length}/${states.length} completed`);
  for (const s of states) io.out(`  ${String(s.index).padStart(3)}  ${s.name.padEnd(36)} ${displayState(s)}${s.scheduler ? `  [${s.scheduler.jobId}]` : ''}${s.error ? `  ${s.error}` : ''}`);
}

function printTable(states: PointState[], json: boolean, io: CliIo): GroupRow[] {
  const rows = aggregateBySeed(seedRows(states));
  if (json) io.out(JSON.stringify(rows, null, 2));
  else for (const l of formatGroupTable(rows)) io.out(l);
  return rows;
}

async function cancelCommand(dir: string, m: SweepManifest, flags: Record<string, string | number | boolean>, io: CliIo): Promise<number> {
  const point = flags.point as number | undefined;
  if (point !== undefined && (point < 0 || point >= m.points.length)) throw new UsageError('--point', `must be 0 to ${m.points.length - 1}`);
  const lines = await cancelSweep(dir, m, point === undefined ? undefined : [point], cliPath(flags.cli ?? process.argv[1]));
  for (const l of lines) io.out(l);
  return 0;
}

/** Cancels through the sweep's executor and records it in the manifest (pending Slurm tasks leave no other trace). */
export async function cancelSweep(dir: string, m: SweepManifest, indices: readonly number[] | undefined, cli = ''): Promise<string[]> {
  const lines = await executorFor(m.executor, cli).cancel(dir, m, indices);
  const now = new Date().toISOString();
  const fresh = readManifest(dir);
  writeManifest(dir, { ...fresh, points: fresh.points.map((p) => (!indices || indices.includes(p.index) ? { ...p, cancelledAt: p.cancelledAt ?? now } : p)) });
  return lines;
}
