// Which process, if any, owns a run folder: the extension's reading of the engine's run.lock
// (docs/run-format.md). status.json's pid is only displayed; a signal goes to a pid only when the
// lock names it and that pid is still the very process that took the lock (same start time since
// the same boot), so neither a forged folder nor a pid reused after the engine died or the machine
// rebooted can aim Stop at another process. No vscode import: unit tested. The engine has its own
// copy of these few lines (src/engine/run/lock.ts); the extension never imports the engine.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_LOCK_FILE, type RunLock } from '../../shared/runFormat';
import { readSmallFile } from '../readSmall';

/** A lock is a few hundred bytes; anything bigger is not one, and is not read whole. */
const MAX_LOCK_BYTES = 4096;

let bootIdCache: string | null | undefined;
export function bootId(): string | null {
  if (bootIdCache === undefined) {
    try {
      // /proc files report size 0, so not readSmallFile.
      bootIdCache = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache;
}

/** `<boot id>:<start ticks>` (field 22 of /proc/<pid>/stat) on Linux; null where the OS does not tell. */
export function processStartTime(pid: number): string | null {
  const boot = bootId();
  if (!boot || !Number.isInteger(pid) || pid <= 0) return null;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return ticks && /^\d+$/.test(ticks) ? `${boot}:${ticks}` : null;
}

export function isPidAlive(pid: number | null | undefined): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseRunLock(text: string | undefined): RunLock | undefined {
  if (!text) return undefined;
  let o: Partial<RunLock> | null;
  try {
    o = JSON.parse(text) as Partial<RunLock> | null;
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || o.schema !== 1 || !Number.isInteger(o.pid) || (o.pid as number) <= 0) return undefined;
  if (typeof o.nonce !== 'string' || typeof o.host !== 'string' || !(o.startTime === null || typeof o.startTime === 'string')) return undefined;
  return o as RunLock;
}

export function readRunLock(runDir: string): RunLock | undefined {
  return parseRunLock(readSmallFile(path.join(runDir, RUN_LOCK_FILE), MAX_LOCK_BYTES));
}

export type Ownership =
  /** The lock's pid is the process that took it: it may be signalled. */
  | { owner: 'verified'; lock: RunLock }
  /** Another machine's process (a shared folder): nothing here can check or signal it. */
  | { owner: 'other-host'; lock: RunLock }
  /** A lock whose process is gone, or whose pid now belongs to another process (reuse, reboot). */
  | { owner: 'stale'; lock: RunLock; why: string }
  /** No (readable) lock: no engine holds the folder. */
  | { owner: 'none' };

export function judgeLock(lock: RunLock): Ownership {
  if (lock.host !== os.hostname()) return { owner: 'other-host', lock };
  if (!isPidAlive(lock.pid)) return { owner: 'stale', lock, why: `process ${lock.pid} is gone` };
  const now = processStartTime(lock.pid);
  if (lock.startTime === null) {
    // Written where start times cannot be read; here they can, so it cannot be checked: not trusted.
    return now === null ? { owner: 'verified', lock } : { owner: 'stale', lock, why: `the lock records no start time for pid ${lock.pid}` };
  }
  if (lock.startTime.split(':')[0] !== bootId()) return { owner: 'stale', lock, why: `it was taken before the machine restarted` };
  if (now !== lock.startTime) return { owner: 'stale', lock, why: `pid ${lock.pid} now belongs to another process` };
  return { owner: 'verified', lock };
}

export function ownerOf(runDir: string): Ownership {
  const lock = readRunLock(runDir);
  return lock ? judgeLock(lock) : { owner: 'none' };
}

/**
 * The pid to signal for a run, checked again right before the signal: the lock must still be the
 * one verified earlier (same nonce) and its process still the same. Undefined means "do not signal".
 */
export function verifiedPid(runDir: string, expectNonce?: string): number | undefined {
  const o = ownerOf(runDir);
  if (o.owner !== 'verified') return undefined;
  if (expectNonce !== undefined && o.lock.nonce !== expectNonce) return undefined;
  return o.lock.pid;
}
