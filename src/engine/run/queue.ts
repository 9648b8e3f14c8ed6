// The run queue as files: a run waiting for a slot has status `queued` and a `queue.json` saying
// what to start (train with this config, or resume). Whoever starts it first takes queue.json by
// an atomic rename, so two processes sharing a runs folder (two VS Code windows, a window and a
// `sweep --executor local` in a terminal) never both start it. The extension's job manager and the
// local sweep executor both go through here; the format is the one the extension always wrote.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunConfig } from '../../shared/config';
import { FINAL_STATES, RUN_FILES, parseStatus, type RunStatus } from '../../shared/runFormat';
import { readBoundedText } from '../util/boundedRead';
import { writeFileAtomic } from './atomic';

export const QUEUE_FILE = 'queue.json';
const QUEUE_CAP = 1024 * 1024;

export interface QueueRecord {
  schema: 1;
  kind: 'train' | 'resume';
  queuedAt: string;
  config?: RunConfig;
  /** Which file (or sweep) the config came from, for messages. */
  source?: string;
}

function writeJson(file: string, value: unknown): void {
  // No fsync: a queue record lost to a power cut only means the run is not started.
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { fsync: false });
}

export function readRunStatus(runDir: string): RunStatus | undefined {
  try {
    return parseStatus(readBoundedText(path.join(runDir, RUN_FILES.status), QUEUE_CAP));
  } catch {
    return undefined;
  }
}

export function writeQueued(runDir: string, rec: QueueRecord, prev?: RunStatus): void {
  fs.mkdirSync(runDir, { recursive: true });
  writeJson(path.join(runDir, QUEUE_FILE), rec);
  const now = new Date().toISOString();
  const status: RunStatus = {
    ...(prev ?? { schema: 1, startedAt: null, progress: { epoch: 0, epochs: rec.config?.epochs ?? 0, step: 0, totalSteps: 0 } }),
    schema: 1,
    state: 'queued',
    pid: null,
    updatedAt: now,
  };
  delete status.endedAt;
  writeJson(path.join(runDir, RUN_FILES.status), status);
}

function parseRecord(text: string): QueueRecord | undefined {
  const v = JSON.parse(text) as Partial<QueueRecord> | null;
  if (!v || typeof v !== 'object' || v.schema !== 1 || (v.kind !== 'train' && v.kind !== 'resume')) return undefined;
  return v as QueueRecord;
}

/**
 * Takes a queued run for starting. The rename is atomic, so when two processes share a runs folder
 * only one of them gets the record; the other gets undefined and must not start the run.
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
    return parseRecord(readBoundedText(to, QUEUE_CAP));
  } catch {
    return undefined;
  } finally {
    fs.rmSync(to, { force: true });
  }
}

export function readQueueRecord(runDir: string): QueueRecord | undefined {
  try {
    return parseRecord(readBoundedText(path.join(runDir, QUEUE_FILE), QUEUE_CAP));
  } catch {
    return undefined;
  }
}

/**
 * Takes a run out of the queue for good: its record is claimed (so nobody starts it) and its
 * status says stopped with `why`. False when there was no record to take (already started, or
 * another process took it first).
 */
export function unqueue(runDir: string, why: string): boolean {
  // Only the process holding the record may write the final status: one that lost the claim
  // would race the engine the winner is starting.
  if (claimQueued(runDir) === undefined) return false;
  writeJson(path.join(runDir, RUN_FILES.status), endedStatus(readRunStatus(runDir), 'stopped', { message: why }));
  return true;
}

/** A run's status ended now in `state`, keeping what `prev` recorded (its start, its progress). */
function endedStatus(prev: RunStatus | undefined, state: 'stopped' | 'failed', error: RunStatus['error']): RunStatus {
  const t = new Date().toISOString();
  return {
    ...(prev ?? { schema: 1, startedAt: null, progress: { epoch: 0, epochs: 0, step: 0, totalSteps: 0 } }),
    schema: 1,
    state,
    pid: null,
    updatedAt: t,
    endedAt: t,
    error,
  };
}

/**
 * Gives a run whose engine has exited a final status when the engine wrote none (it was refused
 * before making its run folder, or killed): without it the folder would read `queued` or
 * `running` for ever. False when the engine's own final status is there.
 */
export function failUnfinished(runDir: string, message: string): boolean {
  const prev = readRunStatus(runDir);
  if (isFinal(prev)) return false;
  fs.mkdirSync(runDir, { recursive: true });
  writeJson(path.join(runDir, RUN_FILES.status), endedStatus(prev, 'failed', { ...(prev?.error ?? {}), message }));
  return true;
}

export function isFinal(s: RunStatus | undefined): boolean {
  return s !== undefined && FINAL_STATES.includes(s.state);
}
