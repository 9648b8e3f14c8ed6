// One run folder as the extension sees it, rebuilt from the files the engine writes. Tolerant by
// design: a missing or half-written file is a state to show, never an exception. No vscode
// import: unit tested.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  FINAL_STATES, RUN_FILES, parseStatus, type MetricsRecord, type RunConfigRecord, type RunResults, type RunStatus,
} from '../shared/runFormat';
import type { ForeignInfo } from './foreign/foreignSnapshot';
import { MetricsTail } from './metricsTail';
import { ownerOf } from './runs/processIdentity';
import { RUN_FILE_CAPS, readSmallFile } from './readSmall';

export interface RunSnapshot {
  runDir: string;
  name: string;
  config?: RunConfigRecord;
  status?: RunStatus;
  metrics: MetricsRecord[];
  results?: RunResults;
  robustness?: unknown;
  /** This window's child holds it, or run.lock names a process verified to be the one that took it (never status.json's pid alone). */
  alive: boolean;
  /** Why a lock left in the folder does not count (its process is gone, or the pid is another process now). */
  staleOwner?: string;
  /** Status says running but the process is gone: killed, out of memory, machine rebooted. */
  crashed: boolean;
  /**
   * run.lock names a process on another machine (a Slurm node writing to a shared filesystem):
   * nothing here can check it, so the run is neither alive here nor crashed; its host.
   */
  elsewhere?: string;
  /** Set when status.json exists but cannot be read ("unreadable"). */
  statusProblem?: string;
  /** For sorting: when the run was created or queued (ms since epoch). */
  createdMs: number;
  /** Set for a run another trainer wrote (src/extension/foreign): read-only, nothing to stop, resume or evaluate. */
  foreign?: ForeignInfo;
}

export { isPidAlive } from './runs/processIdentity';

export function isFinal(status: RunStatus | undefined): boolean {
  return !!status && FINAL_STATES.includes(status.state);
}

function signature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return '-';
  }
}

function readJson<T>(file: string, max: number): { value?: T; problem?: string } {
  const text = readSmallFile(file, max);
  if (text === undefined) return {};
  try {
    return { value: JSON.parse(text) as T };
  } catch (e) {
    return { problem: `unreadable (${(e as Error).message})` };
  }
}

/**
 * Follows one run folder. poll() is cheap when nothing changed (a few stats) and reports whether
 * the snapshot changed, including a process dying without touching any file.
 */
export class RunFolderReader {
  private readonly tail: MetricsTail;
  private sigs = new Map<string, string>();
  private snap: RunSnapshot;

  constructor(readonly runDir: string, private readonly liveChild: () => boolean = () => false) {
    this.tail = new MetricsTail(path.join(runDir, RUN_FILES.metrics));
    this.snap = { runDir, name: path.basename(runDir), metrics: this.tail.records, alive: false, crashed: false, createdMs: 0 };
  }

  get snapshot(): RunSnapshot {
    return this.snap;
  }

  poll(): boolean {
    let changed = false;
    const next: RunSnapshot = { ...this.snap };
    const files = { status: RUN_FILES.status, config: RUN_FILES.config, results: RUN_FILES.results, robustness: RUN_FILES.robustness } as const;
    for (const [key, name] of Object.entries(files) as [keyof typeof files, string][]) {
      const file = path.join(this.runDir, name);
      const sig = signature(file);
      if (this.sigs.get(key) === sig) continue;
      this.sigs.set(key, sig);
      changed = true;
      if (key === 'status') {
        const text = readSmallFile(file, RUN_FILE_CAPS.status);
        next.status = text === undefined ? undefined : parseStatus(text);
        next.statusProblem = text !== undefined && !next.status ? 'unreadable' : undefined;
      } else if (key === 'config') {
        next.config = readJson<RunConfigRecord>(file, RUN_FILE_CAPS.config).value;
      } else if (key === 'results') {
        next.results = readJson<RunResults>(file, RUN_FILE_CAPS.results).value;
      } else {
        next.robustness = readJson<unknown>(file, RUN_FILE_CAPS.robustness).value;
      }
    }
    if (this.tail.read() > 0) changed = true;
    next.metrics = this.tail.records;

    const owner = isFinal(next.status) ? undefined : ownerOf(this.runDir);
    const alive = this.liveChild() || owner?.owner === 'verified';
    next.staleOwner = owner?.owner === 'stale' ? `stale lock of process ${owner.lock.pid}: ${owner.why}` : undefined;
    next.elsewhere = owner?.owner === 'other-host' ? owner.lock.host : undefined;
    let crashed = !!next.status && next.status.state === 'running' && !alive && !next.elsewhere;
    if (crashed && !this.snap.crashed) {
      // The engine writes its final status and then exits; re-read once so that ordering is not
      // mistaken for a crash.
      const again = parseStatus(safeRead(path.join(this.runDir, RUN_FILES.status)));
      if (again) {
        next.status = again;
        crashed = again.state === 'running';
      }
    }
    if (alive !== this.snap.alive || crashed !== this.snap.crashed || next.staleOwner !== this.snap.staleOwner || next.elsewhere !== this.snap.elsewhere) changed = true;
    next.alive = alive;
    next.crashed = crashed;
    next.createdMs = Date.parse(next.config?.createdAt ?? next.status?.startedAt ?? next.status?.updatedAt ?? '') || dirTime(this.runDir);
    this.snap = next;
    return changed;
  }
}

function safeRead(file: string): string {
  return readSmallFile(file, RUN_FILE_CAPS.status) ?? '';
}

function dirTime(dir: string): number {
  try {
    return fs.statSync(dir).birthtimeMs || fs.statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}
