import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '../../shared/runFormat';

// Graceful stop: SIGTERM/SIGINT or a `stop.request` file in the run folder (what the extension
// writes when it cannot signal, e.g. a remote run) finishes the current step, checkpoints and
// exits 0 with status `stopped`. A second signal means "now": exit at once.

export interface StopControl {
  requested(): boolean;
  reason(): string | undefined;
  dispose(): void;
}

export function installStop(runDir: string, opts: { onSecondSignal?: () => void; onFirst?: (why: string) => void } = {}): StopControl {
  let why: string | undefined;
  const file = path.join(runDir, RUN_FILES.stopRequest);
  const handler = (sig: NodeJS.Signals): void => {
    if (why) {
      (opts.onSecondSignal ?? (() => process.exit(130)))();
      return;
    }
    why = sig;
    opts.onFirst?.(`${sig} received: finishing the current step, then checkpointing (send it again to exit at once)`);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    requested(): boolean {
      if (!why && fs.existsSync(file)) {
        why = RUN_FILES.stopRequest;
        opts.onFirst?.(`${RUN_FILES.stopRequest} found: finishing the current step, then checkpointing`);
        // Consumed, so that a later --resume does not stop straight away.
        fs.rmSync(file, { force: true });
      }
      return why !== undefined;
    },
    reason: () => why,
    dispose(): void {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
