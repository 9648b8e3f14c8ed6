import { ConfigError, type RunConfig } from '../../shared/config';
import type { RunConfigRecord } from '../../shared/runFormat';
import type { DatasetPair } from '../data/types';
import type { Executor, ModelSpec } from '../exec/types';
import type { EngineDeps } from './engineDeps';
import { planTraining, stepPieces, type TrainPlan } from './plan';

// What a new run and a resume both check before anything is written: the data loads, the model
// fits it, the schedule plans, the backend starts.

export interface Prepared {
  config: RunConfig;
  data: DatasetPair;
  plan: TrainPlan;
  spec: ModelSpec;
}

/** The dataset loader's plain errors start with their field ("dataset.path: …") or a file path. */
export function datasetError(e: unknown): ConfigError {
  if (e instanceof ConfigError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^(dataset(?:\.\w+)?): ([^]*)$/.exec(msg);
  return m ? new ConfigError(m[1], m[2]) : new ConfigError('dataset', msg);
}

export async function prepare(config: RunConfig, baseDir: string, deps: EngineDeps): Promise<Prepared> {
  let data: DatasetPair;
  try {
    data = await deps.loadDataset(config.dataset, baseDir);
  } catch (e) {
    throw datasetError(e);
  }
  const plan = planTraining(config, data.train.count);
  const spec: ModelSpec = {
    arch: config.model.arch, width: config.model.width,
    inputHeight: data.train.height, inputWidth: data.train.width, inputChannels: data.train.channels, numClasses: data.train.numClasses,
  };
  try {
    deps.validateSpec?.(spec);
  } catch (e) {
    throw new ConfigError('model.arch', (e as Error).message);
  }
  return { config, data, plan, spec };
}

/** The executor a training run uses: its backend and workers, at most a step's pieces by default. A backend that cannot start is a `backend` config error. */
export async function openExecutor(p: Prepared, deps: EngineDeps): Promise<Executor> {
  try {
    return await deps.createExecutor({ spec: p.spec, backend: p.config.backend, workers: p.config.workers, usefulWorkers: stepPieces(p.plan), usefulWorkersSplit: stepPieces(p.plan, true) });
  } catch (e) {
    throw new ConfigError('backend', (e as Error).message);
  }
}

export function datasetInfo(d: DatasetPair): RunConfigRecord['dataset'] {
  const t = d.train;
  return { name: t.name, source: t.source, train: t.count, test: d.test.count, height: t.height, width: t.width, channels: t.channels, numClasses: t.numClasses, classNames: t.classNames };
}
