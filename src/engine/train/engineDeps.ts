import type { BackendName } from '../../shared/config';
import { loadDataset } from '../data/load';
import type { DatasetPair } from '../data/types';
import { createExecutor } from '../exec/createExecutor';
import type { Executor, ModelSpec } from '../exec/types';
import { initParams, validateSpec } from '../model';

/** What train and evaluate need from the rest of the engine; tests swap in tiny fakes. */
export interface EngineDeps {
  loadDataset(spec: unknown, baseDir: string): Promise<DatasetPair>;
  createExecutor(o: { spec: ModelSpec; backend: BackendName; workers: number; usefulWorkers?: number; usefulWorkersSplit?: number }): Promise<Executor>;
  initParams(spec: ModelSpec, seed: number): { params: Float32Array; running: Float32Array };
  /** Checks the model fits the data (throws with a message); optional. */
  validateSpec?(spec: ModelSpec): void;
}

export async function defaultDeps(): Promise<EngineDeps> {
  return {
    loadDataset: (spec, baseDir) => loadDataset(spec, baseDir),
    createExecutor: (o) => createExecutor(o),
    initParams: (spec, seed) => initParams(spec, seed),
    validateSpec: (spec) => validateSpec(spec),
  };
}
