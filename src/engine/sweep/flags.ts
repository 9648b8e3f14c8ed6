// The flags that say where a sweep's points run (--executor, --parallel, the Slurm settings), and
// the executor each kind names. Shared by `sweep` and `study` (a study is a sweep of its variants),
// so the two accept the same spellings and refuse the same mistakes; below cli/ because study
// must not import the CLI.

import { UsageError, type FlagSpec, type FlagValues } from '../util/flags';
import type { SweepExecutor } from './executor';
import { LocalExecutor } from './local';
import { SWEEP_EXECUTORS, type SlurmSettings, type SweepExecutorKind } from './manifest';
import { SlurmExecutor } from './slurm/executor';
import { DEFAULT_SLURM, checkSlurmSettings } from './slurm/script';

export const EXECUTOR_FLAG: FlagSpec = { type: 'string', metavar: 'NAME', help: 'local (child processes here, default) | slurm (one sbatch --array)' };
export const PARALLEL_FLAG: FlagSpec = { type: 'int', metavar: 'N', help: 'local: points at once (default 1: a run already uses the cores it can)' };

export const SLURM_FLAGS: Record<string, FlagSpec> = {
  partition: { type: 'string', metavar: 'P', help: 'slurm: --partition' },
  account: { type: 'string', metavar: 'A', help: 'slurm: --account' },
  time: { type: 'string', metavar: 'T', help: 'slurm: --time per run, e.g. 04:00:00' },
  gpus: { type: 'int', metavar: 'N', help: 'slurm: GPUs per run (--gres=gpu:N; default 0)' },
  cpus: { type: 'int', metavar: 'N', help: 'slurm: --cpus-per-task (default 1)' },
  sbatch: { type: 'string', metavar: 'OPTION', help: 'slurm: an extra #SBATCH option, e.g. --qos=high (repeatable)' },
  setup: { type: 'string', metavar: 'LINE', help: 'slurm: a shell line run on the node first, e.g. "module load nodejs" (repeatable)' },
  prefix: { type: 'string', metavar: 'CMD', help: 'slurm: put in front of the node command, e.g. "apptainer exec img.sif"' },
  node: { type: 'string', metavar: 'PATH', help: 'slurm: the node binary on the compute nodes (default: this one\'s path)' },
  'signal-seconds': { type: 'int', metavar: 'S', help: 'slurm: checkpoint and requeue this long before the time limit (default 120)' },
  'max-parallel': { type: 'int', metavar: 'N', help: 'slurm: at most N array tasks at once (default no limit)' },
};

/** Slurm flags that may be given more than once (each adds a line). */
export const REPEATABLE_SLURM_FLAGS = ['sbatch', 'setup'] as const;

/**
 * Pulls the repeatable flags out of argv (parseFlags keeps only the last of a flag), so the rest
 * can go through parseFlags; `names` lists which flags repeat, each gets a list (maybe empty).
 */
export function splitRepeatable(argv: readonly string[], names: readonly string[], spec: Record<string, FlagSpec>): { rest: string[]; multi: Record<string, string[]> } {
  const rest: string[] = [];
  const multi: Record<string, string[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const k = names.find((r) => a === `--${r}` || a.startsWith(`--${r}=`));
    if (!k) {
      rest.push(a);
      continue;
    }
    const v = a.includes('=') && a.startsWith(`--${k}=`) ? a.slice(k.length + 3) : argv[++i];
    if (v === undefined || v === '') throw new UsageError(`--${k}`, `needs a value; e.g. ${spec[k]?.help ?? k}`);
    multi[k].push(v);
  }
  return { rest, multi };
}

/**
 * The executor kind the flags ask for, after refusing a Slurm setting without --executor slurm and
 * --parallel with it; the Slurm settings (checked) when the kind is slurm.
 */
export function executorSettings(flags: FlagValues, multi: Record<string, string[]>): { kind: SweepExecutorKind; parallel?: number; slurm?: SlurmSettings } {
  const kind = String(flags.executor ?? 'local') as SweepExecutorKind;
  if (!SWEEP_EXECUTORS.includes(kind)) throw new UsageError('--executor', `must be ${SWEEP_EXECUTORS.join(' or ')}, got ${JSON.stringify(flags.executor)}`);
  const sbatch = multi.sbatch ?? [];
  const setup = multi.setup ?? [];
  if (kind === 'local') {
    for (const k of Object.keys(SLURM_FLAGS)) {
      if (flags[k] !== undefined) throw new UsageError(`--${k}`, 'is a Slurm setting; add --executor slurm');
    }
    if (sbatch.length || setup.length) throw new UsageError(sbatch.length ? '--sbatch' : '--setup', 'is a Slurm setting; add --executor slurm');
  } else if (flags.parallel !== undefined) throw new UsageError('--parallel', 'is for --executor local; on Slurm use --max-parallel');
  if (flags.parallel !== undefined && (Number(flags.parallel) < 1 || Number(flags.parallel) > 256)) throw new UsageError('--parallel', 'must be 1 to 256');
  return {
    kind,
    ...(flags.parallel !== undefined ? { parallel: Number(flags.parallel) } : {}),
    ...(kind === 'slurm' ? { slurm: slurmSettings(flags, sbatch, setup) } : {}),
  };
}

function slurmSettings(flags: FlagValues, sbatch: string[], setup: string[]): SlurmSettings {
  const s: SlurmSettings = {
    ...DEFAULT_SLURM,
    node: flags.node !== undefined ? String(flags.node) : process.execPath,
    extra: sbatch,
    setup,
    ...(flags.partition !== undefined ? { partition: String(flags.partition) } : {}),
    ...(flags.account !== undefined ? { account: String(flags.account) } : {}),
    ...(flags.time !== undefined ? { time: String(flags.time) } : {}),
    ...(flags.prefix !== undefined ? { prefix: String(flags.prefix) } : {}),
    ...(flags.gpus !== undefined ? { gpus: Number(flags.gpus) } : {}),
    ...(flags.cpus !== undefined ? { cpus: Number(flags.cpus) } : {}),
    ...(flags['signal-seconds'] !== undefined ? { signalSeconds: Number(flags['signal-seconds']) } : {}),
    ...(flags['max-parallel'] !== undefined ? { maxParallel: Number(flags['max-parallel']) } : {}),
  };
  checkSlurmSettings(s);
  return s;
}

export function executorFor(kind: SweepExecutorKind, cli: string): SweepExecutor {
  switch (kind) {
    case 'local':
      return new LocalExecutor(cli);
    case 'slurm':
      return new SlurmExecutor(cli);
  }
}
