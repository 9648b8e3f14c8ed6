// One Replica on the current thread's backend. Used for a single worker on a JS backend (no thread
// hop, no copies) and for native TensorFlow, which parallelises inside its own kernels.
import { performance } from 'node:perf_hooks';
import type { BackendInfo } from '../../shared/runFormat';
import { gpuErrorScope, releaseWebGpu } from '../backend/webgpu';
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
    if (this.backend.name === 'webgpu') return this.runAsync(requests);
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

  /**
   * The GPU path: reads are asynchronous, and each pass runs in the device's error scopes so an
   * invalid kernel fails the step instead of silently training on zeros. A request is not cut into
   * its BN groups here: the forward computes ghost-BN statistics per group inside one pass, and
   * one large dispatch is what keeps a GPU busy (summation order, and so the last bits, differ
   * from the CPU path's group-by-group sums).
   */
  private async runAsync(requests: PassRequest[]): Promise<PassResult[]> {
    const passMs: number[] = [];
    const pass = async (r: PassRequest): Promise<PassResult> => {
      const t0 = performance.now();
      const res = await gpuErrorScope(() => this.replica.runPassAsync(r));
      passMs.push(performance.now() - t0);
      return res;
    };
    const out: PassResult[] = [];
    for (const r of requests) out.push(await pass(r));
    this.lastPassMs = passMs;
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.replica.dispose();
    // Dawn keeps the process alive while a device exists.
    if (this.backend.name === 'webgpu') releaseWebGpu();
  }

  private check(): void {
    if (this.disposed) throw new Error('executor: used after dispose');
  }
}
