import { createHash } from 'node:crypto';
import { ADVPROP_REFERENCE, type AdvPropConfig, type RunConfig } from '../../shared/config';
import type { LeakFlag, MetricsRecord, StreamStats } from '../../shared/runFormat';
import { drawRandomStart, drawReferenceTargets, drawTargetLabels, epsilonToInputSpace, makeAttackSpec, randomStartActive } from '../attack';
import { cutmix, DEFAULT_PAD, epochOrder, makeBatch, mixup } from '../data/augment';
import { StepPrefetch, toUnitFloats, type StreamLoader } from '../data/streamLoader';
import { isFileDataset, type AnyDataset, type Dataset } from '../data/types';
import type { AttackSpec, Executor, ModelLayout, ParamGroup, PassRequest, PassResult } from '../exec/types';
import type { CheckpointState } from '../run/checkpoint';
import { Rng, type RngState } from '../util/rng';
import { updateRunningStats } from './bnRunning';
import { evaluateClean, type EvalResult } from './evaluate';
import { newLeakState, updateLeak, type LeakState } from './leak';
import type { TrainPlan } from './plan';
import { lrAtEpoch } from './schedule';
import { sgdNonFiniteIndex, sgdStep } from './sgd';
import { crossGroupPermutation, permuteRows } from './shuffle';

// The training loop as orchestration of executor passes. The trainer owns the master state
// (flat weights, momentum, BN running statistics, RNG) so that a checkpoint is a plain copy of
// it and results do not depend on how the executor spreads passes over workers.

/** A non-finite loss or gradient: the run stops as failed, keeping the last good checkpoint. */
export class DivergenceError extends Error {
  constructor(readonly step: number, readonly stream: string, message: string) {
    super(message);
    this.name = 'DivergenceError';
  }
}

export type CheckpointReason = 'epoch' | 'milestone' | 'stop' | 'final';

export interface TrainerHooks {
  /** Every metrics record (step, epoch, event), in order. `sync` asks for an fsync (epoch ends). */
  record?(rec: MetricsRecord, sync: boolean): void;
  progress?(p: { epoch: number; step: number; totalSteps: number; imagesPerSecond: number; etaSeconds: number; line: string; leak?: LeakFlag }): void;
  checkpoint?(state: CheckpointState, reason: CheckpointReason): void;
  log?(line: string): void;
}

export interface TrainerOptions {
  config: RunConfig;
  plan: TrainPlan;
  executor: Executor;
  train: AnyDataset;
  test: AnyDataset;
  /** Required when train or test is a streamed folder: the decode threads that feed them. */
  loader?: StreamLoader;
  /** Initial weights and running statistics (both BN sets). */
  params: Float32Array;
  running: Float32Array;
  /** BN layer name → H·W, for the unbiased running variance (bnSpatialSizes). */
  bnSpatial?: ReadonlyMap<string, number>;
  hooks?: TrainerHooks;
  /** Polled between steps: true finishes the current step, checkpoints and stops. */
  shouldStop?: () => boolean;
  now?: () => number;
}

export interface TrainOutcome {
  state: 'completed' | 'stopped';
  step: number;
  epoch: number;
  test?: EvalResult;
  passes: { clean: number; attack: number; adv: number };
  trainSeconds: number;
  imagesPerSecond: number;
  leak?: LeakFlag;
}

interface StreamAcc {
  lossSum: number;
  correct: number;
  count: number;
}

function acc0(): StreamAcc {
  return { lossSum: 0, correct: 0, count: 0 };
}

function addAcc(a: StreamAcc, lossSum: number, correct: number, count: number): void {
  a.lossSum += lossSum;
  a.correct += correct;
  a.count += count;
}

function streamStats(a: StreamAcc): StreamStats {
  return { loss: a.count ? a.lossSum / a.count : NaN, acc: a.count ? a.correct / a.count : NaN, images: a.count };
}

/**
 * What determines the weights: a checkpoint continues only a run whose hash it carries. Where the
 * data lives (dataset.path) does not change them, so a moved dataset can be re-pointed on resume
 * (`--dataset-path`) without losing the run; its shape is checked against config.json instead.
 */
export function configHash(config: RunConfig): string {
  const { maxSteps: _m, backend: _b, workers: _w, name: _n, autoEvaluate: _a, logEvery: _l, ...rest } = config;
  // Decode threads and look-ahead change the speed of a streamed run, not its images.
  const { path: _p, workers: _dw, prefetch: _dp, ...dataset } = rest.dataset;
  return createHash('sha256').update(JSON.stringify({ ...rest, dataset })).digest('hex').slice(0, 16);
}

/** The hash checkpoints written before dataset.path was left out carry (the same for the embedded dataset). */
export function legacyConfigHash(config: RunConfig): string {
  const { maxSteps: _m, backend: _b, workers: _w, name: _n, autoEvaluate: _a, logEvery: _l, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** True when a checkpoint carrying `hash` was written by a run with this config. */
export function checkpointFits(hash: string, config: RunConfig): boolean {
  return hash === configHash(config) || hash === legacyConfigHash(config);
}

export interface StepBreakdown {
  /** Summed (weighted) gradients of each pass, before division. */
  parts: { name: 'clean' | 'noise' | 'adv'; bn: 'main' | 'aux'; grads: Float32Array }[];
  /** The combined, divided gradient handed to SGD. */
  grad: Float32Array;
}

export class Trainer {
  readonly params: Float32Array;
  readonly running: Float32Array;
  readonly momentum: Float32Array;
  step = 0;
  private rng: Rng;
  private readonly layout: ModelLayout;
  private readonly px: number;
  private readonly divisorPerParam: Float32Array;
  private readonly groupOf: Uint8Array;
  private passes = { clean: 0, attack: 0, adv: 0 };
  private epochAcc = acc0();
  private epochSeconds = 0;
  private trainSeconds = 0;
  private leakState: LeakState = newLeakState();
  private lastLeak: LeakFlag | undefined;
  private interval = { clean: acc0(), noise: acc0(), adv: acc0(), loss: 0, steps: 0, seconds: 0, images: 0, dataWait: 0 };
  private readonly prefetch: StepPrefetch | undefined;
  private orderCache: { epoch: number; order: Int32Array } | undefined;
  private readonly now: () => number;
  /** Set by tests: the last step's gradient parts (costs a copy per pass). */
  keepBreakdown = false;
  lastBreakdown: StepBreakdown | undefined;

  constructor(private readonly o: TrainerOptions) {
    this.layout = o.executor.layout;
    if (o.params.length !== this.layout.paramCount || o.running.length !== this.layout.runningCount) {
      throw new Error(`initial state does not match the model layout (params ${o.params.length}/${this.layout.paramCount}, running ${o.running.length}/${this.layout.runningCount})`);
    }
    this.params = Float32Array.from(o.params);
    this.running = Float32Array.from(o.running);
    this.momentum = new Float32Array(this.params.length);
    this.rng = Rng.derive(o.config.seed, 'train');
    if ((isFileDataset(o.train) || isFileDataset(o.test)) && !o.loader) throw new Error('a streamed dataset needs its image loader (TrainerOptions.loader)');
    if (isFileDataset(o.train)) {
      this.prefetch = new StepPrefetch(o.loader!, o.train, {
        seed: o.config.seed, imagesPerStep: o.plan.imagesPerStep, stepsPerEpoch: o.plan.stepsPerEpoch, depth: o.train.stream.prefetch, now: o.now,
      });
    }
    this.px = o.train.height * o.train.width * o.train.channels;
    this.now = o.now ?? (() => performance.now() / 1000);
    const codes: Record<ParamGroup, number> = { shared: 0, clean: 1, adv: 2 };
    const div = [o.plan.divisors.shared, o.plan.divisors.clean, o.plan.divisors.adv];
    this.groupOf = new Uint8Array(this.layout.paramCount);
    this.divisorPerParam = new Float32Array(this.layout.paramCount);
    for (const p of this.layout.params) {
      this.groupOf.fill(codes[p.group], p.offset, p.offset + p.size);
      this.divisorPerParam.fill(div[codes[p.group]], p.offset, p.offset + p.size);
    }
  }

  get epoch(): number {
    return Math.floor(this.step / this.o.plan.stepsPerEpoch);
  }

  /** Restores a checkpoint taken by `snapshot` (weights, momentum, RNG and bookkeeping). */
  restore(s: CheckpointState): void {
    if (!checkpointFits(s.configHash, this.o.config)) {
      throw new Error(`checkpoint was written for a different config (hash ${s.configHash}, this run ${configHash(this.o.config)}); resume with the run's own config.json`);
    }
    if (s.params.length !== this.params.length || s.running.length !== this.running.length || s.momentum.length !== this.momentum.length) {
      throw new Error('checkpoint does not match the model layout (different architecture or dataset shape)');
    }
    this.params.set(s.params);
    this.running.set(s.running);
    this.momentum.set(s.momentum);
    this.step = s.step;
    this.rng.setState(s.rng.train);
    const x = s.extra as { passes?: TrainOutcome['passes']; epochAcc?: StreamAcc; epochSeconds?: number; trainSeconds?: number; leak?: LeakState; lastLeak?: LeakFlag };
    if (x.passes) this.passes = { ...x.passes };
    if (x.epochAcc) this.epochAcc = { ...x.epochAcc };
    this.epochSeconds = x.epochSeconds ?? 0;
    this.trainSeconds = x.trainSeconds ?? 0;
    if (x.leak) this.leakState = x.leak;
    this.lastLeak = x.lastLeak;
  }

  snapshot(): CheckpointState {
    return {
      step: this.step,
      epoch: this.epoch,
      params: Float32Array.from(this.params),
      running: Float32Array.from(this.running),
      momentum: Float32Array.from(this.momentum),
      rng: { train: this.rng.getState() as RngState },
      configHash: configHash(this.o.config),
      extra: {
        passes: this.passes, epochAcc: this.epochAcc, epochSeconds: this.epochSeconds, trainSeconds: this.trainSeconds,
        leak: this.leakState, lastLeak: this.lastLeak,
      },
    };
  }

  private order(epoch: number): Int32Array {
    // Derived from (seed, epoch) alone, so a run resumed mid-epoch visits the same images.
    if (this.orderCache?.epoch !== epoch) this.orderCache = { epoch, order: epochOrder(this.o.train.count, Rng.derive(this.o.config.seed, `epoch-${epoch}`)) };
    return this.orderCache.order;
  }

  private batchOf(indices: Int32Array): { images: Float32Array; labels: Int32Array } {
    const a = this.o.config.augment;
    return makeBatch(this.o.train as Dataset, indices, { augment: a.crop || a.flip, rng: this.rng, pad: a.crop ? DEFAULT_PAD : 0, flip: a.flip });
  }

  /**
   * A step's clean batch and (Fast AdvProp) its attack batch, drawn in the order the trainer has
   * always drawn them. A streamed folder gives the whole step's images at once from the prefetch
   * queue, augmented per (seed, epoch, index) by the loader, not with the trainer's RNG.
   */
  private async stepBatches(first: number, B: number, A: number, decouple: boolean): Promise<{ clean: { images: Float32Array; labels: Int32Array }; att?: { images: Float32Array; labels: Int32Array } }> {
    if (!this.prefetch) {
      const order = this.order(this.epoch);
      const clean = this.batchOf(order.subarray(first, first + B));
      if (A === 0) return { clean };
      const att = decouple ? this.batchOf(order.subarray(first + B, first + B + A)) : { images: clean.images.slice(0, A * this.px), labels: clean.labels.slice(0, A) };
      return { clean, att };
    }
    const got = await this.prefetch.get(this.step);
    this.interval.dataWait += got.waitSeconds;
    const all = toUnitFloats(got.images);
    this.prefetch.recycle(got.images);
    const clean = { images: all.subarray(0, B * this.px), labels: got.labels.subarray(0, B) };
    if (A === 0) return { clean };
    if (decouple) return { clean, att: { images: all.slice(B * this.px, (B + A) * this.px), labels: got.labels.slice(B, B + A) } };
    return { clean, att: { images: clean.images.slice(0, A * this.px), labels: clean.labels.slice(0, A) } };
  }

  /**
   * The attack of a step, from config.attack: the random start is drawn first, then the targets.
   * With `advprop` (the AdvProp baseline) that section decides the target and the attack's BN mode.
   */
  private attackSpec(count: number, labels: Int32Array, reuse: boolean, advprop?: AdvPropConfig): AttackSpec {
    const c = this.o.config.attack;
    const eps = epsilonToInputSpace(c.epsilon);
    const noise = randomStartActive(c.randomStart, this.rng) ? drawRandomStart(this.rng, count * this.px, eps) : undefined;
    const C = this.o.train.numClasses;
    let targetLabels: Int32Array | undefined;
    if (advprop) targetLabels = advprop.target === 'random' ? drawReferenceTargets(this.rng, labels, C) : undefined;
    // "next" consumes no draw: it is meant to differ from "random" only in the target.
    else if (c.targeted) targetLabels = c.target === 'next' ? labels.map((y) => (y + 1) % C) : drawTargetLabels(this.rng, labels, C);
    const spec = makeAttackSpec(c, { reuseGradients: reuse, noise, targetLabels });
    if (advprop?.attackBn === 'eval') spec.bnTraining = false;
    return spec;
  }

  /** Mixup / CutMix on the clean part only; both configured → one of them per batch, evenly. */
  private mixClean(images: Float32Array, labels: Int32Array): Float32Array | undefined {
    const { mixupAlpha, cutmixAlpha } = this.o.config.augment;
    if (mixupAlpha <= 0 && cutmixAlpha <= 0) return undefined;
    const C = this.o.train.numClasses;
    const useMixup = mixupAlpha > 0 && (cutmixAlpha <= 0 || this.rng.next() < 0.5);
    if (useMixup) return mixup(images, labels, C, mixupAlpha, this.rng);
    return cutmix(images, labels, C, cutmixAlpha, this.rng, this.o.train);
  }

  private checkIsolation(name: string, bn: 'main' | 'aux', grads: Float32Array): void {
    // Every pass touches only the shared group and its own BN set; anything else would train one
    // BN set with the other stream's gradients.
    const forbidden = bn === 'main' ? 2 : 1;
    for (let i = 0; i < grads.length; i++) {
      if (this.groupOf[i] === forbidden && grads[i] !== 0) {
        throw new Error(`the ${name} pass (${bn} BN) produced a gradient for a ${bn === 'main' ? 'aux' : 'main'} BN parameter at index ${i}`);
      }
    }
  }

  /** Runs the passes of one step; returns the per-stream figures and applies the update. */
  async trainStep(): Promise<void> {
    const { config, plan, executor } = this.o;
    const t0 = this.now();
    const epoch = this.epoch;
    const within = this.step % plan.stepsPerEpoch;
    const first = within * plan.imagesPerStep;
    const B = plan.batch.clean;
    const A = plan.batch.adv;
    const batches = await this.stepBatches(first, B, A, config.method === 'fast-advprop' && config.decouple);
    const clean = batches.clean;
    const G = plan.bnGroups;
    await executor.setState(this.params, this.running);

    const parts: { name: 'clean' | 'noise' | 'adv'; bn: 'main' | 'aux'; res: PassResult }[] = [];
    // Aux-BN attack passes without gradient reuse: no gradient part, but their training-mode
    // forwards still move the aux running statistics, as in the reference.
    const statsOnly: PassResult[] = [];
    let noiseAcc: { lossSum: number; correct: number; count: number } | undefined;
    let advAcc: { lossSum: number; correct: number; count: number } | undefined;
    const beta = config.method === 'fast-advprop' ? config.beta : 1;

    if (config.method === 'vanilla') {
      const soft = this.mixClean(clean.images, clean.labels);
      const [rc] = await executor.run([this.cleanRequest(clean, soft)]);
      parts.push({ name: 'clean', bn: 'main', res: rc });
    } else if (config.method === 'advprop') {
      // Every clean image gets a paired adversarial twin; no gradient reuse, same grouping.
      const attacked = clean.images.slice();
      const spec = this.attackSpec(B, clean.labels, false, config.advprop ?? ADVPROP_REFERENCE);
      const soft = this.mixClean(clean.images, clean.labels);
      const [rc, ra] = await executor.run([
        this.cleanRequest(clean, soft),
        { images: attacked, count: B, labels: clean.labels, bn: 'aux', training: true, groupSize: plan.cleanGroupSize, lossWeight: 1, paramGrads: true, attack: spec },
      ]);
      parts.push({ name: 'clean', bn: 'main', res: rc }, { name: 'adv', bn: 'aux', res: ra });
      noiseAcc = { lossSum: ra.attackLossSum ?? NaN, correct: ra.attackCorrect ?? 0, count: B };
      advAcc = { lossSum: ra.lossSum, correct: ra.correct, count: ra.count };
    } else {
      // Fast AdvProp, reference order: clean pass ∥ attack pass (gradient reuse), then the
      // adversarial pass on the attack output regrouped across BN groups.
      const att = batches.att;
      const soft = this.mixClean(clean.images, clean.labels);
      const reqs: PassRequest[] = [this.cleanRequest(clean, soft)];
      if (att) {
        reqs.push({
          images: att.images, count: A, labels: att.labels, bn: 'aux', training: true, groupSize: plan.advGroupSize,
          lossWeight: beta, paramGrads: false, attack: this.attackSpec(A, att.labels, config.reuseGradients),
        });
      }
      const res = await executor.run(reqs);
      parts.push({ name: 'clean', bn: 'main', res: res[0] });
      if (att) {
        const ra = res[1];
        if (config.reuseGradients) parts.push({ name: 'noise', bn: 'aux', res: ra });
        else statsOnly.push(ra);
        noiseAcc = { lossSum: ra.attackLossSum ?? NaN, correct: ra.attackCorrect ?? 0, count: A };
        if (!ra.advImages) throw new Error('executor returned no adversarial images for an attack pass');
        const perm = config.shuffleBN ? crossGroupPermutation(A, G, this.rng) : identity(A);
        const [rv] = await executor.run([{
          images: permuteRows(ra.advImages, perm, this.px), count: A, labels: permuteRows(att.labels, perm, 1),
          bn: 'aux', training: true, groupSize: plan.advGroupSize, lossWeight: beta, paramGrads: true,
        }]);
        parts.push({ name: 'adv', bn: 'aux', res: rv });
        advAcc = { lossSum: rv.lossSum, correct: rv.correct, count: rv.count };
      }
    }

    // Combine: sum every pass's gradient, then divide each group by its weighted sample count.
    const P = this.layout.paramCount;
    const grad = new Float32Array(P);
    for (const p of parts) {
      const g = p.res.grads;
      if (!g) throw new Error(`executor returned no gradients for the ${p.name} pass`);
      if (g.length !== P) throw new Error(`the ${p.name} pass returned ${g.length} gradients, the model has ${P}`);
      this.checkIsolation(p.name, p.bn, g);
      for (let i = 0; i < P; i++) grad[i] += g[i];
    }
    for (let i = 0; i < P; i++) grad[i] /= this.divisorPerParam[i];
    if (this.keepBreakdown) this.lastBreakdown = { parts: parts.map((p) => ({ name: p.name, bn: p.bn, grads: Float32Array.from(p.res.grads!) })), grad: Float32Array.from(grad) };

    const rc = parts[0].res;
    const lossWeighted = rc.lossSum + (parts.find((p) => p.name === 'noise') && noiseAcc ? beta * noiseAcc.lossSum : 0) + (advAcc ? beta * advAcc.lossSum : 0);
    const stepLoss = config.method === 'fast-advprop' ? lossWeighted / plan.divisors.shared : (rc.lossSum + (advAcc?.lossSum ?? 0)) / B;

    // NaN/Inf guard before anything is applied: the master state stays the last good one.
    const bad = (x: number): boolean => !Number.isFinite(x);
    if (bad(rc.lossSum)) throw new DivergenceError(this.step, 'clean', `non-finite loss in the clean stream at step ${this.step + 1}`);
    if (noiseAcc && bad(noiseAcc.lossSum)) throw new DivergenceError(this.step, 'noise', `non-finite loss in the noise (attack) stream at step ${this.step + 1}`);
    if (advAcc && bad(advAcc.lossSum)) throw new DivergenceError(this.step, 'adv', `non-finite loss in the adv stream at step ${this.step + 1}`);
    for (const p of parts) {
      const g = p.res.grads!;
      for (let i = 0; i < g.length; i++) {
        if (!Number.isFinite(g[i])) throw new DivergenceError(this.step, p.name, `non-finite gradient from the ${p.name} stream at step ${this.step + 1} (parameter ${paramName(this.layout, i)})`);
      }
    }

    // Finite losses and gradients can still yield Inf BN statistics or an overflowing update, and
    // the next checkpoint would then hold them: the "last good checkpoint" must be finite.
    const statsOf: { name: string; res: PassResult }[] = [...statsOnly.map((res) => ({ name: 'noise', res })), ...parts.map((p) => ({ name: p.name, res: p.res }))];
    for (const { name, res } of statsOf) {
      for (const st of res.bnStats) {
        for (let i = 0; i < st.values.length; i++) {
          if (!Number.isFinite(st.values[i])) throw new DivergenceError(this.step, name, `non-finite BN batch statistics from the ${name} stream at step ${this.step + 1}`);
        }
      }
    }
    const lr = lrAtEpoch(config.lr, config.lrDecay, this.o.plan.milestones, epoch);
    const sgd = { lr, momentum: config.momentum, weightDecay: config.weightDecay };
    const badParam = sgdNonFiniteIndex(this.params, grad, this.momentum, sgd);
    if (badParam >= 0) throw new DivergenceError(this.step, 'update', `the SGD update at step ${this.step + 1} makes parameter ${paramName(this.layout, badParam)} non-finite`);
    // The running statistics are small, so a copy to roll back is cheaper than re-deriving the update.
    const runningBefore = Float32Array.from(this.running);
    for (const r of statsOnly) this.applyStats('aux', r);
    for (const p of parts) this.applyStats(p.bn, p.res);
    for (let i = 0; i < this.running.length; i++) {
      if (!Number.isFinite(this.running[i])) {
        this.running.set(runningBefore);
        throw new DivergenceError(this.step, 'running', `a BN running statistic (${runningName(this.layout, i)}) turns non-finite at step ${this.step + 1}`);
      }
    }
    sgdStep(this.params, grad, this.momentum, sgd);

    this.passes.clean += plan.passesPerStep.clean;
    this.passes.attack += plan.passesPerStep.attack;
    this.passes.adv += plan.passesPerStep.adv;
    this.step++;
    const dt = this.now() - t0;
    this.trainSeconds += dt;
    this.epochSeconds += dt;
    addAcc(this.epochAcc, rc.lossSum, rc.correct, rc.count);
    const iv = this.interval;
    addAcc(iv.clean, rc.lossSum, rc.correct, rc.count);
    if (noiseAcc) addAcc(iv.noise, noiseAcc.lossSum, noiseAcc.correct, noiseAcc.count);
    if (advAcc) addAcc(iv.adv, advAcc.lossSum, advAcc.correct, advAcc.count);
    iv.loss += stepLoss;
    iv.steps++;
    iv.seconds += dt;
    iv.images += plan.imagesPerStep;
  }

  private cleanRequest(clean: { images: Float32Array; labels: Int32Array }, soft: Float32Array | undefined): PassRequest {
    const r: PassRequest = {
      images: clean.images, count: this.o.plan.batch.clean, labels: clean.labels, bn: 'main', training: true,
      groupSize: this.o.plan.cleanGroupSize, lossWeight: 1, paramGrads: true,
    };
    if (soft) r.softLabels = soft;
    return r;
  }

  private applyStats(bn: 'main' | 'aux', res: PassResult): void {
    for (const s of res.bnStats) updateRunningStats(this.layout, bn, s, this.running, this.o.bnSpatial);
  }

  /** Emits a 'step' record for the interval so far and resets it. */
  private flushInterval(): MetricsRecord | undefined {
    const iv = this.interval;
    if (iv.steps === 0) return undefined;
    const { config } = this.o;
    const rec: MetricsRecord & { kind: 'step' } = {
      v: 1, kind: 'step', t: new Date().toISOString(), step: this.step, epoch: this.epochAt(this.step - 1),
      lr: lrAtEpoch(config.lr, config.lrDecay, this.o.plan.milestones, this.epochAt(this.step - 1)),
      loss: iv.loss / iv.steps,
      clean: streamStats(iv.clean),
      imagesPerSecond: iv.seconds > 0 ? iv.images / iv.seconds : 0,
      passes: { ...this.passes },
    };
    if (this.prefetch) {
      rec.dataWait = iv.seconds > 0 ? Math.min(1, iv.dataWait / iv.seconds) : 0;
      // A step that waits for images is time the backend sat idle: say so where the user looks.
      if (rec.dataWait >= 0.1) {
        this.o.hooks?.log?.(`steps ${this.step - iv.steps + 1}–${this.step} waited ${iv.dataWait.toFixed(2)} s for decoded images (${(100 * rec.dataWait).toFixed(0)}% of their time); more dataset.workers or a smaller dataset.size would help`);
      }
    }
    if (iv.noise.count) rec.noise = streamStats(iv.noise);
    if (iv.adv.count) rec.adv = streamStats(iv.adv);
    if (iv.adv.count && iv.clean.count) {
      const u = updateLeak(this.leakState, { step: this.step, clean: iv.clean.correct / iv.clean.count, adv: iv.adv.correct / iv.adv.count }, config.leak);
      this.leakState = u.state;
      if (u.flag) {
        rec.leak = u.flag;
        this.lastLeak = u.flag;
      }
      if (u.firstFlag && u.flag) {
        this.o.hooks?.record?.(rec, false);
        this.o.hooks?.record?.({ v: 1, kind: 'event', t: rec.t, step: this.step, event: 'leak', message: u.flag.message }, false);
        this.resetInterval();
        return rec;
      }
    }
    this.o.hooks?.record?.(rec, false);
    this.resetInterval();
    return rec;
  }

  private resetInterval(): void {
    this.interval = { clean: acc0(), noise: acc0(), adv: acc0(), loss: 0, steps: 0, seconds: 0, images: 0, dataWait: 0 };
  }

  private epochAt(step: number): number {
    return Math.floor(Math.max(0, step) / this.o.plan.stepsPerEpoch);
  }

  private progress(rec: MetricsRecord | undefined): void {
    if (!rec || rec.kind !== 'step') return;
    const { plan } = this.o;
    const secsPerStep = this.stepsThisSession > 0 ? this.sessionSeconds / this.stepsThisSession : 0;
    const eta = secsPerStep * (plan.runSteps - this.step);
    const pct = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`);
    const parts = [
      `epoch ${rec.epoch + 1}/${plan.epochs}`,
      `step ${this.step}/${plan.runSteps}`,
      `loss ${rec.loss.toFixed(4)}`,
      `acc ${pct(rec.clean.acc)}`,
    ];
    if (rec.adv) parts.push(`adv ${pct(rec.adv.acc)}`);
    parts.push(`${rec.imagesPerSecond.toFixed(1)} img/s`, `ETA ${formatDuration(eta)}`);
    if (rec.leak?.flagged) parts.push('LEAK?');
    this.o.hooks?.progress?.({ epoch: rec.epoch, step: this.step, totalSteps: plan.runSteps, imagesPerSecond: rec.imagesPerSecond, etaSeconds: eta, line: parts.join('  '), leak: rec.leak });
  }

  private stepsThisSession = 0;
  private sessionSeconds = 0;

  /** Trains until the plan's runSteps or a stop request; evaluates at every epoch end and at the end. */
  async run(): Promise<TrainOutcome> {
    const { plan, config, hooks } = this.o;
    let lastEval: EvalResult | undefined;
    let lastEvalStep = -1;
    while (this.step < plan.runSteps) {
      // An in-process executor resolves without ever reaching the event loop, so without this
      // a SIGTERM handler (the extension's Stop) would only run after training ends.
      await new Promise<void>((r) => setImmediate(r));
      if (this.o.shouldStop?.()) {
        this.flushInterval();
        hooks?.checkpoint?.(this.snapshot(), 'stop');
        return this.outcome('stopped', lastEval);
      }
      const t0 = this.now();
      await this.trainStep();
      this.stepsThisSession++;
      this.sessionSeconds += this.now() - t0;
      if (this.step % config.logEvery === 0) this.progress(this.flushInterval());
      if (this.step % plan.stepsPerEpoch === 0) {
        const epoch = this.step / plan.stepsPerEpoch; // epochs completed
        this.progress(this.flushInterval());
        lastEval = await this.endEpoch(epoch - 1);
        lastEvalStep = this.step;
        hooks?.checkpoint?.(this.snapshot(), plan.milestones.includes(epoch) ? 'milestone' : 'epoch');
      }
    }
    this.progress(this.flushInterval());
    if (lastEvalStep !== this.step) {
      await this.o.executor.setState(this.params, this.running);
      lastEval = await evaluateClean(this.o.executor, this.o.test, undefined, this.o.loader);
      hooks?.log?.(`final evaluation at step ${this.step}: test acc ${(100 * lastEval.acc).toFixed(2)}%, loss ${lastEval.loss.toFixed(4)}`);
      hooks?.checkpoint?.(this.snapshot(), 'final');
    }
    return this.outcome('completed', lastEval);
  }

  private async endEpoch(epoch: number): Promise<EvalResult> {
    await this.o.executor.setState(this.params, this.running);
    const test = await evaluateClean(this.o.executor, this.o.test, undefined, this.o.loader);
    const train = streamStats(this.epochAcc);
    this.o.hooks?.record?.({
      v: 1, kind: 'epoch', t: new Date().toISOString(), epoch, step: this.step,
      test: { loss: test.loss, acc: test.acc }, train: { loss: train.loss, acc: train.acc }, seconds: this.epochSeconds,
    }, true);
    this.o.hooks?.log?.(`epoch ${epoch + 1}/${this.o.plan.epochs}: test acc ${(100 * test.acc).toFixed(2)}% loss ${test.loss.toFixed(4)}, train acc ${(100 * train.acc).toFixed(2)}% loss ${train.loss.toFixed(4)}, ${this.epochSeconds.toFixed(1)} s`);
    this.epochAcc = acc0();
    this.epochSeconds = 0;
    return test;
  }

  private outcome(state: 'completed' | 'stopped', test: EvalResult | undefined): TrainOutcome {
    const images = this.passesImages();
    return {
      state, step: this.step, epoch: this.epoch, test, passes: { ...this.passes }, trainSeconds: this.trainSeconds,
      imagesPerSecond: this.trainSeconds > 0 ? images / this.trainSeconds : 0, leak: this.lastLeak,
    };
  }

  private passesImages(): number {
    return this.step * this.o.plan.imagesPerStep;
  }
}

function identity(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return p;
}

function paramName(layout: ModelLayout, index: number): string {
  const p = layout.params.find((q) => index >= q.offset && index < q.offset + q.size);
  return p ? `${p.name}[${index - p.offset}]` : `#${index}`;
}

function runningName(layout: ModelLayout, index: number): string {
  const l = layout.bnLayers.find((q) => index >= q.offset && index < q.offset + 2 * q.channels);
  if (!l) return `#${index}`;
  const k = index - l.offset;
  return k < l.channels ? `${l.name} mean[${k}]` : `${l.name} var[${k - l.channels}]`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
