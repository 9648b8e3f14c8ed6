// The Slurm executor: one `sbatch --array=0-(n-1)` per sweep running the generated batch script
// (script.ts), squeue for what only the scheduler knows, scancel to stop. The sweep folder must be
// on a filesystem the compute nodes share with the submitting machine. A manifest with `evaluate`
// (a study) has each task evaluate its run after training, in the same job.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SweepExecutor, SweepLog } from '../executor';
import { evaluateArgs, pointConfigFile, pointRunDir, type SweepManifest } from '../manifest';
import type { SchedulerInfo } from '../state';
import { runSlurm, sbatch, scancel, squeueArray, type SlurmRunner } from './commands';
import { DEFAULT_SLURM, batchScript } from './script';

export const BATCH_SCRIPT = 'slurm/sweep.sbatch';

export class SlurmExecutor implements SweepExecutor {
  readonly kind = 'slurm' as const;
  constructor(private readonly cli: string, private readonly run: SlurmRunner = runSlurm) {}

  async submit(dir: string, m: SweepManifest, save: (m: SweepManifest) => void, log: SweepLog): Promise<void> {
    const settings = m.slurm ?? DEFAULT_SLURM;
    const abs = path.resolve(dir);
    fs.mkdirSync(path.join(abs, 'slurm'), { recursive: true });
    const script = batchScript({
      name: m.name, sweepDir: abs, cli: path.resolve(this.cli), settings, ...(m.command !== undefined ? { command: true } : {}),
      ...(m.evaluate ? { evaluate: evaluateArgs(m.evaluate) } : {}),
      points: m.points.map((p) => ({ runDir: pointRunDir(abs, p), config: pointConfigFile(abs, p) })),
    });
    const file = path.join(abs, BATCH_SCRIPT);
    fs.writeFileSync(file, script, { mode: 0o755 });
    const array = `0-${m.points.length - 1}${settings.maxParallel > 0 ? `%${settings.maxParallel}` : ''}`;
    const submittedAtMs = Date.now();
    const id = await sbatch(this.run, [`--array=${array}`, `--output=${path.join(abs, 'slurm', '%A_%a.out')}`, `--chdir=${abs}`, file]);
    save({
      ...m, jobId: id, submittedAt: new Date(submittedAtMs).toISOString(), submittedAtMs,
      points: m.points.map((p) => ({ ...p, jobId: `${id}_${p.index}` })),
    });
    log(`submitted array job ${id} (${m.points.length} tasks${settings.maxParallel > 0 ? `, ${settings.maxParallel} at a time` : ''}); script ${file}`);
  }

  async query(_dir: string, m: SweepManifest): Promise<Map<number, SchedulerInfo>> {
    if (!m.jobId) return new Map();
    return squeueArray(this.run, m.jobId);
  }

  async cancel(_dir: string, m: SweepManifest, indices?: readonly number[]): Promise<string[]> {
    if (!m.jobId) return ['not submitted: nothing to cancel'];
    const ids = indices ? m.points.filter((p) => indices.includes(p.index)).map((p) => p.jobId ?? `${m.jobId}_${p.index}`) : [m.jobId];
    await scancel(this.run, ids);
    return [`scancel ${ids.join(' ')}`];
  }
}
