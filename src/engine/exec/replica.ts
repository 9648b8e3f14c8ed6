// One model on one tfjs backend in one thread: turns a PassRequest into a PassResult. The caller
// picks the backend (tf.setBackend) before creating the replica; nothing here switches backends,
// because tensors must not cross them.
//
// Pass semantics (what the trainer and the worker pool rely on):
// - No attack: one forward on `images` through BN set `bn` (batch statistics per ghost group of
//   `groupSize` when `training`, running statistics otherwise). With `paramGrads`, one backward
//   gives the gradients of lossWeight × Σ_samples CE. Without it, `logits` are returned.
// - With `attack`: PGD-K first. x₀ = images + noise (not clipped, as the reference). Step k runs
//   one forward on x_{k-1} with the request's BN set and mode, and ONE backward of Σ CE with
//   respect to x (and, when `reuseGradients`, every parameter of the set in the same call);
//   x_k = clip(x_{k-1} ± stepSize·sign(∇x), max(clean−ε, lo), min(clean+ε, hi)), + for the
//   untargeted ascent on the true (or soft) labels, − for the targeted descent on targetLabels.
//   Reused parameter gradients (lossWeight × ∇θ of the step's loss on the step's input) are
//   summed over the K steps into `grads`.
//   Then, only when `paramGrads` is true, a final forward/backward on the attack output x_K adds
//   its gradients (× lossWeight) to `grads`. So Fast AdvProp's attack request is
//   {attack: {reuseGradients: true}, paramGrads: false} (K image-passes, gradients of the noisy /
//   intermediate inputs) and its adversarial pass is a separate request on `advImages`.
// - `grads` is present iff paramGrads or (attack and reuseGradients); entries of the other BN
//   set are exactly zero because those parameters are not differentiated at all.
// - lossSum / correct (unweighted, vs the true labels) come from the final forward, or from the
//   last attack forward (on x_{K-1}, not on x_K) when there is no final pass. attackLossSum /
//   attackCorrect come from the first attack forward (the reference's "noise" stream).
// - bnStats: one entry per training-mode forward, in order (K attack steps, then the final pass).
// - A targeted attack cannot reuse gradients: its backward is of the target-label loss, whose
//   parameter gradient would train towards the wrong labels. Such a request throws.

import * as tf from '@tensorflow/tfjs';
import { abortBnTeam, setBnTeam } from '../backend/bnTeam';
import { compileModel, crossEntropySum, forward, type ForwardOptions, type ForwardState } from '../model/forward';
import type { BatchStats, BnSet, ModelSpec, PassRequest, PassResult, Replica } from './types';

export function createReplica(spec: ModelSpec): Replica {
  const model = compileModel(spec);
  const { layout } = model;
  const { inputHeight: H, inputWidth: W, inputChannels: C, numClasses: K } = spec;
  // Parameters each BN set's passes differentiate: shared + that set's gamma/beta.
  const gradIndex: Record<BnSet, number[]> = {
    main: layout.params.map((p, i) => (p.group === 'adv' ? -1 : i)).filter((i) => i >= 0),
    aux: layout.params.map((p, i) => (p.group === 'clean' ? -1 : i)).filter((i) => i >= 0),
  };
  let state: ForwardState | null = null;
  let disposed = false;

  const disposeState = (): void => {
    if (!state) return;
    for (const t of state.params) t.dispose();
    for (const set of ['main', 'aux'] as BnSet[]) {
      for (const r of state.running[set].values()) {
        r.mean.dispose();
        r.variance.dispose();
      }
    }
    state = null;
  };

  const setState = (params: Float32Array, running: Float32Array): void => {
    if (disposed) throw new Error('replica: setState after dispose');
    if (params.length !== layout.paramCount) throw new Error(`replica: expected ${layout.paramCount} parameters, got ${params.length}`);
    if (running.length !== layout.runningCount) throw new Error(`replica: expected ${layout.runningCount} running statistics, got ${running.length}`);
    disposeState();
    // slice(): the cpu backend keeps a typed array it is given without copying, and the trainer
    // updates its master vectors in place.
    const ps = layout.params.map((p) => tf.tensor(params.slice(p.offset, p.offset + p.size), p.shape, 'float32'));
    const rs: ForwardState['running'] = { main: new Map(), aux: new Map() };
    for (const l of layout.bnLayers) {
      rs[l.set].set(l.name, {
        mean: tf.tensor1d(running.slice(l.offset, l.offset + l.channels), 'float32'),
        variance: tf.tensor1d(running.slice(l.offset + l.channels, l.offset + 2 * l.channels), 'float32'),
      });
    }
    state = { params: ps, running: rs };
  };

  /**
   * The pass, written once as a generator that yields the tensors it needs on the host and is
   * resumed with their values: run synchronously (dataSync) on cpu/wasm/tensorflow, where that is
   * cheapest and keeps results bit-identical to earlier versions, and asynchronously (await
   * data()) on webgpu, which cannot read synchronously in Node. Yielded tensors belong to the
   * generator, which disposes them once read.
   */
  function* pass(req: PassRequest): Generator<tf.Tensor[], PassResult, Float32Array[]> {
    if (disposed) throw new Error('replica: runPass after dispose');
    if (!state) throw new Error('replica: runPass before setState');
    validate(req);
    const st = state;
    const N = req.count;
    const atk = req.attack;
    const opts: ForwardOptions = { set: req.bn, training: req.training, groupSize: req.groupSize };
    const gIdx = gradIndex[req.bn];
    const gParams = gIdx.map((i) => st.params[i]);
    const wantGrads = req.paramGrads || (atk !== undefined && atk.reuseGradients);
    const grads = wantGrads ? new Float32Array(layout.paramCount) : undefined;
    const bnStats: BatchStats[] = [];
    // Statistics come only from training-mode forwards, whose group size validate() checked.
    const groups = N / req.groupSize;

    /** Adds lossWeight × the gradients read back (one flat vector, gParams order) into `grads`. */
    const addGrads = (flat: Float32Array): void => {
      const w = req.lossWeight;
      let k = 0;
      for (let j = 0; j < gIdx.length; j++) {
        const info = layout.params[gIdx[j]];
        for (let i = 0, o = info.offset; i < info.size; i++, o++) grads![o] += w * flat[k++];
      }
    };
    /** One flat tensor of all gradients, so the host reads them in one transfer. */
    const flatten = (gs: tf.Tensor[]): tf.Tensor => (gs.length === 1 ? tf.reshape(gs[0], [-1]) : tf.concat(gs.map((g) => tf.reshape(g, [-1]))));
    /**
     * A forward (run inside a gradient tape by the caller) whose logits and BN statistics are kept
     * past the tape's tidy, to be read back after it.
     */
    const keptForward = (x: tf.Tensor4D, targets: tf.Tensor2D, o: ForwardOptions = opts) => {
      const kept: { logits?: tf.Tensor; stats?: tf.Tensor } = {};
      const f = (): tf.Scalar => {
        const out = forward(model, st, x, o);
        kept.logits = tf.keep(out.logits);
        if (out.stats) kept.stats = tf.keep(out.stats);
        return crossEntropySum(out.logits, targets);
      };
      return { f, kept };
    };
    /** Yields the kept logits (+ stats) and, when given, a flat gradient tensor; returns their values. */
    function* read(kept: { logits?: tf.Tensor; stats?: tf.Tensor }, flatGrads?: tf.Tensor): Generator<tf.Tensor[], { logits: Float32Array; stats?: Float32Array; grads?: Float32Array }, Float32Array[]> {
      const ts = [kept.logits!, ...(kept.stats ? [kept.stats] : []), ...(flatGrads ? [flatGrads] : [])];
      const vals = yield ts;
      let i = 0;
      const logits = vals[i++];
      const stats = kept.stats ? vals[i++] : undefined;
      const gradsFlat = flatGrads ? vals[i++] : undefined;
      return { logits, stats, grads: gradsFlat };
    }
    const pushStats = (s?: Float32Array): void => {
      if (s) bnStats.push({ values: s, groupSize: req.groupSize, groups });
    };

    const owned: tf.Tensor[] = [];
    // The attack's current iterate, disposed as soon as the next one exists (K can be large).
    let iterate: tf.Tensor | null = null;
    try {
      const clean = tf.tensor4d(req.images, [N, H, W, C], 'float32');
      owned.push(clean);
      const trueTargets = (
        req.softLabels ? tf.tensor2d(req.softLabels, [N, K], 'float32') : tf.tidy(() => tf.oneHot(tf.tensor1d(req.labels, 'int32'), K).toFloat())
      ) as tf.Tensor2D;
      owned.push(trueTargets);

      const result: PassResult = { lossSum: 0, correct: 0, count: N, bnStats };
      let x = clean;
      let last: Float32Array | undefined;
      if (atk) {
        const targeted = atk.targetLabels !== undefined;
        const atkTargets = targeted
          ? (tf.tidy(() => tf.oneHot(tf.tensor1d(atk.targetLabels!, 'int32'), K).toFloat()) as tf.Tensor2D)
          : trueTargets;
        if (targeted) owned.push(atkTargets);
        const lo = tf.tidy(() => tf.maximum(tf.sub(clean, atk.epsilon), atk.lo));
        const hi = tf.tidy(() => tf.minimum(tf.add(clean, atk.epsilon), atk.hi));
        owned.push(lo, hi);
        if (atk.noise) {
          x = tf.tidy(() => tf.add(clean, tf.tensor4d(atk.noise!, [N, H, W, C], 'float32')));
          iterate = x;
        }
        const dir = targeted ? -atk.stepSize : atk.stepSize;
        const atkOpts: ForwardOptions = atk.bnTraining === undefined ? opts : { ...opts, training: atk.bnTraining };
        for (let k = 0; k < atk.steps; k++) {
          const xin = x;
          const { f, kept } = keptForward(xin, atkTargets, atkOpts);
          const [next, flat] = tf.tidy(() => {
            // ONE backward per step: the input gradient drives the attack and, with reuse, the
            // same backward's parameter gradients are the free training signal.
            const { grads: gs } = tf.valueAndGrads(f)(atk.reuseGradients ? [xin, ...gParams] : [xin]);
            const stepped = tf.minimum(tf.maximum(tf.add(xin, tf.mul(tf.sign(gs[0]), dir)), lo), hi) as tf.Tensor4D;
            return atk.reuseGradients ? [stepped, flatten(gs.slice(1))] : [stepped];
          });
          owned.push(kept.logits!, ...(kept.stats ? [kept.stats] : []), ...(flat ? [flat] : []));
          const r = yield* read(kept, flat);
          if (r.grads) addGrads(r.grads);
          iterate?.dispose();
          iterate = next;
          x = next as tf.Tensor4D;
          pushStats(r.stats);
          last = r.logits;
          if (k === 0) {
            const m = metrics(last, req, K);
            result.attackLossSum = m.lossSum;
            result.attackCorrect = m.correct;
          }
        }
        result.advImages = (yield [x])[0];
      }

      if (!atk || req.paramGrads) {
        const { f, kept } = keptForward(x, trueTargets);
        let flat: tf.Tensor | undefined;
        if (req.paramGrads) {
          flat = tf.tidy(() => flatten(tf.valueAndGrads(f)(gParams).grads));
        } else {
          tf.tidy(() => {
            f();
          });
        }
        owned.push(kept.logits!, ...(kept.stats ? [kept.stats] : []), ...(flat ? [flat] : []));
        const r = yield* read(kept, flat);
        if (r.grads) addGrads(r.grads);
        pushStats(r.stats);
        last = r.logits;
        if (!atk && !req.paramGrads) result.logits = last;
      }
      const m = metrics(last!, req, K);
      result.lossSum = m.lossSum;
      result.correct = m.correct;
      if (grads) result.grads = grads;
      return result;
    } finally {
      iterate?.dispose();
      for (const t of owned) t.dispose();
    }
  }

  // Values are copied (slice) because a backend may reuse or free the buffer behind them.
  const runPass = (req: PassRequest): PassResult => {
    if (tf.getBackend() === 'webgpu') throw new Error('replica: webgpu cannot read tensors synchronously; use runPassAsync');
    // A team member's pass runs in lock-step with the others' (their BN sums meet in teamReduce);
    // if it fails, the others must not wait for it.
    setBnTeam(req.team ?? null);
    try {
      const g = pass(req);
      let r = g.next();
      while (!r.done) r = g.next(r.value.map((t) => t.dataSync().slice() as Float32Array));
      return r.value;
    } catch (e) {
      if (req.team) abortBnTeam(req.team);
      throw e;
    } finally {
      setBnTeam(null);
    }
  };

  const runPassAsync = async (req: PassRequest): Promise<PassResult> => {
    // Teams block their thread in Atomics.wait: only the synchronous runPass may take part in one.
    if (req.team) throw new Error('replica: a BN group split across workers runs only through runPass (cpu/wasm)');
    const g = pass(req);
    let r = g.next();
    try {
      while (!r.done) {
        const vals = await Promise.all(r.value.map((t) => t.data() as Promise<Float32Array>));
        r = g.next(vals.map((v) => v.slice()));
      }
    } catch (e) {
      g.return(undefined as never); // runs the generator's finally: its tensors are disposed
      throw e;
    }
    return r.value;
  };

  const validate = (req: PassRequest): void => {
    const N = req.count;
    const px = H * W * C;
    if (!Number.isInteger(N) || N < 1) throw new Error(`pass: count must be a positive integer, got ${N}`);
    if (req.images.length !== N * px) throw new Error(`pass: images has ${req.images.length} values, expected ${N}×${H}×${W}×${C} = ${N * px}`);
    if (req.labels.length !== N) throw new Error(`pass: labels has ${req.labels.length} entries, expected ${N}`);
    for (const l of req.labels) if (!(l >= 0 && l < K)) throw new Error(`pass: label ${l} outside 0..${K - 1}`);
    if (req.softLabels && req.softLabels.length !== N * K) throw new Error(`pass: softLabels has ${req.softLabels.length} values, expected ${N * K}`);
    if ((req.training || req.attack?.bnTraining) && (!Number.isInteger(req.groupSize) || req.groupSize < 1 || N % req.groupSize !== 0)) {
      throw new Error(`pass: groupSize ${req.groupSize} must divide count ${N}`);
    }
    const a = req.attack;
    if (a) {
      if (!Number.isInteger(a.steps) || a.steps < 1) throw new Error(`pass: attack.steps must be ≥ 1, got ${a.steps}`);
      if (a.noise && a.noise.length !== N * px) throw new Error(`pass: attack.noise has ${a.noise.length} values, expected ${N * px}`);
      if (a.targetLabels) {
        if (a.targetLabels.length !== N) throw new Error(`pass: attack.targetLabels has ${a.targetLabels.length} entries, expected ${N}`);
        for (const l of a.targetLabels) if (!(l >= 0 && l < K)) throw new Error(`pass: target label ${l} outside 0..${K - 1}`);
        if (a.reuseGradients) {
          throw new Error(
            'pass: a targeted attack cannot reuse gradients (its backward is of the target-label loss, which would train towards the wrong labels); set reuseGradients to false for targeted attacks',
          );
        }
      }
    }
  };

  return {
    layout,
    setState,
    runPass,
    runPassAsync,
    dispose(): void {
      disposeState();
      disposed = true;
    },
  };
}

/** Unweighted summed CE against the true (or soft) labels and top-1 hits, in float64 from the logits. */
function metrics(logits: Float32Array, req: PassRequest, K: number): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let n = 0; n < req.count; n++) {
    const row = logits.subarray(n * K, (n + 1) * K);
    let max = -Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) {
      if (row[k] > max) {
        max = row[k];
        arg = k;
      }
    }
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(row[k] - max);
    const lse = max + Math.log(se);
    if (req.softLabels) {
      for (let k = 0; k < K; k++) lossSum += req.softLabels[n * K + k] * (lse - row[k]);
    } else {
      lossSum += lse - row[req.labels[n]];
    }
    if (arg === req.labels[n]) correct++;
  }
  return { lossSum, correct };
}
