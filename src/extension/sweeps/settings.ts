// fastAdvprop.sweep.* and fastAdvprop.slurm.*: how Start Sweep runs the points, as `sweep` flags.
import * as vscode from 'vscode';

export interface SweepSettings {
  executor: 'local' | 'slurm';
  parallel: number;
  slurm: {
    partition: string;
    account: string;
    time: string;
    gpusPerRun: number;
    cpusPerRun: number;
    extraSbatch: string[];
    setup: string[];
    commandPrefix: string;
    node: string;
    signalSeconds: number;
  };
}

export function readSweepSettings(): SweepSettings {
  const c = vscode.workspace.getConfiguration('fastAdvprop');
  const int = (k: string, d: number, min: number): number => Math.max(min, Math.floor(Number(c.get<number>(k, d)) || d));
  const list = (k: string): string[] => (c.get<unknown[]>(k, []) ?? []).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return {
    executor: c.get<string>('sweep.executor', 'local') === 'slurm' ? 'slurm' : 'local',
    parallel: int('sweep.parallel', 1, 1),
    slurm: {
      partition: c.get<string>('slurm.partition', '').trim(),
      account: c.get<string>('slurm.account', '').trim(),
      time: c.get<string>('slurm.time', '').trim(),
      gpusPerRun: Math.max(0, Math.floor(Number(c.get<number>('slurm.gpusPerRun', 0)) || 0)),
      cpusPerRun: int('slurm.cpusPerRun', 1, 1),
      extraSbatch: list('slurm.extraSbatch'),
      setup: list('slurm.setup'),
      commandPrefix: c.get<string>('slurm.commandPrefix', '').trim(),
      node: c.get<string>('slurm.node', 'node').trim() || 'node',
      signalSeconds: int('slurm.signalSeconds', 120, 1),
    },
  };
}

/** The `fast-advprop sweep` flags these settings stand for. */
export function executorFlags(s: SweepSettings): string[] {
  if (s.executor === 'local') return ['--executor', 'local', '--parallel', String(s.parallel)];
  const k = s.slurm;
  const out = ['--executor', 'slurm', '--gpus', String(k.gpusPerRun), '--cpus', String(k.cpusPerRun), '--node', k.node, '--signal-seconds', String(k.signalSeconds)];
  if (k.partition) out.push('--partition', k.partition);
  if (k.account) out.push('--account', k.account);
  if (k.time) out.push('--time', k.time);
  if (k.commandPrefix) out.push('--prefix', k.commandPrefix);
  for (const l of k.extraSbatch) out.push(`--sbatch=${l}`);
  for (const l of k.setup) out.push(`--setup=${l}`);
  return out;
}
