// The local executor: each point is a run in the run queue (src/engine/run/queue.ts), the same
// queue VS Code's job manager drains. Submit writes every point's run folder as `queued` and then
// drains them itself, `parallel` at a time (default 1: a run already uses every core it can), each
// as a child process of this CLI (`node cli.js train …`): a run owns its backend and worker
// threads, and one that crashes must not take the sweep down. A point another process claimed
// first (the extension, under fastAdvprop.maxConcurrentRuns) is not started twice: the sweep waits
// for its run folder to settle. `enqueue` alone is what Start Sweep uses: the extension starts the
// points. Cancel takes unstarted points out of the queue (stopped, never started), writes
// stop.request into the running ones (the engine's own graceful stop) and cancel.request into the
// sweep folder so no new point starts. Command points (someone else's code) are not engine runs
// and stay child processes of the sweep.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, RUN_LOCK_FILE } from '../../shared/runFormat';
import { parseRunLock } from '../run/processProbe';
import { judgeLock } from '../run/lock';
import { claimQueued, failUnfinished, isFinal, readQueueRecord, readRunStatus, unqueue, writeQueued } from '../run/queue';
import { READ_LIMITS, readBoundedText } from '../util/boundedRead';
import type { SweepExecutor, SweepLog } from './executor';
import { SWEEP_CANCEL_REQUEST, pointConfigFile, pointMarker, pointRunDir, type SweepManifest, type SweepPointRecord } from './manifest';
import { readPointState, type SchedulerInfo } from './state';

/** How long a point may stay claimed by another process without that process starting it. */
const CLAIM_GRACE_MS = 120_000;

/** How often a point another process runs is looked at. */
const POLL_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether the engine a `running` run folder names is gone (its run.lock is stale); false when it cannot tell. */
function engineGone(runDir: string): boolean {
  let text: string | undefined;
  try {
    text = readBoundedText(path.join(runDir, RUN_LOCK_FILE), 64 * 1024);
  } catch {
    return false;
  }
  const lock = parseRunLock(text);
  return lock !== undefined && judgeLock(lock).owner === 'stale';
}

export class LocalExecutor implements SweepExecutor {
  readonly kind = 'local' as const;
  constructor(private readonly cli: string, private readonly nodeBin: string = process.execPath) {}

  /**
   * Writes every engine point's run folder as queued (queue.json holding the point's config) and
   * records the submission; starts nothing. A point whose folder already holds a run is left as it is.
   */
  enqueue(dir: string, m: SweepManifest, save: (m: SweepManifest) => void): SweepManifest {
    const next: SweepManifest = { ...m, submittedAt: new Date().toISOString(), submittedAtMs: Date.now() };
    save(next);
    for (const p of m.points) {
      if (p.command !== undefined) continue;
      const runDir = pointRunDir(dir, p);
      if (readRunStatus(runDir)) continue;
      const config = JSON.parse(readBoundedText(pointConfigFile(dir, p), READ_LIMITS.config, 'a point config'));
      writeQueued(runDir, { schema: 1, kind: 'train', queuedAt: new Date().toISOString(), config, source: `sweep ${m.name}, point ${p.index} (${p.config})` });
    }
    return next;
  }

  async submit(dir: string, m: SweepManifest, save: (m: SweepManifest) => void, log: SweepLog): Promise<void> {
    const parallel = Math.max(1, m.parallel ?? 1);
    this.enqueue(dir, m, save);
    let next = 0;
    const elsewhere: SweepPointRecord[] = [];
    const cancelled = (): boolean => fs.existsSync(path.join(dir, SWEEP_CANCEL_REQUEST));
    const worker = async (): Promise<void> => {
      while (next < m.points.length) {
        const p = m.points[next++];
        if (cancelled()) {
          if (p.command === undefined) unqueue(pointRunDir(dir, p), 'the sweep was cancelled before this point started');
          log(`point ${p.index} ${p.name}: not started (sweep cancelled)`);
          continue;
        }
        if (p.command !== undefined) {
          await this.runPoint(dir, p, log, () => this.command(dir, p));
          continue;
        }
        if (!(await this.claimAndRun(dir, p, log))) {
          const st = readRunStatus(pointRunDir(dir, p));
          if (isFinal(st)) log(`point ${p.index} ${p.name}: ${st!.state}, not started here${st!.error ? ` (${st!.error.message})` : ''}`);
          else {
            log(`point ${p.index} ${p.name}: taken from the queue by another process (VS Code?); waiting for it to end`);
            elsewhere.push(p);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, m.points.length) }, worker));
    for (const p of elsewhere) await this.settle(dir, p, log);
  }

  /** Claims the point's queue record and trains it here; false when there was no record to claim. */
  private async claimAndRun(dir: string, p: SweepPointRecord, log: SweepLog): Promise<boolean> {
    const runDir = pointRunDir(dir, p);
    const rec = claimQueued(runDir);
    if (!rec) return false;
    // Resume when someone re-queued a stopped point (Resume in VS Code); else the point's own config file.
    const args = rec.kind === 'resume' ? ['--resume', runDir] : ['--config', pointConfigFile(dir, p), '--run-dir', runDir];
    await this.runPoint(dir, p, log, async () => {
      const r = await this.train(args);
      // A stop.request the engine did not read (it stopped on a signal first) would end the next --resume at once.
      fs.rmSync(path.join(runDir, RUN_FILES.stopRequest), { force: true });
      failUnfinished(runDir, `train exited ${r.code ?? '(killed)'} without writing a final status${r.lastError ? `: ${r.lastError.replace(/^error: /, '')}` : ''}`);
      fs.mkdirSync(path.join(dir, 'points'), { recursive: true });
      fs.writeFileSync(pointMarker(dir, p.index, 'exit'), `${r.code ?? 'killed'}\n`);
      return r;
    });
    return true;
  }

  private async runPoint(dir: string, p: SweepPointRecord, log: SweepLog, run: () => Promise<{ code: number | null; lastError?: string }>): Promise<void> {
    const t0 = Date.now();
    log(`point ${p.index} ${p.name}: started`);
    const { code, lastError } = await run();
    const s = readPointState(dir, p);
    const acc = s.accuracy !== undefined ? `, test accuracy ${(100 * s.accuracy).toFixed(2)}%` : '';
    log(`point ${p.index} ${p.name}: ${s.run} (exit ${code}) in ${((Date.now() - t0) / 1000).toFixed(1)} s${acc}${code !== 0 && lastError ? `: ${lastError}` : ''}`);
  }

  /**
   * Waits for a point another process took to end: its status final, or its engine gone. Put back
   * in the queue meanwhile (Stop, then Resume), it is taken here when nobody else is quicker. One
   * claimed and never started (that process died first) is given up after CLAIM_GRACE_MS.
   */
  private async settle(dir: string, p: SweepPointRecord, log: SweepLog): Promise<void> {
    const runDir = pointRunDir(dir, p);
    let claimedSince: number | undefined;
    for (;;) {
      const st = readRunStatus(runDir);
      if (isFinal(st)) break;
      if (st?.state === 'running' && engineGone(runDir)) {
        log(`point ${p.index} ${p.name}: its engine is gone without a final status (crashed)`);
        return;
      }
      if (st?.state === 'queued' && readQueueRecord(runDir) && !fs.existsSync(path.join(dir, SWEEP_CANCEL_REQUEST))) {
        if (await this.claimAndRun(dir, p, log)) return;
      }
      if (st?.state === 'queued' && !readQueueRecord(runDir)) {
        claimedSince ??= Date.now();
        if (Date.now() - claimedSince > CLAIM_GRACE_MS) {
          log(`point ${p.index} ${p.name}: taken from the queue ${CLAIM_GRACE_MS / 1000} s ago and never started; giving up on it`);
          return;
        }
      } else claimedSince = undefined;
      await sleep(POLL_MS);
    }
    const s = readPointState(dir, p);
    const acc = s.accuracy !== undefined ? `, test accuracy ${(100 * s.accuracy).toFixed(2)}%` : '';
    log(`point ${p.index} ${p.name}: ${s.run} (run by another process)${acc}`);
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
      if (p.command !== undefined) {
        if (readPointState(dir, p).run === 'running') {
          fs.writeFileSync(pointMarker(dir, p.index, 'cancel'), '');
          out.push(`point ${p.index} ${p.name}: stop requested`);
        }
        continue;
      }
      const runDir = pointRunDir(dir, p);
      if (unqueue(runDir, 'cancelled before it started')) {
        out.push(`point ${p.index} ${p.name}: removed from the queue`);
        continue;
      }
      // Running, or claimed a moment ago and about to run: the engine stops at its next step.
      const state = readRunStatus(runDir)?.state;
      if (state !== 'running' && state !== 'queued') continue;
      fs.writeFileSync(path.join(runDir, RUN_FILES.stopRequest), '');
      out.push(`point ${p.index} ${p.name}: stop requested`);
    }
    return out;
  }
}
