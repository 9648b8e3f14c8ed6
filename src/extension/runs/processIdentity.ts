// Which process, if any, owns a run folder: the extension's reading of the engine's run.lock
// (docs/run-format.md). status.json's pid is only displayed; a signal goes to a pid only when the
// lock names it and that pid is still the very process that took the lock (same start time since
// the same boot), so neither a forged folder nor a pid reused after the engine died or the machine
// rebooted can aim Stop at another process. No vscode import: unit tested. What the OS says about a
// process is src/engine/run/processProbe.ts, read by the engine's lock too; the verdicts differ on
// purpose (here: do not signal what cannot be verified; there: do not train over what may be live).
import * as os from 'node:os';
import * as path from 'node:path';
import { SYSTEM_PROBE, parseRunLock, pidAlive, type ProcessProbe } from '../../engine/run/processProbe';
import { RUN_LOCK_FILE, type RunLock } from '../../shared/runFormat';
import { readSmallFile } from '../readSmall';

/** A lock is a few hundred bytes; anything bigger is not one, and is not read whole. */
const MAX_LOCK_BYTES = 4096;

/** `<boot id>:<start ticks>` on Linux; null where the OS does not tell. */
export function processStartTime(pid: number): string | null {
  return SYSTEM_PROBE.startTime(pid);
}

export function bootId(): string | null {
  return SYSTEM_PROBE.bootId();
}

export { pidAlive as isPidAlive };

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

export function judgeLock(lock: RunLock, probe: ProcessProbe = SYSTEM_PROBE): Ownership {
  if (lock.host !== os.hostname()) return { owner: 'other-host', lock };
  if (!probe.alive(lock.pid)) return { owner: 'stale', lock, why: `process ${lock.pid} is gone` };
  const now = probe.startTime(lock.pid);
  if (lock.startTime === null) {
    // Written where start times cannot be read; here they can, so it cannot be checked: not trusted.
    return now === null ? { owner: 'verified', lock } : { owner: 'stale', lock, why: `the lock records no start time for pid ${lock.pid}` };
  }
  if (lock.startTime.split(':')[0] !== probe.bootId()) return { owner: 'stale', lock, why: `it was taken before the machine restarted` };
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
