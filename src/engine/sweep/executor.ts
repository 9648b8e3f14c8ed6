// What every sweep executor does, whatever runs the points: start them, say what the scheduler
// knows about each, and cancel some or all. One module per executor implements it (local.ts,
// slurm/executor.ts); the CLI and the extension only see this interface.

import type { SweepManifest } from './manifest';
import type { SchedulerInfo } from './state';

export interface SweepLog {
  (line: string): void;
}

export interface SweepExecutor {
  readonly kind: SweepManifest['executor'];
  /**
   * Starts the sweep's points and records how (job ids) in the manifest through `save`. The local
   * executor returns when every point has ended; Slurm returns once the array is submitted.
   */
  submit(dir: string, m: SweepManifest, save: (m: SweepManifest) => void, log: SweepLog): Promise<void>;
  /** Scheduler state per point index; empty where the executor has no scheduler. */
  query(dir: string, m: SweepManifest): Promise<Map<number, SchedulerInfo>>;
  /** Cancels the given points (all when omitted); returns what was asked of whom, one line each. */
  cancel(dir: string, m: SweepManifest, indices?: readonly number[]): Promise<string[]>;
}
