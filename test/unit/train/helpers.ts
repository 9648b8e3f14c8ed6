// Shared fixtures for trainer, run-folder and CLI tests: a tiny synthetic dataset that a tiny
// model can learn in a few steps, a tiny config, and executors (real in-process on the cpu backend,
// or a recording fake for orchestration checks that need no TF.js).

import { DEFAULT_CONFIG, resolveConfig, type RunConfig } from '../../../src/shared/config';
import type { Dataset, DatasetPair } from '../../../src/engine/data/types';
import type { BnSet, Executor, ModelLayout, ModelSpec, ParamGroup, PassRequest, PassResult } from '../../../src/engine/exec/types';
import type { EngineDeps } from '../../../src/engine/cli/train';
import { Rng } from '../../../src/engine/util/rng';
import { createExecutor } from '../../../src/engine/exec/createExecutor';
import { initParams, validateSpec } from '../../../src/engine/model';

export const SIDE = 8;
export const CLASSES = 4;

/** Class k: a bright k-th quadrant on a noisy background — easy, but not trivially so for 1 step. */
export function tinyDataset(count: number, seed: number, name = 'tiny'): Dataset {
  const rng = new Rng(seed);
  const px = SIDE * SIDE;
  const images = new Uint8Array(count * px);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % CLASSES;
    labels[i] = k;
    const qy = k >> 1;
    const qx = k & 1;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const inQ = (y >> 2) === qy && (x >> 2) === qx;
        images[i * px + y * SIDE + x] = Math.max(0, Math.min(255, Math.round((inQ ? 180 : 60) + rng.normal(0, 25))));
      }
    }
  }
  return {
    name, images, labels, count, height: SIDE, width: SIDE, channels: 1, numClasses: CLASSES,
    classNames: ['a', 'b', 'c', 'd'], source: 'synthetic',
  };
}

export function tinyData(train = 64, test = 32): DatasetPair {
  return { train: tinyDataset(train, 1), test: tinyDataset(test, 2, 'tiny-test') };
}

export function tinyConfig(over: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 2, milestones: [1], sameBudget: false,
    model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 1, logEvery: 1,
    augment: { crop: false, flip: false, mixupAlpha: 0, cutmixAlpha: 0 },
    ...over,
  }, DEFAULT_CONFIG);
}

export function tinySpec(): ModelSpec {
  return { arch: 'resnet8', width: 2, inputHeight: SIDE, inputWidth: SIDE, inputChannels: 1, numClasses: CLASSES };
}

/** Real engine pieces, with the dataset replaced by the tiny one (any `dataset` config is ignored). */
export async function tinyDeps(data: DatasetPair = tinyData()): Promise<EngineDeps> {
  return {
    loadDataset: async () => data,
    createExecutor: (o) => createExecutor({ ...o, backend: 'cpu', workers: 1 }),
    initParams: (spec, seed) => initParams(spec, seed),
    validateSpec: (spec) => validateSpec(spec),
  };
}

export async function realExecutor(spec: ModelSpec = tinySpec()): Promise<Executor> {
  return createExecutor({ spec, backend: 'cpu', workers: 1 });
}

/**
 * A layout-only fake: two shared params, one BN layer with one channel per set. Gradients are 1
 * on every parameter a pass may touch (shared + its own BN set), so the trainer's summation and
 * division are visible in closed form. Images pass through the attack unchanged.
 */
export function fakeLayout(): ModelLayout {
  const params = [
    { name: 'w', shape: [2], group: 'shared' as ParamGroup, offset: 0, size: 2 },
    { name: 'bn.main.gamma', shape: [1], group: 'clean' as ParamGroup, offset: 2, size: 1 },
    { name: 'bn.main.beta', shape: [1], group: 'clean' as ParamGroup, offset: 3, size: 1 },
    { name: 'bn.aux.gamma', shape: [1], group: 'adv' as ParamGroup, offset: 4, size: 1 },
    { name: 'bn.aux.beta', shape: [1], group: 'adv' as ParamGroup, offset: 5, size: 1 },
  ];
  return {
    params, paramCount: 6,
    bnLayers: [{ name: 'bn', set: 'main', channels: 1, offset: 0 }, { name: 'bn', set: 'aux', channels: 1, offset: 2 }],
    runningCount: 4, groupCounts: { shared: 2, clean: 2, adv: 2 },
  };
}

export class RecordingExecutor implements Executor {
  readonly layout = fakeLayout();
  readonly workers = 1;
  readonly backend = { name: 'fake', requested: 'cpu' as const, package: 'none', gpu: false, reason: 'test', attempts: [], workers: 1 };
  requests: PassRequest[] = [];
  /** Per-sample gradient value, per pass: lets a test make a stream misbehave. */
  gradValue: (req: PassRequest) => number = () => 1;
  lossValue: (req: PassRequest) => number = () => 1;
  /** BN batch statistics (mean, var of the one fake channel) a training pass reports. */
  statsValues: (req: PassRequest) => Float32Array = () => new Float32Array([0, 1]);
  /** Fraction of a pass's samples counted correct. */
  accuracy: (req: PassRequest) => number = () => 0.5;
  /** Writes a gradient into the other BN set: a broken executor the trainer must refuse. */
  leakIntoOtherSet = false;

  async setState(): Promise<void> {}

  async run(reqs: PassRequest[]): Promise<PassResult[]> {
    return reqs.map((r) => {
      this.requests.push(r);
      const grads = new Float32Array(6);
      const v = this.gradValue(r) * r.lossWeight * r.count;
      const own: Record<BnSet, number[]> = { main: [2, 3], aux: [4, 5] };
      const other: Record<BnSet, number[]> = { main: [4, 5], aux: [2, 3] };
      const wantGrads = r.paramGrads || (r.attack?.reuseGradients ?? false);
      // Attack steps with reuse give K gradient contributions, plus the final pass if asked.
      const times = (r.attack?.reuseGradients ? r.attack.steps : 0) + (r.paramGrads ? 1 : 0);
      for (const i of [0, 1, ...own[r.bn]]) grads[i] = v * times;
      if (this.leakIntoOtherSet && r.bn === 'aux') for (const i of other[r.bn]) grads[i] = 0.5;
      const loss = this.lossValue(r) * r.count;
      const stats = { values: this.statsValues(r), groupSize: r.groupSize, groups: r.count / r.groupSize };
      const res: PassResult = {
        lossSum: loss, correct: Math.round(r.count * this.accuracy(r)), count: r.count,
        bnStats: r.training ? Array.from({ length: (r.attack ? r.attack.steps : 0) + (!r.attack || r.paramGrads ? 1 : 0) }, () => stats) : [],
      };
      if (wantGrads) res.grads = grads;
      if (r.attack) {
        res.advImages = Float32Array.from(r.images);
        res.attackLossSum = loss;
        res.attackCorrect = Math.round(r.count * this.accuracy(r));
      }
      if (!r.training) res.logits = new Float32Array(r.count * CLASSES);
      return res;
    });
  }

  async dispose(): Promise<void> {}
}
