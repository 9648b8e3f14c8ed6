import * as assert from 'node:assert/strict';
import {
  drawRandomStart, drawTargetLabels, effectiveStepSize, epsilonToInputSpace, makeAttackSpec, pgdAttack, randomStartActive, REFERENCE_RANDOM_START_P,
} from '../../../src/engine/attack';
import { Rng } from '../../../src/engine/util/rng';
import { baseRequest, replicaWithState, tinySpec, useCpu } from '../model/helpers';

describe('attack: configuration helpers', () => {
  it('converts pixel units to [-1, 1] space and applies the max(step, eps/K) rule', () => {
    assert.equal(epsilonToInputSpace(1), 2 / 255);
    assert.equal(epsilonToInputSpace(8), 16 / 255);
    assert.equal(effectiveStepSize(1, 4, 2), 2);
    assert.equal(effectiveStepSize(3, 4, 2), 3);
    assert.equal(effectiveStepSize(0.5, 1, 1), 1);
    assert.throws(() => effectiveStepSize(1, 1, 0), /steps/);
    const spec = makeAttackSpec({ steps: 2, epsilon: 4, stepSize: 1 }, { reuseGradients: true });
    assert.equal(spec.epsilon, 8 / 255);
    assert.equal(spec.stepSize, 4 / 255);
    assert.deepEqual([spec.lo, spec.hi, spec.noise, spec.targetLabels], [-1, 1, undefined, undefined]);
  });

  it('draws the random start uniformly in [-eps, eps], reproducibly', () => {
    const a = drawRandomStart(new Rng(1), 20000, 0.03);
    assert.deepEqual(a, drawRandomStart(new Rng(1), 20000, 0.03));
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of a) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    assert.ok(min >= -0.03 && max <= 0.03);
    assert.ok(min < -0.0299 && max > 0.0299);
    assert.ok(Math.abs(sum / a.length) < 0.001);
  });

  it('switches the random start on always, never, or with p ≈ 0.42 like the reference', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 10; i++) {
      assert.equal(randomStartActive('always', rng), true);
      assert.equal(randomStartActive('never', rng), false);
    }
    assert.ok(Math.abs(REFERENCE_RANDOM_START_P - 0.42074) < 1e-4);
    let on = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) if (randomStartActive('reference', rng)) on++;
    // 5 standard errors of a binomial proportion.
    assert.ok(Math.abs(on / n - REFERENCE_RANDOM_START_P) < 5 * Math.sqrt(0.25 / n), `${on / n}`);
    // The reference draw is the trainer's own N(0,1): same stream, same decision.
    const r1 = new Rng(9);
    const r2 = new Rng(9);
    assert.equal(randomStartActive('reference', r1), r2.normal() > 0.2);
  });

  it('draws target labels different from the true ones, covering the other classes', () => {
    const labels = Int32Array.from({ length: 3000 }, (_, i) => i % 4);
    const t = drawTargetLabels(new Rng(2), labels, 4);
    const seen = new Set<string>();
    t.forEach((v, i) => {
      assert.notEqual(v, labels[i]);
      assert.ok(v >= 0 && v < 4);
      seen.add(`${labels[i]}>${v}`);
    });
    assert.equal(seen.size, 12);
  });
});

describe('attack: PGD through the replica', function () {
  before(useCpu);
  const spec = tinySpec({ inputHeight: 12, inputWidth: 12 });
  const px = 12 * 12 * 3;

  it('keeps the output inside the ε-ball around the clean images and inside [-1, 1]', () => {
    const { replica } = replicaWithState(spec);
    const N = 6;
    const req = baseRequest(spec, N, { bn: 'aux', groupSize: 3, paramGrads: false });
    // Put pixels on and near the range limits, where the box clip must win over the ball.
    for (let i = 0; i < req.images.length; i += 5) req.images[i] = i % 2 ? 1 : -1;
    for (let i = 2; i < req.images.length; i += 7) req.images[i] = 0.99;
    const eps = 0.05;
    const noise = drawRandomStart(new Rng(4), N * px, eps);
    for (const steps of [1, 3]) {
      const res = replica.runPass({ ...req, attack: { steps, epsilon: eps, stepSize: 0.03, lo: -1, hi: 1, noise, reuseGradients: true } });
      const adv = res.advImages!;
      let moved = 0;
      for (let i = 0; i < adv.length; i++) {
        assert.ok(adv[i] >= -1 && adv[i] <= 1, `pixel ${i} = ${adv[i]}`);
        assert.ok(Math.abs(adv[i] - req.images[i]) <= eps + 1e-6, `pixel ${i} moved ${adv[i] - req.images[i]}`);
        if (Math.abs(adv[i] - req.images[i]) > 1e-4) moved++;
      }
      assert.ok(moved > adv.length / 2, 'the attack must move most pixels');
    }
    replica.dispose();
  });

  it('untargeted ascent raises the true-label loss; targeted descent on the true labels lowers it', () => {
    const { replica } = replicaWithState(spec);
    const N = 8;
    const req = baseRequest(spec, N, { bn: 'aux', groupSize: 4, paramGrads: true });
    const attack = { steps: 3, epsilon: 0.1, stepSize: 0.04, lo: -1, hi: 1, reuseGradients: false };
    const clean = replica.runPass({ ...req, paramGrads: false });
    const up = replica.runPass({ ...req, attack });
    const down = replica.runPass({ ...req, attack: { ...attack, targetLabels: req.labels } });
    // attackLossSum is the first attack forward, i.e. the clean images here (no noise).
    assert.ok(Math.abs(up.attackLossSum! - clean.lossSum) < 1e-4 * clean.lossSum);
    assert.ok(up.lossSum > clean.lossSum * 1.05, `untargeted: ${clean.lossSum} → ${up.lossSum}`);
    assert.ok(down.lossSum < clean.lossSum * 0.95, `targeted: ${clean.lossSum} → ${down.lossSum}`);
    replica.dispose();
  });

  it('pgdAttack (eval mode, main BN) raises the loss, reports it on the returned images and does not depend on its batch size', () => {
    const { replica } = replicaWithState(spec);
    const N = 6;
    const req = baseRequest(spec, N, { training: false, paramGrads: false });
    const clean = replica.runPass(req);
    const opts = { steps: 2, epsilon: 0.1, stepSize: 0.05, noise: drawRandomStart(new Rng(3), N * px, 0.1) };
    const all = pgdAttack(replica, req.images, req.labels, opts);
    const chunked = pgdAttack(replica, req.images, req.labels, { ...opts, batchSize: 4 });
    assert.equal(all.count, N);
    assert.ok(all.lossSum > clean.lossSum, `${clean.lossSum} → ${all.lossSum}`);
    assert.ok(all.correct <= clean.correct);
    // Eval mode: per-sample results, so chunking changes nothing.
    for (let i = 0; i < all.advImages.length; i++) assert.ok(Math.abs(all.advImages[i] - chunked.advImages[i]) < 1e-6);
    assert.ok(Math.abs(all.lossSum - chunked.lossSum) < 1e-4);
    assert.equal(all.logits.length, N * 5);
    // The reported loss is on the returned images.
    const check = replica.runPass({ ...req, images: all.advImages });
    assert.ok(Math.abs(check.lossSum - all.lossSum) < 1e-5 * all.lossSum);
    const targeted = pgdAttack(replica, req.images, req.labels, { ...opts, targetLabels: req.labels });
    assert.ok(targeted.lossSum < clean.lossSum);
    replica.dispose();
  });
});
