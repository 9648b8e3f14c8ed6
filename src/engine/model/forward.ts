// Functional forward pass over plain tensors (no tf.layers), so a replica can differentiate with
// respect to any subset of parameters and the input in one backward. Runs on whatever backend is
// active; it uses only kernels present on cpu and wasm (no StridedSlice, whose gradient tfjs lacks).

import * as tf from '@tensorflow/tfjs';
import type { BnSet, ModelLayout, ModelSpec } from '../exec/types';
import { buildLayout, paramIndex } from './layout';
import { describeNet, type BnDef, type ConvDef, type NetDef, type Shortcut } from './net';

/** PyTorch's BatchNorm2d default. */
export const BN_EPS = 1e-5;

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
  const { net } = model;
  const n = x.shape[0];
  if (opts.training && (opts.groupSize < 1 || n % opts.groupSize !== 0)) {
    throw new Error(`BN groupSize ${opts.groupSize} must divide the batch of ${n}`);
  }
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

  const bn = (h: tf.Tensor4D, b: BnDef): tf.Tensor4D => {
    const gamma = p(`${b.name}.${opts.set}.gamma`);
    const beta = p(`${b.name}.${opts.set}.beta`);
    const [N, H, W, C] = h.shape;
    if (!opts.training) {
      const r = state.running[opts.set].get(b.name);
      if (!r) throw new Error(`model: no running statistics for ${b.name}`);
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(r.variance, BN_EPS)));
      const shift = tf.sub(beta, tf.mul(r.mean, scale));
      return tf.add(tf.mul(h, scale), shift);
    }
    const G = N / opts.groupSize;
    // Ghost BN: statistics per consecutive group of groupSize samples, emulating one device each.
    const h5 = tf.reshape(h, [G, opts.groupSize, H, W, C]);
    const { mean, variance } = tf.moments(h5, [1, 2, 3], true);
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
    const shift = tf.sub(beta, tf.mul(mean, scale));
    const y = tf.reshape(tf.add(tf.mul(h5, scale), shift), [N, H, W, C]) as tf.Tensor4D;
    const mG = tf.reshape(mean, [G, C]);
    const vG = tf.reshape(variance, [G, C]);
    stats.set(b.name, G === 1 ? [tf.reshape(mG, [C]), tf.reshape(vG, [C])] : [tf.mean(mG, 0), tf.mean(vG, 0)]);
    return y;
  };

  const shortcut = (h: tf.Tensor4D, s: Shortcut): tf.Tensor4D => {
    if (s.type === 'identity') return h;
    if (s.type === 'proj') return bn(conv(h, s.conv), s.bn);
    let y = s.stride === 2 ? subsample2(h) : h;
    if (s.padBefore > 0 || s.padAfter > 0) y = tf.pad(y, [[0, 0], [0, 0], [0, 0], [s.padBefore, s.padAfter]]);
    return y;
  };

  let h = tf.relu(bn(conv(x, net.stem.conv), net.stem.bn));
  if (net.stem.maxPool) {
    // Zero padding equals PyTorch's -inf padding here because the input is post-ReLU (≥ 0).
    h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D, 3, 2, 'valid');
  }
  for (const b of net.blocks) {
    let y: tf.Tensor4D;
    if (b.type === 'basic') {
      y = tf.relu(bn(conv(h, b.conv1), b.bn1));
      y = bn(conv(y, b.conv2), b.bn2);
    } else {
      y = tf.relu(bn(conv(h, b.conv1), b.bn1));
      y = tf.relu(bn(conv(y, b.conv2), b.bn2));
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

/** x[:, ::2, ::2, :] built from reshape + slice, because tfjs has no gradient for StridedSlice. */
function subsample2(h: tf.Tensor4D): tf.Tensor4D {
  const [N, H, W, C] = h.shape;
  const H2 = Math.ceil(H / 2);
  const W2 = Math.ceil(W / 2);
  let y: tf.Tensor = h;
  if (H % 2 || W % 2) y = tf.pad(y, [[0, 0], [0, H % 2], [0, W % 2], [0, 0]]);
  y = tf.slice(tf.reshape(y, [N * H2, 2, 2 * W2 * C]), [0, 0, 0], [N * H2, 1, 2 * W2 * C]);
  y = tf.slice(tf.reshape(y, [N * H2 * W2, 2, C]), [0, 0, 0], [N * H2 * W2, 1, C]);
  return tf.reshape(y, [N, H2, W2, C]);
}

/**
 * Sum over samples of softmax cross-entropy (unweighted), plus the per-sample targets used.
 * Soft labels (rows summing to 1) replace the one-hot targets when given.
 */
export function crossEntropySum(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))) as tf.Scalar;
}
