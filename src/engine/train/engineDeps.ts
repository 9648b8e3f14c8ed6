import type { BackendName } from '../../shared/config';
import { openDataset } from '../data/load';
import type { AnyDatasetPair } from '../data/types';
import { createExecutor } from '../exec/createExecutor';
import type { Executor, ModelSpec } from '../exec/types';
import { initParams, validateSpec } from '../model';

/** What train and evaluate need from the rest of the engine; tests swap in tiny fakes. */
export interface EngineDeps {
  /** In memory, or file lists for a streamed image folder. */
  loadDataset(spec: unknown, baseDir: string): Promise<AnyDatasetPair>;
  createExecutor(o: { spec: ModelSpec; backend: BackendName; workers: number; usefulWorkers?: number; usefulWorkersSplit?: number }): Promise<Executor>;
  initParams(spec: ModelSpec, seed: number): { params: Float32Array; running: Float32Array };
  /** Checks the model fits the data (throws with a message); optional. */
  validateSpec?(spec: ModelSpec): void;
  /** Images per chunk when `evaluate` streams its test split (tests force small ones); default EVALUATE_CHUNK. */
  evaluateChunk?: number;
}

export async function defaultDeps(): Promise<EngineDeps> {
  return {
    loadDataset: (spec, baseDir) => openDataset(spec, baseDir),
    createExecutor: (o) => createExecutor(o),
    initParams: (spec, seed) => initParams(spec, seed),
    validateSpec: (spec) => validateSpec(spec),
  };
}
