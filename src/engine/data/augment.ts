import type { Rng } from '../util/rng';
import type { Dataset } from './types';

// Reference-style input pipeline: random crop after zero padding, random horizontal flip, then
// scaling to [-1, 1] (the range the reference normalises to, and the range the attack's
// epsilon and clipping are defined in). Padding is with pixel value 0 before scaling, i.e. -1
// afterwards, as torchvision's RandomCrop(padding=4) does on uint8 images. 28×28 images get the
// same 4 px as 32×32 ones (the CIFAR recipe), a shift of up to 14% of the side.

export const DEFAULT_PAD = 4;

export interface BatchOptions {
  augment: boolean;
  /** Required when augment is true: every crop offset and flip is drawn from it. */
  rng?: Rng;
  /** Zero padding before the random crop, in pixels (default 4). */
  pad?: number;
  /** Random horizontal flip with probability 1/2 (default true). */
  flip?: boolean;
}

export interface Batch {
  /** NHWC, values in [-1, 1]. */
  images: Float32Array;
  labels: Int32Array;
}

/** Pixel 0..255 → [-1, 1]. */
export function toUnitRange(v: number): number {
  return v / 127.5 - 1;
}

/** The order in which an epoch visits the n training images. */
export function epochOrder(n: number, rng: Rng): Int32Array {
  return rng.permutation(n);
}

/**
 * Writes one image into `out` at `outOffset`, shifted by (dy, dx) inside a frame padded by `pad`
 * (dy, dx ∈ [0, 2·pad]; pad = dy = dx = 0 is a plain copy) and optionally mirrored left–right.
 */
export function cropFlipInto(
  src: Uint8Array, srcOffset: number, h: number, w: number, c: number,
  pad: number, dy: number, dx: number, flip: boolean,
  out: Float32Array, outOffset: number,
): void {
  for (let y = 0; y < h; y++) {
    const sy = y + dy - pad;
    for (let x = 0; x < w; x++) {
      const cx = flip ? w - 1 - x : x;
      const sx = cx + dx - pad;
      const o = outOffset + (y * w + x) * c;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (let ch = 0; ch < c; ch++) out[o + ch] = -1;
      } else {
        const s = srcOffset + (sy * w + sx) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = src[s + ch] / 127.5 - 1;
      }
    }
  }
}

/** Gathers the images at `indices` into one NHWC float batch, augmenting if asked. */
export function makeBatch(ds: Dataset, indices: ArrayLike<number>, opts: BatchOptions): Batch {
  const { height: h, width: w, channels: c } = ds;
  const px = h * w * c;
  const n = indices.length;
  const images = new Float32Array(n * px);
  const labels = new Int32Array(n);
  const pad = opts.pad ?? DEFAULT_PAD;
  const flip = opts.flip ?? true;
  if (opts.augment && !opts.rng) throw new Error('makeBatch: augment needs an rng so that the run stays reproducible');
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    if (!(i >= 0 && i < ds.count)) throw new Error(`makeBatch: index ${i} outside 0..${ds.count - 1} of dataset ${ds.name}`);
    labels[j] = ds.labels[i];
    if (opts.augment) {
      const rng = opts.rng!;
      const dy = rng.int(2 * pad + 1);
      const dx = rng.int(2 * pad + 1);
      const f = flip && rng.next() < 0.5;
      cropFlipInto(ds.images, i * px, h, w, c, pad, dy, dx, f, images, j * px);
    } else {
      cropFlipInto(ds.images, i * px, h, w, c, 0, 0, 0, false, images, j * px);
    }
  }
  return { images, labels };
}

export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]] = 1;
  return out;
}

/** Gamma(shape, 1) by Marsaglia–Tsang, with the shape < 1 boost. */
function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.next();
    return sampleGamma(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) sample in [0, 1]. */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x + y === 0 ? 0.5 : x / (x + y);
}

function checkAlpha(fn: string, alpha: number): void {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new Error(`${fn}: alpha must be a positive number (e.g. 0.2 for mixup, 1.0 for cutmix), got ${alpha}`);
}

function softLabels(labels: ArrayLike<number>, perm: Int32Array, numClasses: number, lam: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    out[i * numClasses + labels[i]] += lam;
    out[i * numClasses + labels[perm[i]]] += 1 - lam;
  }
  return out;
}

/**
 * Mixup (Zhang et al. 2018): one λ ~ Beta(α, α) per batch, each image blended with a partner from
 * a random permutation. Mixes `batch` in place; returns the soft labels (N × numClasses).
 */
export function mixup(batch: Float32Array, labels: Int32Array, numClasses: number, alpha: number, rng: Rng): Float32Array {
  checkAlpha('mixup', alpha);
  const n = labels.length;
  if (n === 0) return new Float32Array(0);
  const px = batch.length / n;
  const lam = sampleBeta(alpha, alpha, rng);
  const perm = rng.permutation(n);
  const orig = batch.slice();
  for (let i = 0; i < n; i++) {
    const a = i * px;
    const b = perm[i] * px;
    for (let k = 0; k < px; k++) batch[a + k] = lam * orig[a + k] + (1 - lam) * orig[b + k];
  }
  return softLabels(labels, perm, numClasses, lam);
}

/**
 * CutMix (Yun et al. 2019): pastes a box of the partner image; the label weight is the true pasted
 * area after clipping at the border, as in the authors' code. Edits `batch` (NHWC) in place;
 * returns the soft labels.
 */
export function cutmix(
  batch: Float32Array, labels: Int32Array, numClasses: number, alpha: number, rng: Rng,
  dims: { height: number; width: number; channels: number },
): Float32Array {
  checkAlpha('cutmix', alpha);
  const n = labels.length;
  if (n === 0) return new Float32Array(0);
  const { height: h, width: w, channels: c } = dims;
  if (batch.length !== n * h * w * c) throw new Error(`cutmix: batch has ${batch.length} values, expected ${n}×${h}×${w}×${c}`);
  const lam0 = sampleBeta(alpha, alpha, rng);
  const perm = rng.permutation(n);
  const cutRat = Math.sqrt(1 - lam0);
  const cutW = Math.trunc(w * cutRat);
  const cutH = Math.trunc(h * cutRat);
  const cx = rng.int(w);
  const cy = rng.int(h);
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const x1 = clip(cx - Math.floor(cutW / 2), w);
  const x2 = clip(cx + Math.floor(cutW / 2), w);
  const y1 = clip(cy - Math.floor(cutH / 2), h);
  const y2 = clip(cy + Math.floor(cutH / 2), h);
  const orig = batch.slice();
  const px = h * w * c;
  for (let i = 0; i < n; i++) {
    for (let y = y1; y < y2; y++) {
      const row = (y * w + x1) * c;
      const len = (x2 - x1) * c;
      batch.set(orig.subarray(perm[i] * px + row, perm[i] * px + row + len), i * px + row);
    }
  }
  const lam = 1 - ((x2 - x1) * (y2 - y1)) / (w * h);
  return softLabels(labels, perm, numClasses, lam);
}
