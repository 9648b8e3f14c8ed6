// The WebGPU kernel and pass checks against the cpu backend, shared by the unit suite
// (test/unit/backend/webgpu.test.ts, on Mesa's software adapter) and `fast-advprop gpu-check`
// (on whatever adapter the machine has), so the GPU machine runs exactly the checks CI runs and
// needs only dist/, not mocha. Tolerance: max|webgpu − cpu| / max|cpu| ≤ KERNEL_TOLERANCE.
import * as tf from '@tensorflow/tfjs';
import { createReplica } from '../exec/replica';
import type { ModelSpec, PassRequest, PassResult } from '../exec/types';
import { crossEntropySum, initParams } from '../model';
import { batchNormTrain } from '../model/forward';

export const KERNEL_TOLERANCE = 1e-4;

/** max|a − b| / max|b| (b: the cpu reference); Infinity when the lengths differ. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  // NaN from the GPU must not pass as "no difference".
  return Number.isNaN(d) ? Infinity : d / (m || 1);
}

/** Deterministic, sign-mixed inputs (no RNG: both backends must see the same numbers). */
export const wave = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.9 + 0.05 * Math.cos(i * 1.3));
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

export interface KernelCase { name: string; shapes: number[][]; f: (...x: tf.Tensor[]) => tf.Tensor }
const T4 = (t: tf.Tensor): tf.Tensor4D => t as tf.Tensor4D;

/** Every kernel (and its gradients) a ResNet training step, an attack step and evaluation trace. */
export const KERNEL_CASES: KernelCase[] = [
  { name: 'Conv2D 3×3 stride 1 same', shapes: [[2, 8, 8, 3], [3, 3, 3, 4]], f: (x, w) => tf.conv2d(T4(x), T4(w), 1, 'same') },
  { name: 'Conv2D 3×3 stride 2 on a padded input', shapes: [[2, 9, 9, 4], [3, 3, 4, 8]], f: (x, w) => tf.conv2d(T4(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])), T4(w), 2, 'valid') },
  { name: 'Conv2D 1×1 stride 2 (projection shortcut)', shapes: [[2, 8, 8, 4], [1, 1, 4, 8]], f: (x, w) => tf.conv2d(T4(x), T4(w), 2, 'valid') },
  { name: 'Conv2D 7×7 stride 2 (ImageNet stem)', shapes: [[1, 16, 16, 3], [7, 7, 3, 4]], f: (x, w) => tf.conv2d(T4(tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]])), T4(w), 2, 'valid') },
  { name: 'DepthwiseConv2D 1×1 stride 2 (subsample)', shapes: [[2, 8, 8, 4]], f: (x) => tf.depthwiseConv2d(T4(x), tf.ones([1, 1, 4, 1]) as tf.Tensor4D, 2, 'valid') },
  { name: 'MaxPool 3×3 stride 2', shapes: [[2, 9, 9, 4]], f: (x) => tf.maxPool(T4(x), 3, 2, 'valid') },
  { name: 'PadV2 rank 4 (channels, option-A shortcut)', shapes: [[2, 4, 4, 3]], f: (x) => tf.pad(x, [[0, 0], [0, 0], [0, 0], [2, 3]]) },
  { name: 'MatMul (fc)', shapes: [[4, 16], [16, 10]], f: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D) },
  { name: 'BatchMatMul (BN group sums)', shapes: [[2, 12, 5]], f: (x) => tf.matMul(tf.ones([2, 1, 12]) as tf.Tensor3D, x as tf.Tensor3D) },
  { name: 'fused BN train + ReLU, one group', shapes: [[4, 4, 4, 6], [6], [6]], f: (x, g, b) => batchNormTrain(T4(x), g, b, 1, true).y },
  { name: 'fused BN train, two ghost groups', shapes: [[4, 4, 4, 6], [6], [6]], f: (x, g, b) => batchNormTrain(T4(x), g, b, 2, false).y },
  { name: 'Mean over H, W (global pool)', shapes: [[2, 4, 4, 8]], f: (x) => tf.mean(x, [1, 2]) },
  { name: 'softmax cross-entropy', shapes: [[4, 10], [4, 10]], f: (x, t) => crossEntropySum(x as tf.Tensor2D, tf.softmax(t) as tf.Tensor2D) },
  { name: 'Add, Mul, Sub, Rsqrt, Relu, Sign, Min/Max clip', shapes: [[3, 5], [3, 5]], f: (a, b) => tf.add(tf.relu(tf.mul(a, tf.rsqrt(tf.add(tf.abs(b), 1)))), tf.minimum(tf.maximum(tf.sub(a, tf.mul(tf.sign(b), 0.1)), -0.5), 0.5)) },
  { name: 'Concat, Slice, Reshape, Transpose', shapes: [[2, 3, 4], [2, 3, 4]], f: (a, b) => tf.transpose(tf.reshape(tf.slice(tf.concat([a, b], 1), [0, 1, 0], [2, 4, 4]), [2, 16])) },
];

/** Value and the gradient of Σ R·f (R fixed) with respect to every input, on one backend. */
export async function evalKernelCase(c: KernelCase, backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = c.shapes.map((s, i) => tf.tensor(wave(size(s), i + 1), s));
  const y = c.f(...xs);
  const r = tf.tensor(wave(y.size, 7), y.shape);
  const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(c.f(...a), r)))(xs);
  const out = await Promise.all([y, ...gs].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([...xs, y, r, ...gs]);
  return out;
}

/** Relative differences of one case: [value, gradient 1, …]. */
export async function compareKernelCase(c: KernelCase, gpu = 'webgpu'): Promise<number[]> {
  const cpu = await evalKernelCase(c, 'cpu');
  const got = await evalKernelCase(c, gpu);
  return cpu.map((ref, i) => relativeDifference(got[i], ref));
}

/** The request kinds a Fast AdvProp / AdvProp / vanilla step and evaluation send, on one batch. */
export function checkRequests(spec: ModelSpec, N: number): PassRequest[] {
  const px = spec.inputHeight * spec.inputWidth * spec.inputChannels;
  const images = wave(N * px, 3);
  const labels = Int32Array.from({ length: N }, (_, i) => (i * 3) % spec.numClasses);
  const noise = wave(N * px, 11).map((v) => v * 0.008);
  const targets = Int32Array.from(labels, (l) => (l + 1) % spec.numClasses);
  const attack = { epsilon: 0.008, stepSize: 0.008, lo: -1, hi: 1 };
  const base = { images, count: N, labels, lossWeight: 1, groupSize: N / 2 };
  return [
    { ...base, bn: 'main', training: true, paramGrads: true },
    { ...base, bn: 'aux', training: true, paramGrads: false, lossWeight: 0.5, attack: { ...attack, steps: 1, noise, reuseGradients: true } },
    { ...base, bn: 'aux', training: true, paramGrads: true, attack: { ...attack, steps: 3, reuseGradients: false } },
    { ...base, bn: 'aux', training: false, paramGrads: false, attack: { ...attack, steps: 2, targetLabels: targets, reuseGradients: false } },
    { ...base, bn: 'main', training: false, paramGrads: false, groupSize: N },
  ];
}

export const REQUEST_NAMES = ['clean training', 'Fast AdvProp attack (gradient reuse)', 'PGD-3 with parameter gradients', 'targeted PGD-2 (eval BN)', 'evaluation'];

/** Runs `reqs` on a fresh replica of `spec` (weights from seed 4) on one backend. */
export async function runPasses(spec: ModelSpec, backend: string, reqs: PassRequest[]): Promise<PassResult[]> {
  await tf.setBackend(backend);
  const init = initParams(spec, 4);
  const replica = createReplica(spec);
  replica.setState(init.params, init.running);
  const out: PassResult[] = [];
  try {
    for (const r of reqs) out.push(await replica.runPassAsync(r));
  } finally {
    replica.dispose();
  }
  return out;
}

/** Worst relative difference of a pass against its cpu reference: loss, gradients, BN statistics, logits. */
export function passDifference(gpu: PassResult, cpu: PassResult): number {
  const d = [Math.abs(gpu.lossSum - cpu.lossSum) / (Math.abs(cpu.lossSum) || 1)];
  if (cpu.grads) d.push(gpu.grads ? relativeDifference(gpu.grads, cpu.grads) : Infinity);
  if (gpu.bnStats.length !== cpu.bnStats.length) d.push(Infinity);
  else cpu.bnStats.forEach((s, k) => d.push(relativeDifference(gpu.bnStats[k].values, s.values)));
  if (cpu.logits) d.push(gpu.logits ? relativeDifference(gpu.logits, cpu.logits) : Infinity);
  return Math.max(...d.map((v) => (Number.isNaN(v) ? Infinity : v)));
}

export interface GpuCheckRow { check: string; difference: number; ok: boolean }

/**
 * Every kernel case, then every request kind on ResNet-8 and ResNet-20 (small inputs), webgpu
 * against cpu. The caller has made webgpu available (selectBackend) and restores its backend.
 */
export async function runGpuChecks(onRow: (r: GpuCheckRow) => void = () => undefined): Promise<GpuCheckRow[]> {
  const rows: GpuCheckRow[] = [];
  const add = (check: string, difference: number): void => {
    const r = { check, difference, ok: difference <= KERNEL_TOLERANCE };
    rows.push(r);
    onRow(r);
  };
  for (const c of KERNEL_CASES) add(`kernel ${c.name}`, Math.max(...(await compareKernelCase(c))));
  for (const arch of ['resnet8', 'resnet20'] as const) {
    const spec: ModelSpec = { arch, width: 4, inputHeight: 16, inputWidth: 16, inputChannels: 3, numClasses: 10 };
    const reqs = checkRequests(spec, 8);
    const cpu = await runPasses(spec, 'cpu', reqs);
    const gpu = await runPasses(spec, 'webgpu', reqs);
    cpu.forEach((c, i) => add(`${arch} pass: ${REQUEST_NAMES[i]}`, passDifference(gpu[i], c)));
  }
  return rows;
}
