// What the OS says about a process, for run.lock (docs/run-format.md): alive, and which process it
// is — `<boot id>:<start ticks>` from /proc on Linux, so a reused pid or a reboot shows. Where
// /proc is missing (macOS, Windows) the start time reads as null and both readers of the lock
// (the engine taking it, the extension signalling its owner) fall back on their own rules; the
// probe is a value so those rules can be tested here on Linux.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunLock } from '../../shared/runFormat';

export interface ProcessProbe {
  /** This boot's id, or null where the OS does not tell. */
  bootId(): string | null;
  /** `<boot id>:<start ticks>` of a live process, or null where it cannot be read. */
  startTime(pid: number): string | null;
  /** Whether a process with this pid exists (ours or another user's). */
  alive(pid: number): boolean;
}

function readProc(file: string): string | undefined {
  try {
    // /proc files report size 0, so not a size-capped read.
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number | null | undefined): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A probe reading a procfs mounted at `root`; a root without one behaves as macOS or Windows do. */
export function procProbe(root = '/proc'): ProcessProbe {
  let boot: string | null | undefined;
  const bootId = (): string | null => {
    if (boot === undefined) boot = readProc(path.join(root, 'sys/kernel/random/boot_id'))?.trim() || null;
    return boot;
  };
  return {
    bootId,
    startTime(pid: number): string | null {
      const b = bootId();
      if (!b || !Number.isInteger(pid) || pid <= 0) return null;
      const stat = readProc(path.join(root, String(pid), 'stat'));
      if (!stat) return null;
      // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
      const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; // field 22; [0] is field 3
      return ticks && /^\d+$/.test(ticks) ? `${b}:${ticks}` : null;
    },
    alive: pidAlive,
  };
}

export const SYSTEM_PROBE: ProcessProbe = procProbe();

/** A run.lock's JSON, or undefined for anything that is not one (forged, half-written, foreign). */
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
