// Waiting for a submitted sweep to settle: the run folders and the scheduler polled together until
// every point has ended. Shared by `sweep --wait` / `sweep status --wait` and `study` (which needs
// every point's run folder before it can build its table).

import type { SweepExecutor } from './executor';
import type { SweepManifest } from './manifest';
import { displayState, isSettled, readSweepState, type PointState } from './state';

/** Polls every `pollMs` until every point is settled; `onLine` gets a timestamped line whenever any point's state changes. */
export async function waitSettled(dir: string, m: SweepManifest, ex: SweepExecutor, onLine: (line: string) => void, pollMs = 500): Promise<PointState[]> {
  let last = '';
  for (;;) {
    const states = readSweepState(dir, m, await ex.query(dir, m));
    const line = states.map((s) => `${s.index}:${displayState(s)}`).join('  ');
    if (line !== last) onLine(`${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line;
    if (states.every(isSettled)) return states;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
