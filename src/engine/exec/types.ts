// The compute contract. The trainer (src/engine/train) owns the algorithm and the master state
// (weights, momentum, BN running statistics, RNG) as plain Float32Arrays; it asks an Executor to
// run "passes" — forward/backward of a batch through one BN set — and gets gradients back.
// An Executor is either one in-process Replica or a pool of worker threads, each holding a
// Replica on its own backend. Because every pass is split only at BN-group boundaries and all
// randomness is drawn by the trainer and shipped in the request, results do not depend on how
// many workers ran them (up to float summation order).

export type { BnLayerInfo, BnSet, ModelLayout, ModelSpec, ParamGroup, ParamInfo } from '../model/types';
import type { BnSet, ModelLayout } from '../model/types';

export interface AttackSpec {
  /** K. */
  steps: number;
  /** In [-1, 1] input space (i.e. already ×2/255 from the config's pixel units). */
  epsilon: number;
  stepSize: number;
  /** Input range limits, -1 and 1 for the reference normalisation. */
  lo: number;
  hi: number;
  /** Random start, already drawn by the trainer (uniform in [-eps, eps]) or absent. N*H*W*C. */
  noise?: Float32Array;
  /** Targeted attack: descend the loss of these labels instead of ascending the true one. */
  targetLabels?: Int32Array;
  /** Gradient reuse: accumulate parameter gradients of every attack step (weighted by lossWeight). */
  reuseGradients: boolean;
  /**
   * BN mode of the attack's forwards when it differs from the request's: false attacks with the
   * running statistics (the reference AdvProp's default, model.eval() during the attack) while
   * the final pass still trains with batch statistics. Absent: the request's `training`.
   */
  bnTraining?: boolean;
}

export interface PassRequest {
  /** N*H*W*C images scaled to [-1, 1]. */
  images: Float32Array;
  count: number;
  labels: Int32Array;
  /** Optional soft labels (mixup / cutmix), N*numClasses, rows sum to 1. */
  softLabels?: Float32Array;
  bn: BnSet;
  /** true: batch statistics (per group) and running-stat outputs; false: running statistics. */
  training: boolean;
  /** BN statistics are computed per consecutive group of this many samples. count % groupSize === 0. */
  groupSize: number;
  /** Multiplies the per-sample summed loss before differentiation. */
  lossWeight: number;
  /** Compute parameter gradients of the (final, or only) forward pass. */
  paramGrads: boolean;
  /** When present, first run the attack on the images, then (if paramGrads) the pass on the result. */
  attack?: AttackSpec;
  /**
   * Set by the pool only: this request is one member's share of BN groups split across workers
   * (backend/bnTeam.ts). Its groupSize is the share's; batch statistics are the whole group's.
   */
  team?: import('../backend/bnTeam').BnTeam;
}

export interface BatchStats {
  /** Per BN layer of the pass's set, mean then biased var (channels each), averaged over groups, in layout order of that set. */
  values: Float32Array;
  /** Unbiased-variance correction n/(n-1) uses this group size. */
  groupSize: number;
  groups: number;
}

export interface PassResult {
  /** Sum over samples of lossWeight × loss gradients, flat in layout order (zeros for untouched params); absent if none were asked. */
  grads?: Float32Array;
  /** Sum over samples of the (unweighted) loss of the final forward. */
  lossSum: number;
  correct: number;
  count: number;
  /** Statistics of every training-mode forward, in the order they ran (K attack steps, then the final pass). */
  bnStats: BatchStats[];
  /** Attack output (the adversarial images), when an attack ran. */
  advImages?: Float32Array;
  /** Loss and correct count of the first attack forward (the "noise" stream of the reference). */
  attackLossSum?: number;
  attackCorrect?: number;
  /** Logits of the final forward, N*numClasses (only for eval passes without gradients). */
  logits?: Float32Array;
}

export interface Executor {
  readonly layout: ModelLayout;
  readonly workers: number;
  readonly backend: import('../../shared/runFormat').BackendInfo;
  /** Installs master weights and running statistics on every replica before the next passes. */
  setState(params: Float32Array, running: Float32Array): Promise<void>;
  /** Runs passes (concurrently where possible) and returns their results in order. */
  run(requests: PassRequest[]): Promise<PassResult[]>;
  dispose(): Promise<void>;
}

/** What runs passes on one backend in one thread (src/engine/exec/replica.ts implements it). */
export interface Replica {
  readonly layout: ModelLayout;
  setState(params: Float32Array, running: Float32Array): void;
  /** On backends that can read tensors synchronously (cpu, wasm, tensorflow); throws on webgpu. */
  runPass(req: PassRequest): PassResult;
  /** On every backend; the only way on webgpu. Same results as runPass. */
  runPassAsync(req: PassRequest): Promise<PassResult>;
  dispose(): void;
}
