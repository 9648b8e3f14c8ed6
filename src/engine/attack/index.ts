// Attack configuration helpers for the trainer and evaluation. The attack itself runs inside a
// Replica pass (src/engine/exec/replica.ts); everything random is drawn here, by the trainer's Rng,
// so results do not depend on which worker ran a pass.

import type { AttackConfig, RandomStartMode } from '../../shared/config';
import type { AttackSpec, BnSet, Replica } from '../exec/types';
import type { Rng } from '../util/rng';

/** Reference normalisation: images live in [-1, 1]. */
export const INPUT_LO = -1;
export const INPUT_HI = 1;

/** Config units (1/255 of the [0,1] pixel range) → [-1, 1] input space: 1.0 → 2/255. */
export function epsilonToInputSpace(pixelUnits: number): number {
  return (pixelUnits * 2) / 255;
}

/** The reference's step rule: max(step, eps / K), in whatever units both are given. */
export function effectiveStepSize(step: number, eps: number, k: number): number {
  if (!(k >= 1)) throw new Error(`attack.steps must be ≥ 1, got ${k}`);
  return Math.max(step, eps / k);
}

/** Uniform random start in [-eps, eps], n values (N·H·W·C), drawn in order from rng. */
export function drawRandomStart(rng: Rng, n: number, eps: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-eps, eps);
  return out;
}

/** Probability that the reference switches the random start on for a batch: P(N(0,1) > 0.2). */
export const REFERENCE_RANDOM_START_P = 0.5 * (1 - erf(0.2 / Math.SQRT2));

/**
 * Whether this batch's attack starts from random noise. 'reference' reproduces the authors' code,
 * which draws N(0,1) per batch and adds noise when it exceeds 0.2 (p ≈ 0.42). Only 'reference'
 * consumes a draw, so switching between 'always' and 'never' does not shift the stream.
 */
export function randomStartActive(mode: RandomStartMode, rng: Rng): boolean {
  switch (mode) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'reference':
      return rng.normal() > 0.2;
    default:
      throw new Error(`attack.randomStart: unknown mode "${String(mode)}"; use always, never or reference`);
  }
}

/**
 * The reference AdvProp's random target, (label + randint(0, C)) mod C (attacker.py
 * _create_random_target): uniform over all C classes, so with probability 1/C the "target" is the
 * true label and that image's attack descends its own loss. Kept as the reference has it, for the
 * baseline; drawTargetLabels never picks the true label.
 */
export function drawReferenceTargets(rng: Rng, labels: Int32Array, numClasses: number): Int32Array {
  if (numClasses < 2) throw new Error('targeted attacks need at least 2 classes');
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = (labels[i] + rng.int(numClasses)) % numClasses;
  return out;
}

/** A uniformly random label different from each true label (for targeted attacks). */
export function drawTargetLabels(rng: Rng, labels: Int32Array, numClasses: number): Int32Array {
  if (numClasses < 2) throw new Error('targeted attacks need at least 2 classes');
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const t = rng.int(numClasses - 1);
    out[i] = t >= labels[i] ? t + 1 : t;
  }
  return out;
}

/**
 * AttackSpec in input space from the run config's attack section (pixel units). The caller draws
 * noise / target labels (see randomStartActive, drawRandomStart, drawTargetLabels) and passes them.
 */
export function makeAttackSpec(
  cfg: Pick<AttackConfig, 'steps' | 'epsilon' | 'stepSize'>,
  extra: { reuseGradients: boolean; noise?: Float32Array; targetLabels?: Int32Array },
): AttackSpec {
  const spec: AttackSpec = {
    steps: cfg.steps,
    epsilon: epsilonToInputSpace(cfg.epsilon),
    stepSize: epsilonToInputSpace(effectiveStepSize(cfg.stepSize, cfg.epsilon, cfg.steps)),
    lo: INPUT_LO,
    hi: INPUT_HI,
    reuseGradients: extra.reuseGradients,
  };
  if (extra.noise) spec.noise = extra.noise;
  if (extra.targetLabels) spec.targetLabels = extra.targetLabels;
  return spec;
}

export interface PgdOptions {
  /** All in [-1, 1] input space (convert config units with epsilonToInputSpace). */
  steps: number;
  epsilon: number;
  stepSize: number;
  lo?: number;
  hi?: number;
  /** Random start for all images (N·H·W·C), already drawn. */
  noise?: Float32Array;
  targetLabels?: Int32Array;
  /** BN set; evaluation attacks the deployed model, i.e. the main BN (default). */
  bn?: BnSet;
  /** Images per runPass, to bound memory on large evaluation sets (default: all at once). */
  batchSize?: number;
}

export interface PgdResult {
  advImages: Float32Array;
  /** Unweighted summed CE and top-1 hits against the true labels, on the adversarial images. */
  lossSum: number;
  correct: number;
  count: number;
  logits: Float32Array;
}

/**
 * PGD-K against the model in eval mode (running statistics of `bn`, main by default), then one
 * eval forward on the result. Costs K+1 forwards and K input-only backwards per image.
 */
export function pgdAttack(replica: Replica, images: Float32Array, labels: Int32Array, opts: PgdOptions): PgdResult {
  const count = labels.length;
  if (count === 0) return { advImages: new Float32Array(0), lossSum: 0, correct: 0, count: 0, logits: new Float32Array(0) };
  const px = images.length / count;
  if (!Number.isInteger(px)) throw new Error(`pgdAttack: ${images.length} image values do not split into ${count} images`);
  const bs = Math.max(1, Math.min(opts.batchSize ?? count, count));
  const advImages = new Float32Array(images.length);
  let logits: Float32Array | undefined;
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < count; s += bs) {
    const e = Math.min(count, s + bs);
    const n = e - s;
    const imgs = images.subarray(s * px, e * px);
    const labs = labels.subarray(s, e);
    const attack: AttackSpec = {
      steps: opts.steps,
      epsilon: opts.epsilon,
      stepSize: opts.stepSize,
      lo: opts.lo ?? INPUT_LO,
      hi: opts.hi ?? INPUT_HI,
      reuseGradients: false,
    };
    if (opts.noise) attack.noise = opts.noise.subarray(s * px, e * px);
    if (opts.targetLabels) attack.targetLabels = opts.targetLabels.subarray(s, e);
    const base = { count: n, labels: labs, bn: opts.bn ?? 'main', training: false, groupSize: n, lossWeight: 1, paramGrads: false } as const;
    const adv = replica.runPass({ ...base, images: imgs, attack }).advImages!;
    const ev = replica.runPass({ ...base, images: adv });
    advImages.set(adv, s * px);
    const k = ev.logits!.length / n;
    if (!logits) logits = new Float32Array(count * k);
    logits.set(ev.logits!, s * k);
    lossSum += ev.lossSum;
    correct += ev.correct;
  }
  return { advImages, lossSum, correct, count, logits: logits! };
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough for a documented probability. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496735) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
