import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { PassRequest } from '../../../src/engine/exec/types';
import { Rng } from '../../../src/engine/util/rng';
import { baseRequest, maxRelDiff, replicaWithState, tinySpec, useCpu } from './helpers';

function noise(n: number, eps: number, seed = 11): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-eps, eps));
}

function groupSum(layout: { params: { group: string; offset: number; size: number }[] }, g: Float32Array, group: string): { abs: number; nonzero: number } {
  let abs = 0;
  let nonzero = 0;
  for (const p of layout.params) {
    if (p.group !== group) continue;
    for (let i = p.offset; i < p.offset + p.size; i++) {
      abs += Math.abs(g[i]);
      if (g[i] !== 0) nonzero++;
    }
  }
  return { abs, nonzero };
}

describe('replica: passes', function () {
  before(useCpu);
  const spec = tinySpec();
  const px = 8 * 8 * 3;

  it('a main-BN pass leaves aux gamma/beta with exactly zero gradient, and vice versa', () => {
    const { replica } = replicaWithState(spec);
    const req = baseRequest(spec, 4, { groupSize: 2 });
    const main = replica.runPass(req).grads!;
    assert.equal(groupSum(replica.layout, main, 'adv').nonzero, 0);
    assert.ok(groupSum(replica.layout, main, 'clean').abs > 0);
    assert.ok(groupSum(replica.layout, main, 'shared').abs > 0);
    for (const over of [{ bn: 'aux' as const }, { bn: 'aux' as const, paramGrads: false, attack: { steps: 1, epsilon: 0.05, stepSize: 0.05, lo: -1, hi: 1, reuseGradients: true } }]) {
      const aux = replica.runPass({ ...req, ...over }).grads!;
      assert.equal(groupSum(replica.layout, aux, 'clean').nonzero, 0);
      assert.ok(groupSum(replica.layout, aux, 'adv').abs > 0);
    }
    replica.dispose();
  });

  it('the reused gradient of an attack step equals a separate forward/backward on the same input', () => {
    const { replica } = replicaWithState(spec);
    const N = 4;
    const eps = 0.1;
    const req = baseRequest(spec, N, { bn: 'aux', groupSize: 2, lossWeight: 0.5 });
    const nz = noise(N * px, eps);
    const attack = { steps: 1, epsilon: eps, stepSize: eps, lo: -1, hi: 1, noise: nz, reuseGradients: true };
    const a1 = replica.runPass({ ...req, paramGrads: false, attack });
    const x0 = req.images.map((v, i) => v + nz[i]);
    const sep0 = replica.runPass({ ...req, images: x0 });
    assert.ok(maxRelDiff(a1.grads!, sep0.grads!) < 1e-5, `K=1: ${maxRelDiff(a1.grads!, sep0.grads!)}`);
    assert.ok(Math.abs(a1.attackLossSum! - sep0.lossSum) < 1e-4 * sep0.lossSum);
    assert.equal(a1.attackCorrect, sep0.correct);
    assert.deepEqual(a1.bnStats[0].values, sep0.bnStats[0].values);

    // K = 2: the steps' gradients are summed; the second is at the first step's output.
    const a2 = replica.runPass({ ...req, paramGrads: false, attack: { ...attack, steps: 2 } });
    const sep1 = replica.runPass({ ...req, images: a1.advImages! });
    const sum = sep0.grads!.map((g, i) => g + sep1.grads![i]);
    assert.ok(maxRelDiff(a2.grads!, sum) < 1e-5, `K=2: ${maxRelDiff(a2.grads!, sum)}`);
    assert.equal(a2.bnStats.length, 2);
    // Without a final pass the reported loss is the last attack forward's (on x_{K-1}).
    assert.ok(Math.abs(a2.lossSum - sep1.lossSum) < 1e-4 * sep1.lossSum);

    // paramGrads with an attack adds one final pass on the adversarial images.
    const a1f = replica.runPass({ ...req, paramGrads: true, attack });
    const sepAdv = replica.runPass({ ...req, images: a1f.advImages! });
    const total = sep0.grads!.map((g, i) => g + sepAdv.grads![i]);
    assert.ok(maxRelDiff(a1f.grads!, total) < 1e-5);
    assert.equal(a1f.bnStats.length, 2);
    assert.ok(Math.abs(a1f.lossSum - sepAdv.lossSum) < 1e-4 * sepAdv.lossSum);
    // Without reuse, only the final pass contributes.
    const noReuse = replica.runPass({ ...req, paramGrads: true, attack: { ...attack, reuseGradients: false } });
    assert.ok(maxRelDiff(noReuse.grads!, sepAdv.grads!) < 1e-5);
    const none = replica.runPass({ ...req, paramGrads: false, attack: { ...attack, reuseGradients: false } });
    assert.equal(none.grads, undefined);
    replica.dispose();
  });

  it('scales gradients by lossWeight but reports unweighted loss', () => {
    const { replica } = replicaWithState(spec);
    const req = baseRequest(spec, 4);
    const w1 = replica.runPass(req);
    const w3 = replica.runPass({ ...req, lossWeight: 0.25 });
    assert.ok(maxRelDiff(w3.grads!, w1.grads!.map((g) => 0.25 * g)) < 1e-6);
    assert.equal(w3.lossSum, w1.lossSum);
    replica.dispose();
  });

  it('gradients do not depend on how the batch is split at group boundaries (what the pool relies on)', () => {
    const { replica } = replicaWithState(spec);
    const N = 8;
    const req = baseRequest(spec, N, { groupSize: 4, bn: 'aux' });
    const whole = replica.runPass(req);
    const parts = [0, 4].map((s) => replica.runPass({ ...req, count: 4, images: req.images.slice(s * px, (s + 4) * px), labels: req.labels.slice(s, s + 4) }));
    const sum = parts[0].grads!.map((g, i) => g + parts[1].grads![i]);
    assert.ok(maxRelDiff(whole.grads!, sum) < 1e-5);
    assert.ok(Math.abs(whole.lossSum - parts[0].lossSum - parts[1].lossSum) < 1e-4);
    replica.dispose();
  });

  it('matches central finite differences of the summed loss', () => {
    const s = tinySpec({ width: 2 });
    const { replica, params, running } = replicaWithState(s, 3);
    const N = 4;
    for (const bn of ['main', 'aux'] as const) {
      const req = baseRequest(s, N, { bn, groupSize: 2, lossWeight: 1 });
      replica.setState(params, running);
      const g = replica.runPass(req).grads!;
      const L = replica.layout;
      const pick = ['stem.conv.w', 's2.b0.conv1.w', 's3.b0.conv2.w', `s2.b0.bn2.${bn}.gamma`, `s1.b0.bn1.${bn}.beta`, 'fc.w', 'fc.b'];
      for (const name of pick) {
        const p = L.params.find((q) => q.name === name)!;
        // The largest-gradient entry of each tensor, so float32 noise in the loss stays small next to it.
        let best = p.offset;
        for (let i = p.offset; i < p.offset + p.size; i++) if (Math.abs(g[i]) > Math.abs(g[best])) best = i;
        const f = (delta: number): number => {
          const q = params.slice();
          q[best] += delta;
          replica.setState(q, running);
          return replica.runPass({ ...req, paramGrads: false }).lossSum;
        };
        // ReLU kinks and tiny ghost groups make the loss curved at h ≈ 1e-2, and float32 noise
        // dominates below 1e-4: a wrong gradient fails at both of these steps, a kink at most one.
        const fds = [1e-3, 3e-4].map((h) => (f(h) - f(-h)) / (2 * h));
        const err = Math.min(...fds.map((fd) => Math.abs(fd - g[best])));
        assert.ok(err <= 1e-2 * Math.abs(g[best]) + 2e-3, `${bn} ${name}[${best - p.offset}]: analytic ${g[best]} vs fd ${fds.join(', ')}`);
      }
    }
    replica.dispose();
  });

  it('keeps tf.memory().numTensors flat across every kind of pass and setState', () => {
    const { replica, params, running } = replicaWithState(spec);
    const N = 4;
    const soft = new Float32Array(N * 5).fill(0.2);
    const reqs: PassRequest[] = [
      baseRequest(spec, N),
      baseRequest(spec, N, { training: false, paramGrads: false }),
      baseRequest(spec, N, { bn: 'aux', paramGrads: false, attack: { steps: 2, epsilon: 0.1, stepSize: 0.05, lo: -1, hi: 1, noise: noise(N * px, 0.1), reuseGradients: true } }),
      baseRequest(spec, N, { bn: 'aux', attack: { steps: 1, epsilon: 0.1, stepSize: 0.05, lo: -1, hi: 1, reuseGradients: false } }),
      baseRequest(spec, N, { training: false, paramGrads: false, attack: { steps: 2, epsilon: 0.1, stepSize: 0.05, lo: -1, hi: 1, targetLabels: new Int32Array(N), reuseGradients: false } }),
      baseRequest(spec, N, { softLabels: soft, groupSize: 2 }),
    ];
    replica.runPass(reqs[0]);
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 2; rep++) {
      for (const r of reqs) {
        replica.runPass(r);
        assert.equal(tf.memory().numTensors, before);
      }
      replica.setState(params, running);
      assert.equal(tf.memory().numTensors, before);
    }
    // A rejected request must not leak either.
    assert.throws(() => replica.runPass({ ...reqs[0], groupSize: 3 }));
    assert.equal(tf.memory().numTensors, before);
    replica.dispose();
    assert.ok(tf.memory().numTensors < before);
  });

  it('soft labels: one-hot soft labels equal hard labels; uniform ones give N·log(K)', () => {
    const { replica } = replicaWithState(spec);
    const N = 4;
    const req = baseRequest(spec, N);
    const oneHot = new Float32Array(N * 5);
    req.labels.forEach((l, i) => (oneHot[i * 5 + l] = 1));
    const hard = replica.runPass(req);
    const soft = replica.runPass({ ...req, softLabels: oneHot });
    assert.ok(maxRelDiff(hard.grads!, soft.grads!) < 1e-6);
    assert.ok(Math.abs(hard.lossSum - soft.lossSum) < 1e-6);
    const uniform = replica.runPass({ ...req, softLabels: new Float32Array(N * 5).fill(0.2) });
    assert.ok(uniform.lossSum >= N * Math.log(5) - 1e-4);
    replica.dispose();
  });

  it('reports logits only for passes without gradients or attack, and counts correct predictions', () => {
    const { replica } = replicaWithState(spec);
    const req = baseRequest(spec, 6, { training: false, paramGrads: false });
    const ev = replica.runPass(req);
    assert.equal(ev.logits!.length, 6 * 5);
    assert.equal(ev.bnStats.length, 0);
    let correct = 0;
    for (let n = 0; n < 6; n++) {
      const row = Array.from(ev.logits!.subarray(n * 5, n * 5 + 5));
      if (row.indexOf(Math.max(...row)) === req.labels[n]) correct++;
    }
    assert.equal(ev.correct, correct);
    assert.equal(ev.count, 6);
    assert.equal(replica.runPass({ ...req, paramGrads: true }).logits, undefined);
    replica.dispose();
  });

  it('rejects malformed requests and state with clear errors', () => {
    const { replica, params, running } = replicaWithState(spec);
    const req = baseRequest(spec, 4);
    assert.throws(() => replica.runPass({ ...req, groupSize: 3 }), /groupSize 3 must divide count 4/);
    assert.throws(() => replica.runPass({ ...req, count: 5 }), /images has/);
    assert.throws(() => replica.runPass({ ...req, labels: Int32Array.from([0, 1, 2, 9]) }), /label 9/);
    assert.throws(
      () => replica.runPass({ ...req, attack: { steps: 1, epsilon: 0.1, stepSize: 0.1, lo: -1, hi: 1, targetLabels: new Int32Array(4), reuseGradients: true } }),
      /targeted attack cannot reuse gradients/,
    );
    assert.throws(() => replica.setState(params.subarray(1), running), /expected \d+ parameters/);
    replica.dispose();
    assert.throws(() => replica.runPass(req), /after dispose/);
  });
});
