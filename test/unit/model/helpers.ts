// Tiny models and deterministic batches, so the model and attack suites stay fast on the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { createReplica } from '../../../src/engine/exec/replica';
import type { ModelSpec, PassRequest, Replica } from '../../../src/engine/exec/types';
import { initParams } from '../../../src/engine/model/init';
import { Rng } from '../../../src/engine/util/rng';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function tinySpec(over: Partial<ModelSpec> = {}): ModelSpec {
  return { arch: 'resnet8', width: 4, inputHeight: 8, inputWidth: 8, inputChannels: 3, numClasses: 5, ...over };
}

export function batch(spec: ModelSpec, n: number, seed = 7): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * spec.inputHeight * spec.inputWidth * spec.inputChannels);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(-1, 1);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.int(spec.numClasses);
  return { images, labels };
}

export function replicaWithState(spec: ModelSpec, seed = 1): { replica: Replica; params: Float32Array; running: Float32Array } {
  const replica = createReplica(spec);
  const { params, running } = initParams(spec, seed);
  // Non-trivial BN parameters and running statistics, so tests cannot pass on gamma = 1, beta = 0.
  const rng = new Rng(seed + 100);
  for (const p of replica.layout.params) {
    if (p.name.endsWith('.gamma')) for (let i = 0; i < p.size; i++) params[p.offset + i] = 1 + 0.3 * rng.normal();
    if (p.name.endsWith('.beta')) for (let i = 0; i < p.size; i++) params[p.offset + i] = 0.2 * rng.normal();
  }
  for (const l of replica.layout.bnLayers) {
    for (let i = 0; i < l.channels; i++) {
      running[l.offset + i] = 0.1 * rng.normal();
      running[l.offset + l.channels + i] = 0.5 + rng.next();
    }
  }
  replica.setState(params, running);
  return { replica, params, running };
}

export function baseRequest(spec: ModelSpec, n: number, over: Partial<PassRequest> = {}, seed = 7): PassRequest {
  const { images, labels } = batch(spec, n, seed);
  return { images, count: n, labels, bn: 'main', training: true, groupSize: n, lossWeight: 1, paramGrads: true, ...over };
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]), Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}
