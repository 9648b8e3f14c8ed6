// One Replica on the current thread's backend. Used for a single worker on a JS backend (no thread
// hop, no copies) and for native TensorFlow, which parallelises inside its own kernels.
import { performance } from 'node:perf_hooks';
import type { BackendInfo } from '../../shared/runFormat';
import { mergeResults, planUnits, sliceRequest } from './shard';
import type { Executor, ModelLayout, PassRequest, PassResult, Replica } from './types';

export class InProcessExecutor implements Executor {
  readonly layout: ModelLayout;
  readonly workers = 1;
  private disposed = false;

  constructor(private readonly replica: Replica, readonly backend: BackendInfo) {
    this.layout = replica.layout;
  }

  async setState(params: Float32Array, running: Float32Array): Promise<void> {
    this.check();
    this.replica.setState(params, running);
  }

  /** Compute time of each pass of the last run(), in ms (diagnostics only, see bench/scaling.ts). */
  lastPassMs: number[] = [];

  async run(requests: PassRequest[]): Promise<PassResult[]> {
    this.check();
    const passMs: number[] = [];
    const pass = (r: PassRequest): PassResult => {
      const t0 = performance.now();
      const res = this.replica.runPass(r);
      passMs.push(performance.now() - t0);
      return res;
    };
    // Group by group, as the worker pool does, so one worker and many give identical weights.
    const out = requests.map((r) => {
      const units = planUnits(r, 1);
      return units.length === 1 ? pass(r) : mergeResults(units.map((u) => pass(sliceRequest(r, u))));
    });
    this.lastPassMs = passMs;
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.replica.dispose();
  }

  private check(): void {
    if (this.disposed) throw new Error('executor: used after dispose');
  }
}
