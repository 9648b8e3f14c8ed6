// Functional forward pass over plain tensors (no tf.layers), so a replica can differentiate with
// respect to any subset of parameters and the input in one backward. Runs on whatever backend is
// active; it uses only kernels present on cpu and wasm (no StridedSlice, whose gradient tfjs lacks).

import * as tf from '@tensorflow/tfjs';
import type { BnSet, ModelLayout, ModelSpec } from './types';
import { bnTeam } from '../backend/bnTeam';
import { fastBatchNormBackward, fastBatchNormForward, fastBatchNormSupports, fastKernelsActive } from '../backend/fastKernels';
import { buildLayout, paramIndex } from './layout';
import { describeNet, type BnDef, type ConvDef, type NetDef, type Shortcut } from './net';

/** PyTorch's BatchNorm2d default. */
export const BN_EPS = 1e-5;

/**
 * How training-mode BN is computed: 'fused' (default) is one custom-gradient op per BN (+ReLU) with
 * matMul reductions (batchNormTrain); 'moments' is the plain tf.moments composition, whose gradient
 * tfjs derives op by op. Both give the same values; the switch exists for A/B timing and tests.
 */
export type BnImpl = 'fused' | 'moments';
let bnImpl: BnImpl = 'fused';
export function setBnImpl(impl: BnImpl): void {
  bnImpl = impl;
}

export interface CompiledModel {
  spec: ModelSpec;
  net: NetDef;
  layout: ModelLayout;
  index: Map<string, number>;
  /** Layout-order names of the BN layers (one per dual BN). */
  bnNames: string[];
}

export function compileModel(spec: ModelSpec): CompiledModel {
  const layout = buildLayout(spec);
  const net = describeNet(spec);
  const bnNames = layout.bnLayers.filter((l) => l.set === 'main').map((l) => l.name);
  return { spec, net, layout, index: paramIndex(layout), bnNames };
}

export interface ForwardState {
  /** One tensor per layout parameter, in layout order, shaped as ParamInfo.shape. */
  params: tf.Tensor[];
  /** Running mean and variance per BN layer name, for each set (only read in eval mode). */
  running: Record<BnSet, Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>>;
}

export interface ForwardOptions {
  set: BnSet;
  training: boolean;
  /** Ghost-BN group size (training mode only); must divide the batch. */
  groupSize: number;
}

export interface ForwardOutput {
  logits: tf.Tensor2D;
  /**
   * Training mode only: the batch statistics of every BN layer of the set in layout order,
   * mean then biased variance ([C] each, averaged over the ghost groups), concatenated.
   */
  stats?: tf.Tensor1D;
}

export function forward(model: CompiledModel, state: ForwardState, x: tf.Tensor4D, opts: ForwardOptions): ForwardOutput {
  const n = x.shape[0];
  if (opts.training && (opts.groupSize < 1 || n % opts.groupSize !== 0)) {
    throw new Error(`BN groupSize ${opts.groupSize} must divide the batch of ${n}`);
  }
  // Per-group statistics the fused BN kept out of its kernel scope; disposed once concatenated.
  const keptStats: tf.Tensor[] = [];
  try {
    return forwardImpl(model, state, x, opts, keptStats);
  } finally {
    for (const t of keptStats) t.dispose();
  }
}

function forwardImpl(model: CompiledModel, state: ForwardState, x: tf.Tensor4D, opts: ForwardOptions, keptStats: tf.Tensor[]): ForwardOutput {
  const { net } = model;
  const n = x.shape[0];
  const stats = new Map<string, tf.Tensor1D[]>();
  const p = (name: string): tf.Tensor => {
    const i = model.index.get(name);
    if (i === undefined) throw new Error(`model: no parameter ${name}`);
    return state.params[i];
  };

  const conv = (h: tf.Tensor4D, c: ConvDef): tf.Tensor4D => {
    const w = p(`${c.name}.w`) as tf.Tensor4D;
    if (c.stride === 1) return tf.conv2d(h, w, 1, 'same');
    // PyTorch-style symmetric padding for strided convs: TF 'same' pads only at the end, which
    // would put the conv one pixel off the option-A subsample (rows 0, 2, 4 …) of the shortcut.
    const pad = (c.k - 1) >> 1;
    const hp = pad > 0 ? tf.pad(h, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : h;
    return tf.conv2d(hp, w, c.stride, 'valid');
  };

  const bn = (h: tf.Tensor4D, b: BnDef, relu = false): tf.Tensor4D => {
    const gamma = p(`${b.name}.${opts.set}.gamma`);
    const beta = p(`${b.name}.${opts.set}.beta`);
    const [N, H, W, C] = h.shape;
    if (!opts.training) {
      const r = state.running[opts.set].get(b.name);
      if (!r) throw new Error(`model: no running statistics for ${b.name}`);
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(r.variance, BN_EPS)));
      const shift = tf.sub(beta, tf.mul(r.mean, scale));
      const y = tf.add(tf.mul(h, scale), shift) as tf.Tensor4D;
      return relu ? tf.relu(y) : y;
    }
    const G = N / opts.groupSize;
    if (bnImpl === 'fused') {
      const { y, mean, variance } = batchNormTrain(h, gamma, beta, G, relu);
      keptStats.push(mean, variance);
      stats.set(b.name, G === 1 ? [tf.reshape(mean, [C]), tf.reshape(variance, [C])] : [tf.mean(tf.reshape(mean, [G, C]), 0), tf.mean(tf.reshape(variance, [G, C]), 0)]);
      return y;
    }
    // Ghost BN: statistics per consecutive group of groupSize samples, emulating one device each.
    if (bnTeam()) throw new Error('BN: a group split across workers needs the fused BN op (setBnImpl("fused"))');
    const h5 = tf.reshape(h, [G, opts.groupSize, H, W, C]);
    const { mean, variance } = tf.moments(h5, [1, 2, 3], true);
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
    const shift = tf.sub(beta, tf.mul(mean, scale));
    const y = tf.reshape(tf.add(tf.mul(h5, scale), shift), [N, H, W, C]) as tf.Tensor4D;
    const mG = tf.reshape(mean, [G, C]);
    const vG = tf.reshape(variance, [G, C]);
    stats.set(b.name, G === 1 ? [tf.reshape(mG, [C]), tf.reshape(vG, [C])] : [tf.mean(mG, 0), tf.mean(vG, 0)]);
    return relu ? tf.relu(y) : y;
  };

  const shortcut = (h: tf.Tensor4D, s: Shortcut): tf.Tensor4D => {
    if (s.type === 'identity') return h;
    if (s.type === 'proj') return bn(conv(h, s.conv), s.bn);
    let y = s.stride === 2 ? subsample2(h) : h;
    if (s.padBefore > 0 || s.padAfter > 0) y = tf.pad(y, [[0, 0], [0, 0], [0, 0], [s.padBefore, s.padAfter]]);
    return y;
  };

  let h = bn(conv(x, net.stem.conv), net.stem.bn, true);
  if (net.stem.maxPool) {
    // Zero padding equals PyTorch's -inf padding here because the input is post-ReLU (≥ 0).
    h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D, 3, 2, 'valid');
  }
  for (const b of net.blocks) {
    let y: tf.Tensor4D;
    if (b.type === 'basic') {
      y = bn(conv(h, b.conv1), b.bn1, true);
      y = bn(conv(y, b.conv2), b.bn2);
    } else {
      y = bn(conv(h, b.conv1), b.bn1, true);
      y = bn(conv(y, b.conv2), b.bn2, true);
      y = bn(conv(y, b.conv3), b.bn3);
    }
    h = tf.relu(tf.add(y, shortcut(h, b.shortcut))) as tf.Tensor4D;
  }
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(pooled, p(`${net.fc.name}.w`) as tf.Tensor2D), p(`${net.fc.name}.b`)) as tf.Tensor2D;
  if (!opts.training) return { logits };
  const parts: tf.Tensor1D[] = [];
  for (const name of model.bnNames) {
    const s = stats.get(name);
    if (!s) throw new Error(`model: BN layer ${name} did not run`);
    parts.push(s[0], s[1]);
  }
  return { logits, stats: tf.concat(parts) };
}

/**
 * Per-group sums over the rows of x [G, M, C] → [G, 1, C], as a matMul with a row of ones (several
 * times faster on wasm than tf.sum over a middle axis, which transposes first).
 */
function groupSum(x: tf.Tensor3D): tf.Tensor3D {
  const M = x.shape[1];
  if (x.shape[0] === 1) return tf.reshape(tf.matMul(tf.ones([1, M]), tf.reshape(x, [M, x.shape[2]])), [1, 1, x.shape[2]]);
  return tf.matMul(tf.ones([1, 1, M]), x);
}

/**
 * Training-mode ghost batch norm (+ optional ReLU) over G consecutive groups of h [N, H, W, C], as
 * one op with a hand-written gradient. tfjs would otherwise differentiate the tf.moments
 * composition op by op (~25 kernels per BN, each saving and broadcasting full-size tensors). With
 * d = h − mean_g, r = rsqrt(var_g + eps), k = gamma·r and g the (ReLU-masked) output gradient:
 *   dbeta = Σ g,  dgamma = Σ_groups r·Σ g·d,
 *   dh = k·(g − Σ_g g / M − d·r²·Σ_g (g·d) / M)      (M = samples per group × H × W).
 * Returns y and the per-group mean and biased variance [G, 1, C]; those two are tf.keep()-ed
 * (they are made inside the op's own scope) and the caller disposes them.
 */
export function batchNormTrain(h: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, G: number, relu: boolean): { y: tf.Tensor4D; mean: tf.Tensor3D; variance: tf.Tensor3D } {
  const [N, H, W, C] = h.shape;
  if (fastKernelsActive() && fastBatchNormSupports(C)) return batchNormTrainFast(h, gamma, beta, G, relu);
  // Only our BN kernels reduce a group split across workers; this path would use the local share's statistics.
  if (bnTeam()) throw new Error(`BN: a group split across workers needs our wasm BN kernels (wasm backend, channels a multiple of 4; got ${tf.getBackend()}, ${C} channels)`);
  const M = (N / G) * H * W;
  let mean: tf.Tensor3D | null = null;
  let variance: tf.Tensor3D | null = null;
  const op = tf.customGrad(((hIn: tf.Tensor, gIn: tf.Tensor, bIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const hr = tf.reshape(hIn, [G, M, C]) as tf.Tensor3D;
    const mu = tf.div(groupSum(hr), M) as tf.Tensor3D;
    const d = tf.sub(hr, mu) as tf.Tensor3D;
    const v = tf.div(groupSum(tf.mul(d, d) as tf.Tensor3D), M) as tf.Tensor3D;
    const r = tf.rsqrt(tf.add(v, BN_EPS));
    const k = tf.mul(gIn, r);
    let z = tf.add(tf.mul(d, k), bIn);
    if (relu) z = tf.relu(z);
    const y = tf.reshape(z, [N, H, W, C]);
    mean = tf.keep(mu);
    variance = tf.keep(v);
    save([d, r, k, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sd, sr, sk, sy] = saved;
        let g = tf.reshape(dy as tf.Tensor, [G, M, C]) as tf.Tensor3D;
        if (relu) g = tf.mul(g, tf.step(tf.reshape(sy, [G, M, C]))) as tf.Tensor3D;
        const sg = groupSum(g); // [G, 1, C]
        const sgd = groupSum(tf.mul(g, sd) as tf.Tensor3D);
        const dbeta = tf.reshape(G === 1 ? sg : tf.sum(sg, 0), [C]);
        const rsgd = tf.mul(sr, sgd);
        const dgamma = tf.reshape(G === 1 ? rsgd : tf.sum(rsgd, 0), [C]);
        const a = tf.mul(tf.mul(sk, tf.mul(sr, rsgd)), -1 / M); // −k·r²·Σ(g·d)/M
        const b = tf.mul(tf.mul(sk, sg), -1 / M); // −k·Σg/M
        const dh = tf.add(tf.add(tf.mul(g, sk), tf.mul(sd, a)), b);
        return [tf.reshape(dh, [N, H, W, C]), dgamma, dbeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(h, gamma, beta) as tf.Tensor4D;
  return { y, mean: mean!, variance: variance! };
}

/** batchNormTrain on our wasm kernels: the same op in two passes over h forward and two backward. */
function batchNormTrainFast(h: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, G: number, relu: boolean): { y: tf.Tensor4D; mean: tf.Tensor3D; variance: tf.Tensor3D } {
  const C = h.shape[3];
  let mean: tf.Tensor3D | null = null;
  let variance: tf.Tensor3D | null = null;
  const op = tf.customGrad(((hIn: tf.Tensor4D, gIn: tf.Tensor, bIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const f = fastBatchNormForward(hIn, gIn, bIn, G, relu, BN_EPS);
    mean = tf.keep(tf.reshape(f.mean, [G, 1, C]) as tf.Tensor3D);
    variance = tf.keep(tf.reshape(f.variance, [G, 1, C]) as tf.Tensor3D);
    save([hIn, gIn, f.y, f.mean, f.rstd]);
    return {
      value: f.y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sh, sg, sy, smean, srstd] = saved;
        return fastBatchNormBackward(dy as tf.Tensor, sy, sh, smean, srstd, sg, G, relu);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(h, gamma, beta) as tf.Tensor4D;
  return { y, mean: mean!, variance: variance! };
}

/**
 * x[:, ::2, ::2, :] (the option-A shortcut's subsample) with a hand-written gradient. The forward is
 * a 1×1 stride-2 depthwise conv with a kernel of ones (exact: one product with 1 per output), the
 * gradient zero-interleaves dy with one pad; both are much faster on wasm than the reshape + slice
 * formulation (tfjs has no StridedSlice gradient, and wasm's Slice is slow on large tensors).
 */
function subsample2(h: tf.Tensor4D): tf.Tensor4D {
  const [N, H, W, C] = h.shape;
  const H2 = Math.ceil(H / 2);
  const W2 = Math.ceil(W / 2);
  const op = tf.customGrad(((x: tf.Tensor4D) => {
    const y = tf.depthwiseConv2d(x, tf.ones([1, 1, C, 1]) as tf.Tensor4D, 2, 'valid');
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        let g: tf.Tensor;
        if (tf.getBackend() === 'webgpu') {
          // tfjs-backend-webgpu 4.22 compiles a rank-6 pad to invalid WGSL (its output stays zero):
          // interleave columns, then rows, with two rank-4 pads instead.
          const cols = tf.pad(tf.reshape(dy as tf.Tensor, [N * H2, W2, 1, C]), [[0, 0], [0, 0], [0, 1], [0, 0]]);
          const rows = tf.pad(tf.reshape(cols, [N * H2, 1, 2 * W2, C]), [[0, 0], [0, 1], [0, 0], [0, 0]]);
          g = tf.reshape(rows, [N, 2 * H2, 2 * W2, C]);
        } else {
          const six = tf.reshape(dy as tf.Tensor, [N, H2, 1, W2, 1, C]);
          g = tf.reshape(tf.pad(six, [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]), [N, 2 * H2, 2 * W2, C]);
        }
        if (2 * H2 !== H || 2 * W2 !== W) g = tf.slice(g, [0, 0, 0, 0], [N, H, W, C]);
        return g;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h) as tf.Tensor4D;
}

/**
 * Sum over samples of softmax cross-entropy (unweighted), plus the per-sample targets used.
 * Soft labels (rows summing to 1) replace the one-hot targets when given.
 */
export function crossEntropySum(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))) as tf.Scalar;
}
