import { makeBatch } from '../data/augment';
import { toUnitFloats, type StreamLoader } from '../data/streamLoader';
import { isFileDataset, type AnyDataset, type FileDataset } from '../data/types';
import type { Executor, PassRequest } from '../exec/types';

// Test-set evaluation: main BN in eval mode (running statistics), as evaluation and export use
// the main BN only. Chunks are independent, so the executor may run them concurrently.

export const EVAL_CHUNK = 250;

export interface EvalResult {
  loss: number;
  acc: number;
  count: number;
}

/** Assumes the executor already holds the weights to evaluate (setState). */
export async function evaluateClean(executor: Executor, ds: AnyDataset, chunk = EVAL_CHUNK, loader?: StreamLoader): Promise<EvalResult> {
  if (isFileDataset(ds)) {
    if (!loader) throw new Error('evaluating a streamed dataset needs its image loader');
    return evaluateStreamed(executor, ds, chunk, loader);
  }
  const requests: PassRequest[] = [];
  for (let start = 0; start < ds.count; start += chunk) {
    const idx = new Int32Array(Math.min(chunk, ds.count - start));
    for (let i = 0; i < idx.length; i++) idx[i] = start + i;
    const b = makeBatch(ds, idx, { augment: false });
    requests.push({ images: b.images, count: idx.length, labels: b.labels, bn: 'main', training: false, groupSize: idx.length, lossWeight: 1, paramGrads: false });
  }
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  // Bounded batches of requests keep memory flat on large test sets.
  const wave = Math.max(1, executor.workers) * 2;
  for (let i = 0; i < requests.length; i += wave) {
    for (const r of await executor.run(requests.slice(i, i + wave))) {
      lossSum += r.lossSum;
      correct += r.correct;
      count += r.count;
    }
  }
  return { loss: count ? lossSum / count : NaN, acc: count ? correct / count : NaN, count };
}

/** The streamed test set, center-cropped, a few chunks decoded ahead of the executor. */
async function evaluateStreamed(executor: Executor, ds: FileDataset, chunk: number, loader: StreamLoader): Promise<EvalResult> {
  const wave = Math.max(1, executor.workers) * 2;
  const load = (start: number): Promise<PassRequest[]> => {
    const parts: Promise<PassRequest>[] = [];
    for (let s = start; s < Math.min(ds.count, start + wave * chunk); s += chunk) {
      const idx = Int32Array.from({ length: Math.min(chunk, ds.count - s) }, (_, i) => s + i);
      parts.push(loader.images(ds, idx, 'eval', 0).then((b) => {
        const images = toUnitFloats(b.images);
        loader.recycle(b.images);
        return { images, count: idx.length, labels: b.labels, bn: 'main', training: false, groupSize: idx.length, lossWeight: 1, paramGrads: false } satisfies PassRequest;
      }));
    }
    return Promise.all(parts);
  };
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  let next = load(0);
  for (let start = 0; start < ds.count; start += wave * chunk) {
    const requests = await next;
    if (start + wave * chunk < ds.count) next = load(start + wave * chunk);
    for (const r of await executor.run(requests)) {
      lossSum += r.lossSum;
      correct += r.correct;
      count += r.count;
    }
  }
  return { loss: count ? lossSum / count : NaN, acc: count ? correct / count : NaN, count };
}

/** Logits of arbitrary [-1, 1] images through the main BN in eval mode (for robustness evaluation). */
export async function predictLogits(executor: Executor, images: Float32Array, count: number, labels?: Int32Array, chunk = EVAL_CHUNK): Promise<Float32Array[]> {
  const px = images.length / Math.max(1, count);
  const requests: PassRequest[] = [];
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    requests.push({
      images: images.subarray(start * px, (start + n) * px),
      count: n,
      labels: labels ? labels.subarray(start, start + n) : new Int32Array(n),
      bn: 'main', training: false, groupSize: n, lossWeight: 1, paramGrads: false,
    });
  }
  const res = await executor.run(requests);
  return res.map((r) => {
    if (!r.logits) throw new Error('executor returned no logits for an eval pass');
    return r.logits;
  });
}
