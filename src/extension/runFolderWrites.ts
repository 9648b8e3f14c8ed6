// The only records the extension itself writes into a run folder: a `queued` status for a run
// waiting for a slot, its pending config, a stop request, and a final status for an engine that
// died before it could write one. Atomic (temp + rename) like the engine's own writes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES, parseStatus, type RunStatus } from '../shared/runFormat';
import { RUN_FILE_CAPS, readSmallFile } from './readSmall';

// The queue record (queue.json, its atomic claim) is the engine's, shared with the local sweep executor.
export { QUEUE_FILE, claimQueued, readQueueRecord, writeQueued, type QueueRecord } from '../engine/run/queue';
export const CONSOLE_FILE = 'console.log';

let counter = 0;
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.ext${process.pid}.${counter++}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function readStatus(runDir: string): RunStatus | undefined {
  try {
    return parseStatus(readSmallFile(path.join(runDir, RUN_FILES.status), RUN_FILE_CAPS.status) ?? '');
  } catch {
    return undefined;
  }
}

/** Writes a final state unless the engine already wrote one. */
export function finalizeStatus(runDir: string, state: 'failed' | 'stopped', message: string): boolean {
  const prev = readStatus(runDir);
  if (prev && (prev.state === 'completed' || prev.state === 'failed' || prev.state === 'stopped')) return false;
  const now = new Date().toISOString();
  const status: RunStatus = {
    ...(prev ?? { schema: 1, startedAt: null, progress: { epoch: 0, epochs: 0, step: 0, totalSteps: 0 } }),
    schema: 1,
    state,
    pid: null,
    updatedAt: now,
    endedAt: now,
    error: { ...(prev?.error ?? {}), message },
  };
  try {
    fs.mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(path.join(runDir, RUN_FILES.status), status);
    return true;
  } catch {
    return false;
  }
}

/**
 * A run whose engine is gone without writing a final status: drops the pid (nothing may signal it)
 * and keeps the state, which the Runs view then shows as crashed; resume continues from the last
 * checkpoint.
 */
export function markCrashed(runDir: string, message: string): boolean {
  const prev = readStatus(runDir);
  if (!prev || prev.state !== 'running') return false;
  try {
    writeJsonAtomic(path.join(runDir, RUN_FILES.status), { ...prev, pid: null, updatedAt: new Date().toISOString(), error: { ...(prev.error ?? {}), message } });
    return true;
  } catch {
    return false;
  }
}

export function writeStopRequest(runDir: string): void {
  try {
    fs.writeFileSync(path.join(runDir, RUN_FILES.stopRequest), `${new Date().toISOString()} stop requested by the VS Code extension (pid ${process.pid})\n`);
  } catch {
    // The folder is gone; nothing to stop.
  }
}
