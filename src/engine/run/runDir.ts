import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../../shared/config';
import { shellQuote } from '../../shared/shellQuote';
import {
  RUN_FILES, type MetricsRecord, type RunConfigRecord, type RunResults, type RunState, type RunStatus,
} from '../../shared/runFormat';
import { appendAll, runFs, writeFileAtomic } from './atomic';
import { FileWriteError, diskFullCode, errnoText } from './writeError';
import { folderStamp } from '../../shared/folderStamp';

// The run folder is the engine's only output channel. Everything here writes strictly inside
// `dir`; names that come from users (config `name`) are validated by resolveConfig to a safe
// character set before they get here.

/** `<method>-<yyyyMMdd-HHmmss>` in local time, or the config's `name`. */
export function defaultRunName(config: Pick<RunConfig, 'method' | 'name'>, now: Date = new Date()): string {
  if (config.name) return config.name;
  return `${config.method}-${folderStamp(now)}`;
}

/**
 * Picks the folder for a new run. A `--run-dir` is used as is (it must not already hold a run);
 * otherwise `<runsDir>/<name>`, with `-2`, `-3`, … appended when two runs start in the same second.
 */
export function chooseRunDir(opts: { runDir?: string; runsDir: string; name: string }): string {
  if (opts.runDir) return path.resolve(opts.runDir);
  const base = path.resolve(opts.runsDir, opts.name);
  let dir = base;
  for (let i = 2; fs.existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

export class RunDirError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'RunDirError';
  }
}

/** The deepest part of `dir` that exists, with symlinks resolved (`dir` itself may not exist yet). */
function realAncestor(dir: string): string {
  let d = path.resolve(dir);
  for (;;) {
    try {
      return path.join(fs.realpathSync(d), path.relative(d, path.resolve(dir)));
    } catch {
      const up = path.dirname(d);
      if (up === d) return path.resolve(dir);
      d = up;
    }
  }
}

// Kernel file systems: node's recursive mkdir spins forever under /proc (it never gets an error
// it gives up on), and nothing written under /sys or /dev is a file anyone can read back.
// /dev/shm is an ordinary tmpfs, so it stays usable.
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function virtualRoot(dir: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const real = realAncestor(dir);
  const under = (root: string): boolean => real === root || real.startsWith(root + '/');
  if (under('/dev/shm')) return undefined;
  return VIRTUAL_ROOTS.find(under);
}

/**
 * Refuses a folder that already holds a run (a config.json), so one run never overwrites another,
 * and one on a kernel file system. `field` is the flag the folder came from.
 */
export function checkNewRunDir(dir: string, field = '--run-dir'): void {
  const root = virtualRoot(dir);
  if (root) throw new RunDirError(field, `${dir} is on the kernel file system ${root}, where a run cannot be written; choose a writable folder`);
  if (fs.existsSync(path.join(dir, RUN_FILES.config))) {
    throw new RunDirError(field, `${dir} already holds a run; pick another folder, or continue it with --resume ${shellQuote(dir)} (or, when it has no checkpoint yet, train it again from step 0 with --restart ${shellQuote(dir)})`);
  }
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new RunDirError(field, `${dir} exists and is not a folder`);
  }
}

/** True for a missing or empty file too: there is nothing to glue onto. */
function endsWithNewline(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return true;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}

export class RunWriter {
  private metricsFd: number | undefined;
  private logFd: number | undefined;
  private status: RunStatus;

  private constructor(readonly dir: string, status: RunStatus) {
    this.status = status;
  }

  /**
   * Creates the folder and writes config.json and a `running` status. A folder that cannot be made
   * or written throws a RunDirError naming it (`field` is the flag it came from), and whatever this
   * call created is removed again, so a failed start leaves nothing half-written.
   */
  static create(dir: string, record: RunConfigRecord, field = '--run-dir'): RunWriter {
    checkNewRunDir(dir, field);
    let created: string | undefined;
    try {
      created = fs.mkdirSync(dir, { recursive: true });
      return RunWriter.start(dir, record);
    } catch (e) {
      if (created) fs.rmSync(created, { recursive: true, force: true });
      const fix = diskFullCode(e) === 'EROFS' ? 'choose a folder on a writable disk'
        : diskFullCode(e) ? 'free space on that disk, or choose a folder on another disk' : 'choose a writable folder';
      throw new RunDirError(field, `cannot create ${dir} (${errnoText(e)}); ${fix}`);
    }
  }

  private static start(dir: string, record: RunConfigRecord): RunWriter {
    const now = new Date().toISOString();
    const w = new RunWriter(dir, {
      schema: 1,
      state: 'running',
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      progress: { epoch: 0, epochs: record.schedule.epochs, step: 0, totalSteps: record.schedule.totalSteps },
      backend: record.backend.name,
    });
    const keys = ['config', 'status', 'metrics', 'log'] as const;
    const existed = keys.filter((k) => fs.existsSync(w.file(k)));
    try {
      writeFileAtomic(w.file('config'), JSON.stringify(record, null, 2) + '\n');
      w.open();
      w.writeStatus();
    } catch (e) {
      w.close();
      // A folder the user made would otherwise look like a (broken) run and refuse the next attempt.
      for (const k of keys) if (!existed.includes(k)) fs.rmSync(w.file(k), { force: true });
      throw e;
    }
    return w;
  }

  /** Re-opens an existing run for `--resume`: metrics and the log are appended to. */
  static reopen(dir: string, record: RunConfigRecord, prev: RunStatus | undefined): RunWriter {
    const now = new Date().toISOString();
    const w = new RunWriter(dir, {
      schema: 1,
      state: 'running',
      pid: process.pid,
      startedAt: prev?.startedAt ?? now,
      updatedAt: now,
      progress: prev?.progress ?? { epoch: 0, epochs: record.schedule.epochs, step: 0, totalSteps: record.schedule.totalSteps },
      backend: record.backend.name,
      ...(prev?.leak ? { leak: prev.leak } : {}),
      ...(prev?.lastCheckpoint ? { lastCheckpoint: prev.lastCheckpoint } : {}),
    });
    writeFileAtomic(w.file('config'), JSON.stringify(record, null, 2) + '\n');
    try {
      w.open();
      // A writer killed mid-line leaves a torn last line; the first record appended here would be
      // glued onto it and lost with it (parseMetricsLines drops the whole line).
      if (!endsWithNewline(w.file('metrics'))) appendAll(w.metricsFd!, w.file('metrics'), '\n');
      w.writeStatus();
    } catch (e) {
      w.close();
      throw e;
    }
    return w;
  }

  file(key: keyof typeof RUN_FILES): string {
    return path.join(this.dir, RUN_FILES[key]);
  }

  private open(): void {
    this.metricsFd = open(this.file('metrics'));
    this.logFd = open(this.file('log'));
  }

  get currentStatus(): RunStatus {
    return this.status;
  }

  updateStatus(patch: Partial<RunStatus>): void {
    this.status = { ...this.status, ...patch, updatedAt: new Date().toISOString() };
    this.writeStatus();
  }

  private writeStatus(): void {
    // No fsync per progress update: status is rewritten every log interval and a lost update is
    // harmless; the final states below are fsync'd.
    const final = this.status.state !== 'running' && this.status.state !== 'queued';
    writeFileAtomic(this.file('status'), JSON.stringify(this.status, null, 2) + '\n', { fsync: final });
  }

  finish(state: RunState, extra: Partial<RunStatus> = {}): void {
    this.updateStatus({ ...extra, state, pid: null, endedAt: new Date().toISOString() });
  }

  /**
   * Appends one record. One write() per line keeps lines whole for readers polling the file; a
   * write that fails part way (disk full) is cut back, so the file still ends after a whole
   * line, and a FileWriteError naming metrics.jsonl is thrown.
   */
  appendMetrics(record: MetricsRecord, sync = false): void {
    if (this.metricsFd === undefined) throw new Error('run folder is closed');
    appendAll(this.metricsFd, this.file('metrics'), JSON.stringify(record) + '\n');
    if (sync) this.syncMetrics();
  }

  syncMetrics(): void {
    if (this.metricsFd === undefined) return;
    try {
      runFs.fsyncSync(this.metricsFd);
    } catch (e) {
      throw new FileWriteError(this.file('metrics'), e);
    }
  }

  /**
   * engine.log is a copy of what went to stdout; a line that cannot be written (disk full) is
   * dropped rather than failing the run, because the log is also where failures are reported.
   * The records that matter (metrics, status, checkpoints) fail the run on the same disk.
   */
  log(line: string): void {
    if (this.logFd === undefined) return;
    try {
      appendAll(this.logFd, this.file('log'), `${new Date().toISOString()} ${line}\n`);
    } catch {
      /* see above */
    }
  }

  writeResults(results: RunResults): void {
    writeFileAtomic(this.file('results'), JSON.stringify(results, null, 2) + '\n');
  }

  /** Flushes and closes; never throws (it also runs on the way out of a failed run). */
  close(): void {
    if (this.metricsFd !== undefined) {
      try {
        runFs.fsyncSync(this.metricsFd);
      } catch {
        /* already gone, or the disk refuses: what was written stays */
      }
      closeQuietly(this.metricsFd);
      this.metricsFd = undefined;
    }
    if (this.logFd !== undefined) {
      closeQuietly(this.logFd);
      this.logFd = undefined;
    }
  }
}

function open(file: string): number {
  try {
    return runFs.openSync(file, 'a');
  } catch (e) {
    throw new FileWriteError(file, e);
  }
}

function closeQuietly(fd: number): void {
  try {
    runFs.closeSync(fd);
  } catch {
    /* the fd is released either way */
  }
}
