// Deterministic inputs, the Conv2D reference and gradient paths, and the error measure the backend
// suites compare kernels with.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** n uniform values in [−0.5, 0.5) + offset from a 32-bit LCG (same values on every machine). */
export function rand(n: number, seed: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5 + offset;
  }
  return a;
}

/** max |a-b| / max |b|: relative to the result's scale, so near-zero entries do not dominate. Infinity if a has a non-finite entry. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

export type ConvPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
/** A Conv2D case: input n×h×w×ci, a k×k filter to co channels, stride s. */
export interface ConvCase { n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: ConvPad }
/** Inputs of a case as plain arrays, so they can be built on one backend and used on another. */
export interface ConvData { x: Float32Array; f: Float32Array; dy: Float32Array; xs: number[]; fs: number[]; ys: number[] }
export interface ConvOut { y: Float32Array; dx: Float32Array; df: Float32Array }
type Shape4 = [number, number, number, number];

export const convLabel = (c: ConvCase): string => `${c.k}×${c.k} s${c.s} ${JSON.stringify(c.pad)} ${c.n}×${c.h}×${c.w}×${c.ci}→${c.co}`;

export function convData(c: ConvCase, seed: number): ConvData {
  const xs = [c.n, c.h, c.w, c.ci];
  const fs = [c.k, c.k, c.ci, c.co];
  const ys = tf.tidy(() => tf.conv2d(tf.zeros(xs) as unknown as tf.Tensor4D, tf.zeros(fs) as unknown as tf.Tensor4D, c.s, c.pad).shape);
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  return { xs, fs, ys, x: rand(size(xs), seed), f: rand(size(fs), seed + 1), dy: rand(size(ys), seed + 2) };
}

/** y = conv2d(x, f), and both gradients of Σ y·dy through tf.grads (the registered Conv2D gradient). */
export function convViaGrads(c: ConvCase, d: ConvData): ConvOut {
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.xs as Shape4);
    const f = tf.tensor4d(d.f, d.fs as Shape4);
    const dy = tf.tensor4d(d.dy, d.ys as Shape4);
    const y = tf.conv2d(x, f, c.s, c.pad);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy)))([x, f]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, df: df.dataSync() as Float32Array };
  });
}

/** The active backend's stock kernels, run directly (the registered Conv2D gradient is ours); the reference on cpu. */
export function convStock(c: ConvCase, d: ConvData): ConvOut {
  return tf.tidy(() => {
    const x = tf.tensor4d(d.x, d.xs as Shape4);
    const f = tf.tensor4d(d.f, d.fs as Shape4);
    const dy = tf.tensor4d(d.dy, d.ys as Shape4);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: d.xs } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const df = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: d.fs } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return { y: tf.conv2d(x, f, c.s, c.pad).dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, df: df.dataSync() as Float32Array };
  });
}
