// Conv2D gradients written as forward convolutions.
//
// Stock wasm has no Conv2DBackpropFilter kernel, so it cannot train a convnet, and its
// Conv2DBackpropInput is several times slower than its (XNNPACK) forward conv. Both gradients are
// convolutions in disguise, so we express them as tf.conv2d calls, which every backend runs fast:
//  - filter gradient: correlate x with dy, with the batch and channel axes swapped (the batch
//    becomes the reduction axis) and dilation = the forward stride;
//  - input gradient: correlate the zero-upsampled dy with the spatially flipped, in/out-transposed
//    filter (a "full" convolution).
// On cpu the conv filter path is ~10× faster than the stock kernel but the conv input path is slower,
// so the input path is used on wasm only; native TensorFlow keeps its own kernels.
import * as tf from '@tensorflow/tfjs';
import { maxPoolGradConfig } from './poolGrad';
import { stridedSliceGradConfig } from './sliceGrad';
import { installWasmKernels } from './wasmKernels';
import { padGradConfig } from './padGrad';
import { fastConv2dFilterGrad, fastConv2dInputGrad, fastConvSupports, fastInputGradSupports, fastKernelsActive, setFastKernels } from './fastKernels';

export type GradPath = 'conv' | 'stock';
export interface ConvGradPolicy {
  filter: GradPath;
  input: GradPath;
}

type Explicit = [[number, number], [number, number], [number, number], [number, number]];
type PadAttr = 'valid' | 'same' | number | Explicit;

/** Which path each gradient takes on a backend; tests may force one with setConvGradOverride. */
export function policyFor(backend: string): ConvGradPolicy {
  if (override) return override;
  if (backend === 'wasm') return { filter: 'conv', input: 'conv' };
  if (backend === 'cpu') return { filter: 'conv', input: 'stock' };
  return { filter: 'stock', input: 'stock' };
}

let override: ConvGradPolicy | null = null;
let subPixel = true;
let inputGradKernel = true;
/** Input gradients on our transposed-conv kernel (default, where it applies) or as forward convolutions. For A/B timing and tests. */
export function setInputGradKernel(on: boolean): void {
  inputGradKernel = on;
}
/** Stride-2 input gradients as one phase-split conv (default) or via the zero-upsampled dy. For A/B timing and tests. */
export function setSubPixelInputGrad(on: boolean): void {
  subPixel = on;
}
/** Forces a gradient path on every backend (null restores the per-backend default). For tests and benchmarks. */
export function setConvGradOverride(p: ConvGradPolicy | null): void {
  override = p;
}

interface Geometry {
  n: number; h: number; w: number; ci: number;
  kh: number; kw: number; co: number;
  oh: number; ow: number;
  sh: number; sw: number;
  top: number; left: number;
}

function geometry(xShape: number[], filterShape: number[], strides: number | [number, number], pad: PadAttr, roundingMode?: 'floor' | 'round' | 'ceil'): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides, 1, pad, roundingMode, false, 'channelsLast',
  );
  return {
    n: xShape[0], h: xShape[1], w: xShape[2], ci: xShape[3],
    kh: filterShape[0], kw: filterShape[1], co: filterShape[3],
    oh: info.outHeight, ow: info.outWidth,
    sh: info.strideHeight, sw: info.strideWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/**
 * conv2d with explicit padding that may be negative on the far (bottom/right) side: a negative pad
 * means the rows are never read, so crop them instead (tfjs rejects negative padding).
 */
function convFarPad(x: tf.Tensor4D, f: tf.Tensor4D, top: number, bottom: number, left: number, right: number, dilations: [number, number]): tf.Tensor4D {
  let input = x;
  if (bottom < 0 || right < 0) {
    const [b, hh, ww, c] = x.shape;
    input = tf.slice(x, [0, 0, 0, 0], [b, hh + Math.min(0, bottom), ww + Math.min(0, right), c]);
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  const padding: Explicit = [[0, 0], [top, bottom], [left, right], [0, 0]];
  const simple = top === 0 && bottom === 0 && left === 0 && right === 0;
  return tf.conv2d(input, f, 1, simple ? 'valid' : padding, 'NHWC', dilations);
}

/** dL/dfilter of y = conv2d(x, filter) (NHWC, dilation 1), computed with forward convolutions. */
export function conv2dFilterGradAsConv(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], strides: number | [number, number], pad: PadAttr, roundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(x.shape, filterShape, strides, pad, roundingMode);
    // Rows/cols of x the forward pass read past the bottom/right edge (padding), or left unread (negative).
    const bottom = g.kh + (g.oh - 1) * g.sh - g.h - g.top;
    const right = g.kw + (g.ow - 1) * g.sw - g.w - g.left;
    if (g.kh === 1 && g.kw === 1 && g.top === 0 && g.left === 0 && bottom <= 0 && right <= 0) {
      // 1×1 without padding: a plain matrix product over the sampled pixels.
      const xs = g.sh === 1 && g.sw === 1 && bottom === 0 && right === 0
        ? x
        : tf.stridedSlice(x, [0, 0, 0, 0], [g.n, (g.oh - 1) * g.sh + 1, (g.ow - 1) * g.sw + 1, g.ci], [1, g.sh, g.sw, 1]) as tf.Tensor4D;
      const m = g.n * g.oh * g.ow;
      return tf.matMul(xs.reshape([m, g.ci]), dy.reshape([m, g.co]), true, false).reshape([1, 1, g.ci, g.co]);
    }
    // [Ci, H, W, N]: channels become the batch. wasm's general 4-D transpose is ~3× slower than a
    // 2-D transpose followed by a block transpose (rows of N floats), so go through those.
    const xt = tf.transpose(tf.transpose(x.reshape([g.n, g.h * g.w * g.ci])).reshape([g.h * g.w, g.ci, g.n]), [1, 0, 2]).reshape([g.ci, g.h, g.w, g.n]) as tf.Tensor4D;
    const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]: dy becomes an OH×OW filter over N
    // Rows/cols the forward never read (negative far padding) are cut from the small output, not
    // from x: wasm's Slice is slow on large tensors.
    let out = convFarPad(xt, dyt, g.top, Math.max(0, bottom), g.left, Math.max(0, right), [g.sh, g.sw]); // [Ci, ≥KH, ≥KW, Co]
    if (out.shape[1] !== g.kh || out.shape[2] !== g.kw) out = tf.slice(out, [0, 0, 0, 0], [g.ci, g.kh, g.kw, g.co]);
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/**
 * filter reversed along KH and KW, as a matMul with the anti-diagonal permutation of the KH·KW
 * taps (exact; wasm's Reverse kernel is ~10× slower on a 3×3×64×64 filter).
 */
function flipTaps(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const t = kh * kw;
  if (t === 1) return filter;
  const perm = new Float32Array(t * t);
  for (let i = 0; i < t; i++) perm[i * t + (t - 1 - i)] = 1;
  return tf.matMul(tf.tensor2d(perm, [t, t]), filter.reshape([t, ci * co])).reshape([kh, kw, ci, co]);
}

/** Inserts (s-1) zeros after every row/column of dy: [N, OH*sh, OW*sw, C] (the trailing zeros included). */
function zeroUpsample(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, oh, ow, c] = dy.shape;
  const six = dy.reshape([n, oh, 1, ow, 1, c]);
  const padded = tf.pad(six, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return padded.reshape([n, oh * sh, ow * sw, c]);
}

/** dL/dx of y = conv2d(x, filter) (NHWC, dilation 1), as a forward convolution. */
export function conv2dInputGradAsConv(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: number[], strides: number | [number, number], pad: PadAttr, roundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const g = geometry(xShape, filter.shape, strides, pad, roundingMode);
    if (g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 && g.oh === g.h && g.ow === g.w) {
      const m = g.n * g.h * g.w;
      return tf.matMul(dy.reshape([m, g.co]), filter.reshape([g.ci, g.co]), false, true).reshape([g.n, g.h, g.w, g.ci]);
    }
    if (subPixel && g.sh === 2 && g.sw === 2 && g.top === 0 && g.left === 0 && g.kh >= 2 && g.kw >= 2 && g.h % 2 === 0 && g.w % 2 === 0) {
      return subPixelInputGrad(dy, filter, g);
    }
    const up = g.sh === 1 && g.sw === 1 ? dy : zeroUpsample(dy, g.sh, g.sw);
    const uh = g.oh * g.sh;
    const uw = g.ow * g.sw;
    const flipped = tf.transpose(flipTaps(filter), [0, 1, 3, 2]); // [KH, KW, Co, Ci]
    const top = g.kh - 1 - g.top;
    const left = g.kw - 1 - g.left;
    // Output must be exactly H×W: H = uh + top + bottom - KH + 1.
    const bottom = g.h - uh - top + g.kh - 1;
    const right = g.w - uw - left + g.kw - 1;
    if (top < 0 || left < 0) throw new Error(`conv input gradient: padding larger than the kernel (${g.top}, ${g.left})`);
    return convFarPad(up, flipped, top, bottom, left, right, [1, 1]);
  });
}

/**
 * Input gradient of a stride-2 'valid' conv without the zero-upsampled dy (3/4 of whose products
 * are with zeros). Row 2u+p of dx collects taps kh = p, p+2, … at dy rows u, u−1, …, so each of the
 * four output phases (row parity, column parity) is a stride-1 "full" correlation of dy with the
 * flipped taps of that parity. All four run as ONE conv whose output channels are the phases
 * (a phase with fewer taps gets zero taps), then a reshape/transpose interleaves them (wasm's
 * DepthToSpace and inner-axis Concat are much slower than that transpose).
 */
function subPixelInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const uh = g.h / 2;
  const uw = g.w / 2;
  const th = Math.ceil(g.kh / 2);
  const tw = Math.ceil(g.kw / 2);
  // Phase p, slot a (0..T−1) holds tap p + 2·(T−1−a), or the zero row appended at index k.
  const slots = (k: number, t: number): number[] => {
    const out: number[] = [];
    for (let p = 0; p < 2; p++) for (let a = 0; a < t; a++) { const kk = p + 2 * (t - 1 - a); out.push(kk < k ? kk : k); }
    return out;
  };
  const padded = tf.pad(filter, [[0, 1], [0, 1], [0, 0], [0, 0]]);
  const rows = tf.gather(padded, tf.tensor1d(slots(g.kh, th), 'int32'), 0); // [2·th, kw+1, Ci, Co]
  const taps = tf.gather(rows, tf.tensor1d(slots(g.kw, tw), 'int32'), 1); // [2·th, 2·tw, Ci, Co]: (ph, a), (pw, b)
  const combined = tf.transpose(taps.reshape([2, th, 2, tw, g.ci, g.co]), [1, 3, 5, 0, 2, 4]).reshape([th, tw, g.co, 4 * g.ci]) as tf.Tensor4D;
  const phases = convFarPad(dy, combined, th - 1, uh - g.oh, tw - 1, uw - g.ow, [1, 1]); // [N, uh, uw, (ph, pw, Ci)]
  return tf.transpose(phases.reshape([g.n, uh, uw, 2, 2, g.ci]), [0, 1, 3, 2, 4, 5]).reshape([g.n, g.h, g.w, g.ci]) as tf.Tensor4D;
}

function stockInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
    strides: attrs.strides, pad: attrs.pad, dataFormat: attrs.dataFormat, dimRoundingMode: attrs.dimRoundingMode, inputShape: xShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

function stockFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: attrs.strides, pad: attrs.pad, dataFormat: attrs.dataFormat, dimRoundingMode: attrs.dimRoundingMode, filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

function isUnitDilation(d: unknown): boolean {
  return d == null || d === 1 || (Array.isArray(d) && d.every((v) => v === 1));
}

/** The replacement gradient for the Conv2D kernel (same contract as tfjs-core's conv2DGradConfig). */
export const conv2dGradConfig: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as { dilations: number | [number, number]; strides: number | [number, number]; pad: PadAttr; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const g = dy as tf.Tensor4D;
    if (!isUnitDilation(a.dilations)) throw new Error('Conv2D gradient: dilation > 1 is not supported (the ResNets never use it)');
    const nhwc = a.dataFormat === 'NHWC' || a.dataFormat === 'channelsLast' || a.dataFormat == null;
    const policy = nhwc ? policyFor(tf.getBackend()) : { filter: 'stock', input: 'stock' };
    return {
      x: () => {
        if (policy.input === 'stock') return stockInputGrad(g, filter, x.shape, a as unknown as Record<string, unknown>);
        // Our transposed-conv kernel reads dy and the filter as they are, visiting only the taps that
        // hit dy; the conv formulation needs a flipped filter and, at stride 2, four phases interleaved.
        if (inputGradKernel && fastKernelsActive() && nhwc && fastInputGradSupports(x.shape[3], a)) return fastConv2dInputGrad(g, filter, x.shape, a.strides, a.pad, a.dimRoundingMode);
        return conv2dInputGradAsConv(g, filter, x.shape, a.strides, a.pad, a.dimRoundingMode);
      },
      filter: () => {
        if (policy.filter === 'stock') return stockFilterGrad(x, g, filter.shape, a as unknown as Record<string, unknown>);
        // Our wasm kernel reads x and dy as they are; the conv formulation transposes both first.
        if (fastKernelsActive() && nhwc && fastConvSupports(filter.shape[3], a)) return fastConv2dFilterGrad(x, g, filter.shape, a.strides, a.pad, a.dimRoundingMode);
        return conv2dFilterGradAsConv(x, g, filter.shape, a.strides, a.pad, a.dimRoundingMode);
      },
    };
  },
};

let installed = false;
/** Registers the replacement gradients (idempotent; the gradient registry is global, not per backend). */
export function installTrainingGradients(): void {
  if (installed) return;
  tf.registerGradient(conv2dGradConfig);
  tf.registerGradient(stridedSliceGradConfig);
  tf.registerGradient(maxPoolGradConfig);
  tf.registerGradient(padGradConfig);
  installWasmKernels();
  setFastKernels(true);
  installed = true;
}
