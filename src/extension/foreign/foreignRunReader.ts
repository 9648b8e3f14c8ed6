// The Runs model's reader for a folder another trainer wrote: same poll()/snapshot shape as our
// RunFolderReader, backed by ForeignRunFollower (event files followed by their new bytes only).
// Also where the model learns which folders are foreign and which extra folders to list. Reads
// only: nothing here opens a file for writing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectForeignRun } from '../../shared/foreign/detect';
import type { RunSnapshot } from '../runSnapshot';
import { ForeignRunFollower } from './foreignRunFolder';
import { foreignSnapshot } from './foreignSnapshot';

export class ForeignRunReader {
  private readonly follower: ForeignRunFollower;
  private snap: RunSnapshot;
  private signature = '';
  private problem: string | undefined;

  constructor(readonly runDir: string) {
    this.follower = new ForeignRunFollower(runDir);
    this.snap = { runDir, name: path.basename(runDir), metrics: [], alive: false, crashed: false, createdMs: dirTime(runDir) };
  }

  get snapshot(): RunSnapshot {
    return this.snap;
  }

  /** Whether the snapshot changed; an unchanged folder keeps its snapshot (and metrics array) as it was. */
  poll(): boolean {
    let run;
    try {
      run = this.follower.poll();
      this.problem = undefined;
    } catch (e) {
      // The folder went away or cannot be listed: keep what was read, say why once.
      const why = (e as Error).message;
      if (why === this.problem) return false;
      this.problem = why;
      this.snap = { ...this.snap, statusProblem: why, foreign: this.snap.foreign && { ...this.snap.foreign, warnings: [...this.snap.foreign.warnings, why] } };
      return true;
    }
    if (!run) return false;
    const created = run.epochs.find((e) => e.wallTime)?.wallTime;
    const next = foreignSnapshot(this.runDir, path.basename(this.runDir), run, created ? created * 1000 : this.snap.createdMs);
    const sig = JSON.stringify([next.name, next.metrics.length, next.metrics[next.metrics.length - 1], next.results, next.robustness !== undefined, next.foreign]);
    if (sig === this.signature) return false;
    this.signature = sig;
    this.snap = next;
    return true;
  }
}

/** Whether `dir` holds a run another trainer wrote (told from its file names alone). */
export function isForeignRunFolder(dir: string): boolean {
  try {
    return detectForeignRun(fs.readdirSync(dir)) !== undefined;
  } catch {
    return false;
  }
}

function isOurRunFolder(names: readonly string[]): boolean {
  return names.includes('config.json') || names.includes('status.json');
}

/** `~` and `~/…` as a shell would read them; relative paths against the first workspace folder. */
export function resolveExtraFolder(p: string, workspaceFolder: string | undefined): string | undefined {
  const t = p.trim();
  if (!t) return undefined;
  const home = t === '~' || t.startsWith('~/') ? path.join(os.homedir(), t.slice(1)) : t;
  if (path.isAbsolute(home)) return path.normalize(home);
  return workspaceFolder ? path.resolve(workspaceFolder, home) : undefined;
}

/**
 * The run folders the extra folders stand for: a folder that is itself a run (foreign or ours) is
 * one; any other folder stands for its sub-folders that are runs (a trainer's output root, e.g.
 * timm's output/train/). Missing folders stand for none.
 */
export function extraRunDirs(folders: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of folders) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    if (detectForeignRun(names) || isOurRunFolder(names)) {
      out.push(dir);
      continue;
    }
    for (const n of names) {
      const sub = path.join(dir, n);
      try {
        if (!fs.statSync(sub).isDirectory()) continue;
        const inner = fs.readdirSync(sub);
        if (detectForeignRun(inner) || isOurRunFolder(inner)) out.push(sub);
      } catch {
        // gone or unreadable: not a run to list
      }
    }
  }
  return [...new Set(out)];
}

function dirTime(dir: string): number {
  try {
    const st = fs.statSync(dir);
    return st.birthtimeMs || st.mtimeMs;
  } catch {
    return 0;
  }
}
