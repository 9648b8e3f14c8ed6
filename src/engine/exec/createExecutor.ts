// Chooses how passes run: in this thread (one worker, or native TensorFlow, which is internally
// parallel) or on a pool of worker threads (wasm/cpu run one core per thread in Node).
import * as os from 'node:os';
import type { BackendName } from '../../shared/config';
import type { BackendInfo } from '../../shared/runFormat';
import { selectBackend } from '../backend/select';
import { InProcessExecutor } from './inProcess';
import { WorkerPool } from './pool';
import { createReplica } from './replica';
import type { Executor, ModelSpec, Replica } from './types';

export interface CreateExecutorOptions {
  spec: ModelSpec;
  backend: BackendName;
  /** Worker threads; 0 = automatic: one per core on wasm/cpu (at most `usefulWorkers`), one on native TensorFlow. */
  workers: number;
  /**
   * With workers = 0: the most workers the job can keep busy (a training step's pieces, see
   * train/plan.ts stepPieces); idle workers would only cost memory and a state copy per step.
   */
  usefulWorkers?: number;
  /** The same on wasm, where a BN group can be split across workers (stepPieces with splitGroups). */
  usefulWorkersSplit?: number;
  /** Path of a module exporting createReplica(spec), used instead of the real replica (tests). */
  replicaModule?: string;
}

/** Worker count for `workers` (0 = automatic) on a selected backend. */
export function resolveWorkers(workers: number, backend: BackendInfo, usefulWorkers?: number, cores = os.availableParallelism()): number {
  // One process drives the GPU: replicas in threads would only contend for the same device.
  if (backend.name === 'webgpu') return 1;
  if (workers > 0) return Math.floor(workers);
  if (backend.name === 'tensorflow') return 1;
  const useful = usefulWorkers !== undefined && usefulWorkers >= 1 ? Math.floor(usefulWorkers) : Infinity;
  return Math.max(1, Math.min(cores, useful));
}

function replicaFactory(modulePath: string | undefined): (spec: ModelSpec) => Replica {
  if (!modulePath) return createReplica;
  return (module.require([modulePath][0]) as { createReplica: (spec: ModelSpec) => Replica }).createReplica;
}

/** The name a worker should load to get exactly the backend the main thread selected. */
function resolvedName(info: BackendInfo): BackendName {
  if (info.name === 'tensorflow') return info.gpu ? 'tensorflow-gpu' : 'tensorflow';
  return info.name as BackendName;
}

export async function createExecutor(opts: CreateExecutorOptions): Promise<Executor> {
  const selected = await selectBackend(opts.backend);
  const cores = os.availableParallelism();
  const useful = selected.name === 'wasm' && opts.usefulWorkersSplit !== undefined ? opts.usefulWorkersSplit : opts.usefulWorkers;
  const n = resolveWorkers(opts.workers, selected, useful, cores);
  let info = selected;
  if (selected.name === 'webgpu') {
    if (opts.workers > 1) info = { ...selected, reason: `${selected.reason}; workers ${opts.workers} ignored: one process drives the GPU` };
  } else if (opts.workers === 0 && selected.name !== 'tensorflow' && n < cores) {
    info = { ...selected, reason: `${selected.reason}; ${n} of ${cores} cores (a training step splits into ${useful} pieces)` };
  }
  if (n === 1) {
    const replica = replicaFactory(opts.replicaModule)(opts.spec);
    return new InProcessExecutor(replica, { ...info, workers: 1, reason: `${info.reason}; in-process` });
  }
  return WorkerPool.create({ spec: opts.spec, backend: resolvedName(info), workers: n, info, replicaModule: opts.replicaModule });
}
