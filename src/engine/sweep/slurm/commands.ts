// The Slurm client commands a sweep uses (sbatch, squeue, scancel), run without a shell, and the
// parsing of what they print. A machine without them gets one clear error, not a stack trace.

import { execFile } from 'node:child_process';
import type { SchedulerInfo } from '../state';
import { SweepError } from '../manifest';

export interface SlurmRunner {
  (cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export const runSlurm: SlurmRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && e.code === 'ENOENT') {
        reject(new SweepError('slurm', `${cmd} is not installed on this machine (or not on PATH): run the sweep where Slurm's client commands are, e.g. the cluster's login node`));
        return;
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

async function must(run: SlurmRunner, cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new SweepError('slurm', `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n')[0] || 'no message'}`);
  return r.stdout;
}

/** sbatch --parsable prints `<job id>` or `<job id>;<cluster>`. */
export async function sbatch(run: SlurmRunner, args: readonly string[]): Promise<string> {
  const out = (await must(run, 'sbatch', ['--parsable', ...args])).trim();
  const id = out.split(';')[0];
  if (!/^\d+$/.test(id)) throw new SweepError('slurm', `sbatch printed no job id (got ${JSON.stringify(out.slice(0, 80))})`);
  return id;
}

export const SQUEUE_FORMAT = '%i|%T|%r|%N';

/**
 * Parses `squeue -h -r -t all -o '%i|%T|%r|%N'`: one line per array task, `<array id>_<task>`.
 * Tasks still pending together may print as `12_[2-3]` even with -r on some versions; those are
 * expanded. Returns task index → info.
 */
export function parseSqueue(text: string, arrayId: string): Map<number, SchedulerInfo> {
  const out = new Map<number, SchedulerInfo>();
  for (const line of text.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (!id || !state) continue;
    const m = /^(\d+)_(\d+|\[[^\]]*\])$/.exec(id);
    if (!m || m[1] !== arrayId) continue;
    const info = (task: number): SchedulerInfo => ({
      jobId: `${arrayId}_${task}`, state, ...(reason && reason !== '(null)' ? { reason } : {}), ...(node && node !== '(null)' ? { node } : {}),
    });
    if (!m[2].startsWith('[')) {
      out.set(Number(m[2]), info(Number(m[2])));
      continue;
    }
    for (const part of m[2].slice(1, -1).split('%')[0].split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let t = a; t <= (Number.isFinite(b) ? b : a); t++) out.set(t, info(t));
    }
  }
  return out;
}

export async function squeueArray(run: SlurmRunner, arrayId: string): Promise<Map<number, SchedulerInfo>> {
  const args = ['-h', '-r', '-t', 'all', '-j', arrayId, '-o', SQUEUE_FORMAT];
  const r = await run('squeue', args);
  // A job that left the controller's memory (MinJobAge) is "invalid": the run folders say the rest.
  if (r.code !== 0 && /Invalid job id/i.test(r.stderr)) return new Map();
  if (r.code !== 0) throw new SweepError('slurm', `squeue ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n')[0] || 'no message'}`);
  return parseSqueue(r.stdout, arrayId);
}

export async function scancel(run: SlurmRunner, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await must(run, 'scancel', [...ids]);
}
