// The only records the extension itself writes into a run folder: a `queued` status for a run
// waiting for a slot, its pending config, a stop request, and a final status for an engine that
// died before it could write one. Atomic (temp + rename) like the engine's own writes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../shared/config';
import { RUN_FILES, parseStatus, type RunStatus } from '../shared/runFormat';
import { RUN_FILE_CAPS, readSmallFile } from './readSmall';

export const QUEUE_FILE = 'queue.json';
export const CONSOLE_FILE = 'console.log';

export interface QueueRecord {
  schema: 1;
  kind: 'train' | 'resume';
  queuedAt: string;
  config?: RunConfig;
  /** Which file the config came from, for messages. */
  source?: string;
}

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

export function writeQueued(runDir: string, rec: QueueRecord, prev?: RunStatus): void {
  fs.mkdirSync(runDir, { recursive: true });
  writeJsonAtomic(path.join(runDir, QUEUE_FILE), rec);
  const now = new Date().toISOString();
  const status: RunStatus = {
    ...(prev ?? { schema: 1, startedAt: null, progress: { epoch: 0, epochs: rec.config?.epochs ?? 0, step: 0, totalSteps: 0 } }),
    schema: 1,
    state: 'queued',
    pid: null,
    updatedAt: now,
  };
  delete status.endedAt;
  writeJsonAtomic(path.join(runDir, RUN_FILES.status), status);
}

/**
 * Takes a queued run for starting. The rename is atomic, so when two windows share a runs folder
 * only one of them starts it.
 */
export function claimQueued(runDir: string): QueueRecord | undefined {
  const from = path.join(runDir, QUEUE_FILE);
  const to = path.join(runDir, `.queue.claimed.${process.pid}.json`);
  try {
    fs.renameSync(from, to);
  } catch {
    return undefined;
  }
  try {
    const text = readSmallFile(to, RUN_FILE_CAPS.queue);
    return text === undefined ? undefined : (JSON.parse(text) as QueueRecord);
  } catch {
    return undefined;
  } finally {
    fs.rmSync(to, { force: true });
  }
}

export function readQueueRecord(runDir: string): QueueRecord | undefined {
  try {
    const text = readSmallFile(path.join(runDir, QUEUE_FILE), RUN_FILE_CAPS.queue);
    return text === undefined ? undefined : (JSON.parse(text) as QueueRecord);
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
