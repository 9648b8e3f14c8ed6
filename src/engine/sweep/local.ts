// The local executor: each point is a child process of this CLI (`node cli.js train …`), `parallel`
// at a time (default 1: a run already uses every core it can). A child process, not an in-process
// train, for the reasons study gives: a run owns its backend and worker threads, and one that
// crashes must not take the sweep down. Cancel writes stop.request into the running points' folders
// (the engine's own graceful stop) and cancel.request into the sweep folder so no new point starts.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '../../shared/runFormat';
import type { SweepExecutor, SweepLog } from './executor';
import { SWEEP_CANCEL_REQUEST, pointConfigFile, pointMarker, pointRunDir, type SweepManifest, type SweepPointRecord } from './manifest';
import { readPointState, type SchedulerInfo } from './state';

export class LocalExecutor implements SweepExecutor {
  readonly kind = 'local' as const;
  constructor(private readonly cli: string, private readonly nodeBin: string = process.execPath) {}

  async submit(dir: string, m: SweepManifest, save: (m: SweepManifest) => void, log: SweepLog): Promise<void> {
    const parallel = Math.max(1, m.parallel ?? 1);
    save({ ...m, submittedAt: new Date().toISOString(), submittedAtMs: Date.now() });
    let next = 0;
    const cancelled = (): boolean => fs.existsSync(path.join(dir, SWEEP_CANCEL_REQUEST));
    const worker = async (): Promise<void> => {
      while (next < m.points.length) {
        const p = m.points[next++];
        if (cancelled()) {
          log(`point ${p.index} ${p.name}: not started (sweep cancelled)`);
          continue;
        }
        const runDir = pointRunDir(dir, p);
        const t0 = Date.now();
        log(`point ${p.index} ${p.name}: started`);
        const { code, lastError } = p.command !== undefined ? await this.command(dir, p) : await this.train(['--config', pointConfigFile(dir, p), '--run-dir', runDir]);
        if (p.command === undefined) {
          fs.mkdirSync(path.join(dir, 'points'), { recursive: true });
          fs.writeFileSync(pointMarker(dir, p.index, 'exit'), `${code ?? 'killed'}\n`);
        }
        const s = readPointState(dir, p);
        const acc = s.accuracy !== undefined ? `, test accuracy ${(100 * s.accuracy).toFixed(2)}%` : '';
        log(`point ${p.index} ${p.name}: ${s.run} (exit ${code}) in ${((Date.now() - t0) / 1000).toFixed(1)} s${acc}${code !== 0 && lastError ? `: ${lastError}` : ''}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, m.points.length) }, worker));
  }

  private train(args: string[]): Promise<{ code: number | null; lastError?: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.nodeBin, [this.cli, 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-4000);
      });
      child.on('error', (e) => resolve({ code: null, lastError: e.message }));
      child.on('close', (code) => resolve({ code, lastError: err.trim().split('\n').filter((l) => l.startsWith('error:')).pop() }));
    });
  }

  /**
   * A command point: its script (configs/<point>.command.sh) under sh, its exit code recorded in
   * points/. Someone else's code has no stop.request: a cancel (the sweep's or this point's,
   * polled each second) ends it with SIGTERM, sent to the child this process holds, never to a
   * pid read from a file.
   */
  private command(dir: string, p: SweepPointRecord): Promise<{ code: number | null; lastError?: string }> {
    fs.mkdirSync(pointRunDir(dir, p), { recursive: true });
    fs.mkdirSync(path.join(dir, 'points'), { recursive: true });
    fs.writeFileSync(pointMarker(dir, p.index, 'started'), new Date().toISOString() + '\n');
    return new Promise((resolve) => {
      const child = spawn('sh', [pointConfigFile(dir, p)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-4000);
      });
      const poll = setInterval(() => {
        if (fs.existsSync(path.join(dir, SWEEP_CANCEL_REQUEST)) || fs.existsSync(pointMarker(dir, p.index, 'cancel'))) child.kill('SIGTERM');
      }, 1000);
      const done = (code: number | null, lastError?: string): void => {
        clearInterval(poll);
        fs.writeFileSync(pointMarker(dir, p.index, 'exit'), `${code ?? 'killed'}\n`);
        resolve({ code, lastError });
      };
      child.on('error', (e) => done(null, e.message));
      child.on('close', (code, signal) => done(code ?? (signal ? 128 + (signal === 'SIGTERM' ? 15 : 9) : null), err.trim().split('\n').pop()));
    });
  }

  async query(): Promise<Map<number, SchedulerInfo>> {
    return new Map();
  }

  async cancel(dir: string, m: SweepManifest, indices?: readonly number[]): Promise<string[]> {
    const out: string[] = [];
    if (!indices) {
      fs.writeFileSync(path.join(dir, SWEEP_CANCEL_REQUEST), new Date().toISOString() + '\n');
      out.push('no further point will start');
    }
    for (const p of m.points) {
      if (indices && !indices.includes(p.index)) continue;
      const s = readPointState(dir, p);
      if (s.run !== 'running') continue;
      if (p.command !== undefined) fs.writeFileSync(pointMarker(dir, p.index, 'cancel'), '');
      else fs.writeFileSync(path.join(pointRunDir(dir, p), RUN_FILES.stopRequest), '');
      out.push(`point ${p.index} ${p.name}: stop requested`);
    }
    return out;
  }
}
