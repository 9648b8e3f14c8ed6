import * as assert from 'node:assert/strict';
import { planTraining } from '../../../src/engine/train/plan';
import { DivergenceError, Trainer } from '../../../src/engine/train/trainer';
import { crossGroupPermutation } from '../../../src/engine/train/shuffle';
import { sgdStep } from '../../../src/engine/train/sgd';
import { lrAtEpoch } from '../../../src/engine/train/schedule';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/engine/run/checkpoint';
import { bnSpatialSizes } from '../../../src/engine/train/bnSpatial';
import { initParams } from '../../../src/engine/model';
import { Rng } from '../../../src/engine/util/rng';
import { makeBatch } from '../../../src/engine/data/augment';
import type { Executor } from '../../../src/engine/exec/types';
import { RecordingExecutor, realExecutor, tinyConfig, tinyData, tinySpec } from './helpers';
import { drawReferenceTargets } from '../../../src/engine/attack';

describe('train: plan and update-speed sync', () => {
  it('4:1 of 256 with β 0.5 divides shared by 320, clean BN by 256, aux BN by 64', () => {
    const plan = planTraining(tinyConfig({ batchSize: 256, bnGroups: 4 }), 100000);
    assert.deepEqual(plan.batch, { clean: 256, adv: 64 });
    assert.deepEqual(plan.divisors, { shared: 320, clean: 256, adv: 64 });
    assert.equal(plan.imagesPerStep, 320);
  });

  it('without sync every group is divided by the total weighted count; without reuse the attack does not count', () => {
    assert.deepEqual(planTraining(tinyConfig({ batchSize: 256, bnGroups: 4, syncUpdateSpeed: false }), 100000).divisors, { shared: 320, clean: 320, adv: 320 });
    assert.deepEqual(planTraining(tinyConfig({ batchSize: 256, bnGroups: 4, reuseGradients: false }), 100000).divisors, { shared: 288, clean: 256, adv: 32 });
  });

  it('vanilla and AdvProp average over the clean batch; AdvProp attacks every image', () => {
    const v = planTraining(tinyConfig({ method: 'vanilla', batchSize: 16 }), 1000);
    assert.deepEqual(v.batch, { clean: 16, adv: 0 });
    assert.deepEqual(v.divisors, { shared: 16, clean: 16, adv: 16 });
    const a = planTraining(tinyConfig({ method: 'advprop', batchSize: 16, attack: { steps: 3 } }), 1000);
    assert.deepEqual(a.batch, { clean: 16, adv: 16 });
    assert.deepEqual(a.passesPerStep, { clean: 16, attack: 48, adv: 16 });
  });

  it('same budget takes epochs and milestones from the calibration (half to even)', () => {
    const p = planTraining(tinyConfig({ batchSize: 8, epochs: 105, milestones: [30, 60, 90, 100], sameBudget: true }), 800);
    assert.equal(p.epochs, 87);
    assert.deepEqual(p.milestones, [25, 50, 75, 83]);
    assert.equal(p.stepsPerEpoch, 80); // 800 / (8 + 2)
  });

  it('refuses an attacked part that does not split into the BN groups, naming the field', () => {
    assert.throws(() => planTraining(tinyConfig({ batchSize: 12, bnGroups: 4 }), 1000), /^ConfigError: split: .*divisible by bnGroups/);
    // …and names the batch sizes that fit: 3:1 with 2 groups needs a multiple of 6.
    assert.throws(() => planTraining(tinyConfig({ batchSize: 64, bnGroups: 2, split: '3:1' }), 1000), /batchSize 60 or 66 fits split 3:1 with 2 groups exactly$/);
  });
  it('Table 4\'s 2:1 row trains at the default batch: 64 clean + 32 attacked, as the reference sizes it', () => {
    const plan = planTraining(tinyConfig({ batchSize: 64, bnGroups: 2, split: '2:1' }), 1000);
    assert.deepEqual(plan.batch, { clean: 64, adv: 32 });
    assert.deepEqual(planTraining(tinyConfig({ batchSize: 64, bnGroups: 2, pAdv: 0.33, split: undefined }), 1000).batch, { clean: 64, adv: 32 });
  });
});

describe('train: SGD and LR schedule', () => {
  it('follows torch.optim.SGD (momentum, weight decay added to the gradient)', () => {
    const p = new Float32Array([1, -2]);
    const m = new Float32Array(2);
    sgdStep(p, new Float32Array([0.5, 1]), m, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    // d = g + wd·p = [0.51, 0.98]; buf = d; p -= lr·buf
    assert.ok(Math.abs(p[0] - (1 - 0.051)) < 1e-6 && Math.abs(p[1] - (-2 - 0.098)) < 1e-6);
    sgdStep(p, new Float32Array([0.5, 1]), m, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const d0 = 0.5 + 0.01 * (1 - 0.051);
    assert.ok(Math.abs(m[0] - (0.9 * 0.51 + d0)) < 1e-6);
  });

  it('decays at milestones', () => {
    assert.equal(lrAtEpoch(0.1, 0.1, [2, 4], 1), 0.1);
    assert.ok(Math.abs(lrAtEpoch(0.1, 0.1, [2, 4], 2) - 0.01) < 1e-12);
    assert.ok(Math.abs(lrAtEpoch(0.1, 0.1, [2, 4], 5) - 0.001) < 1e-12);
  });
});

describe('train: shuffle BN permutation', () => {
  it('moves every sample to another BN group (G = 2..6, many seeds) and is a permutation', () => {
    for (let G = 2; G <= 6; G++) {
      for (const g of [1, 3, 8]) {
        for (let seed = 0; seed < 20; seed++) {
          const n = G * g;
          const perm = crossGroupPermutation(n, G, new Rng(seed));
          assert.deepEqual([...perm].sort((a, b) => a - b), [...Array(n).keys()]);
          for (let i = 0; i < n; i++) assert.notEqual(Math.floor(i / g), Math.floor(perm[i] / g), `G=${G} g=${g} seed=${seed} pos ${i}`);
        }
      }
    }
  });

  it('in a Fast AdvProp step, the adversarial pass sees every attacked image in a different group than the attack did', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ batchSize: 16, bnGroups: 4, split: '1:1' });
    const plan = planTraining(config, data.train.count);
    const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await t.trainStep();
    const attack = ex.requests.find((r) => r.attack)!;
    const adv = ex.requests.find((r) => r.bn === 'aux' && !r.attack)!;
    const px = 64;
    const g = attack.groupSize;
    assert.equal(adv.groupSize, g);
    // Images are distinct, so each adversarial image can be traced back to its attack position.
    const key = (a: Float32Array, i: number): string => Array.from(a.subarray(i * px, (i + 1) * px)).join(',');
    const where = new Map<string, number>();
    for (let i = 0; i < attack.count; i++) where.set(key(attack.images, i), i);
    for (let i = 0; i < adv.count; i++) {
      const from = where.get(key(adv.images, i));
      assert.ok(from !== undefined);
      assert.notEqual(Math.floor(from / g), Math.floor(i / g));
      assert.equal(adv.labels[i], attack.labels[from]);
    }
  });

  it('with shuffleBN false the adversarial pass keeps the attack grouping', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ batchSize: 16, bnGroups: 4, split: '1:1', shuffleBN: false });
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await t.trainStep();
    const attack = ex.requests.find((r) => r.attack)!;
    const adv = ex.requests.find((r) => r.bn === 'aux' && !r.attack)!;
    assert.deepEqual(adv.images, attack.images);
  });
});

describe('train: targeted Fast AdvProp attack', () => {
  async function targetsOf(target?: 'random' | 'next'): Promise<{ labels: Int32Array; targets: Int32Array }[]> {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const attack = { targeted: true, randomStart: 'never', ...(target ? { target } : {}) };
    const config = tinyConfig({ batchSize: 16, bnGroups: 4, split: '1:1', reuseGradients: false, attack });
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await t.trainStep();
    await t.trainStep();
    return ex.requests.filter((r) => r.attack).map((r) => ({ labels: r.labels, targets: r.attack!.targetLabels! }));
  }

  it('target "next" aims every image at (label + 1) mod classes, step after step', async () => {
    const steps = await targetsOf('next');
    assert.equal(steps.length, 2);
    for (const { labels, targets } of steps) {
      assert.equal(targets.length, 16);
      assert.deepEqual(Array.from(targets), Array.from(labels, (y) => (y + 1) % 4));
    }
  });

  it('without target (the default, random) every target is a wrong class and they are not all label + 1', async () => {
    const steps = await targetsOf();
    let next = 0;
    for (const { labels, targets } of steps) {
      for (let i = 0; i < labels.length; i++) {
        assert.notEqual(targets[i], labels[i]);
        if (targets[i] === (labels[i] + 1) % 4) next++;
      }
    }
    assert.ok(next < 32, `${next} of 32 random targets were label + 1`);
  });
});

describe('train: one Fast AdvProp step', () => {
  it('asks for the reference passes: clean (main, weight 1), attack (aux, training, β, reuse), adversarial (aux, β)', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ batchSize: 8, bnGroups: 2, beta: 0.5 });
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await t.trainStep();
    const [c, a, v] = ex.requests;
    assert.deepEqual([c.bn, c.training, c.lossWeight, c.paramGrads, c.count, c.groupSize], ['main', true, 1, true, 8, 4]);
    assert.deepEqual([a.bn, a.training, a.lossWeight, a.paramGrads, a.count, a.attack?.reuseGradients], ['aux', true, 0.5, false, 2, true]);
    assert.ok(Math.abs(a.attack!.epsilon - 2 / 255) < 1e-12);
    assert.equal(a.attack!.noise?.length, 2 * 64);
    assert.deepEqual([v.bn, v.training, v.lossWeight, v.paramGrads, v.count], ['aux', true, 0.5, true, 2]);
  });

  it('divides each group\'s summed gradient by its sync divisor', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ batchSize: 8, bnGroups: 2, beta: 0.5 });
    const plan = planTraining(config, 80);
    const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    t.keepBreakdown = true;
    await t.trainStep();
    const g = t.lastBreakdown!.grad;
    // Fake: per-sample gradient 1 × weight. Clean: 8·1; attack: 2·0.5; adv: 2·0.5.
    assert.deepEqual(plan.divisors, { shared: 10, clean: 8, adv: 2 });
    assert.ok(Math.abs(g[0] - (8 + 1 + 1) / 10) < 1e-6);
    assert.ok(Math.abs(g[2] - 8 / 8) < 1e-6);
    assert.ok(Math.abs(g[4] - (1 + 1) / 2) < 1e-6);
  });

  it('refuses a pass that writes gradients into the other BN set', async () => {
    const ex = new RecordingExecutor();
    ex.leakIntoOtherSet = true;
    const data = tinyData(80, 16);
    const config = tinyConfig();
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await assert.rejects(t.trainStep(), /aux BN\) produced a gradient for a main BN parameter/);
  });

  it('clean-BN parameters get only the clean pass\'s gradient (real model, per-group accounting)', async () => {
    const ex = await realExecutor();
    try {
      const data = tinyData(80, 16);
      const config = tinyConfig({ batchSize: 8, bnGroups: 2 });
      const plan = planTraining(config, 80);
      const init = initParams(tinySpec(), 0);
      const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, ...init, bnSpatial: bnSpatialSizes(tinySpec()) });
      t.keepBreakdown = true;
      await t.trainStep();
      const b = t.lastBreakdown!;
      assert.deepEqual(b.parts.map((p) => p.name), ['clean', 'noise', 'adv']);
      let checkedClean = 0;
      let nonzeroAux = 0;
      for (const p of ex.layout.params) {
        for (let i = p.offset; i < p.offset + p.size; i++) {
          if (p.group === 'clean') {
            for (const part of b.parts) if (part.bn === 'aux') assert.equal(part.grads[i], 0, `${part.name} touched ${p.name}`);
            assert.ok(Math.abs(b.grad[i] - b.parts[0].grads[i] / plan.divisors.clean) <= 1e-7 * Math.max(1, Math.abs(b.grad[i])));
            checkedClean++;
          }
          if (p.group === 'adv') {
            assert.equal(b.parts[0].grads[i], 0, `clean pass touched ${p.name}`);
            if (b.grad[i] !== 0) nonzeroAux++;
          }
        }
      }
      assert.ok(checkedClean > 0 && nonzeroAux > 0);
    } finally {
      await ex.dispose();
    }
  });
});

describe('train: vanilla learns', () => {
  it('a few vanilla steps lower the training loss on a tiny problem', async () => {
    const ex = await realExecutor();
    try {
      const data = tinyData(32, 16);
      const config = tinyConfig({ method: 'vanilla', batchSize: 32, bnGroups: 1, lr: 0.05, epochs: 1 });
      const plan = planTraining(config, 32);
      const init = initParams(tinySpec(), 3);
      const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, ...init });
      // The whole training set is the batch, so the loss of one fixed batch is measured each time.
      const lossNow = async (): Promise<number> => {
        await ex.setState(t.params, t.running);
        const idx = Int32Array.from({ length: 32 }, (_, i) => i);
        const b = makeBatch(data.train, idx, { augment: false });
        const [r] = await ex.run([{ images: b.images, count: 32, labels: b.labels, bn: 'main', training: true, groupSize: 32, lossWeight: 1, paramGrads: false }]);
        return r.lossSum / 32;
      };
      const before = await lossNow();
      for (let i = 0; i < 5; i++) await t.trainStep();
      const after = await lossNow();
      assert.ok(after < before - 0.05, `loss ${before} → ${after}`);
    } finally {
      await ex.dispose();
    }
  });
});

describe('train: NaN/Inf guard', () => {
  it('a non-finite loss stops the step before any update, naming the stream and step', async () => {
    const ex = new RecordingExecutor();
    ex.lossValue = (r) => (r.bn === 'aux' && !r.attack ? NaN : 1);
    const data = tinyData(80, 16);
    const config = tinyConfig();
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    const before = Float32Array.from(t.params);
    await assert.rejects(t.trainStep(), (e: unknown) => e instanceof DivergenceError && e.stream === 'adv' && /step 1/.test(e.message));
    assert.deepEqual(t.params, before);
    assert.equal(t.step, 0);
  });

  it('a non-finite gradient is caught too', async () => {
    const ex = new RecordingExecutor();
    ex.gradValue = (r) => (r.bn === 'main' ? Infinity : 1);
    const data = tinyData(80, 16);
    const config = tinyConfig();
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await assert.rejects(t.trainStep(), (e: unknown) => e instanceof DivergenceError && e.stream === 'clean' && /gradient/.test(e.message));
  });

  function guardTrainer(ex: RecordingExecutor, params: Float32Array, running: Float32Array): Trainer {
    const data = tinyData(80, 16);
    const config = tinyConfig();
    return new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params, running });
  }

  function assertUntouched(t: Trainer, params: Float32Array, running: Float32Array): void {
    assert.deepEqual(t.params, params);
    assert.deepEqual(t.running, running);
    assert.deepEqual(t.momentum, new Float32Array(t.params.length));
    assert.equal(t.step, 0);
  }

  it('non-finite BN batch statistics are caught before the running statistics move', async () => {
    const ex = new RecordingExecutor();
    ex.statsValues = (r) => new Float32Array(r.bn === 'aux' && !r.attack ? [0, Infinity] : [0, 1]);
    const params = new Float32Array(6);
    const running = new Float32Array([0, 1, 0, 1]);
    const t = guardTrainer(ex, params, running);
    await assert.rejects(t.trainStep(), (e: unknown) => e instanceof DivergenceError && e.stream === 'adv' && /BN batch statistics/.test(e.message) && /step 1/.test(e.message));
    assertUntouched(t, params, running);
  });

  it('a running variance that overflows float32 from finite batch statistics is refused and rolled back', async () => {
    const ex = new RecordingExecutor();
    // 0.9·3.4e38 + 0.1·3.4e38·4/3 (unbiased, clean group of 4) > FLT_MAX: finite input, Inf state.
    ex.statsValues = (r) => new Float32Array(r.bn === 'main' ? [0, 3.4e38] : [0, 1]);
    const params = new Float32Array(6);
    const running = new Float32Array([0, 3.4e38, 0, 1]);
    const t = guardTrainer(ex, params, running);
    await assert.rejects(t.trainStep(), (e: unknown) => e instanceof DivergenceError && e.stream === 'running' && /bn var\[0\]/.test(e.message));
    assertUntouched(t, params, running);
  });

  it('an SGD update that overflows float32 from finite gradients is refused before anything is applied', async () => {
    const ex = new RecordingExecutor();
    ex.gradValue = () => -1e37;
    const params = new Float32Array(6).fill(3.4e38);
    const running = new Float32Array([0, 1, 0, 1]);
    const t = guardTrainer(ex, params, running);
    await assert.rejects(t.trainStep(), (e: unknown) => e instanceof DivergenceError && e.stream === 'update' && /makes parameter .* non-finite/.test(e.message));
    assertUntouched(t, params, running);
  });
});

describe('train: resume', () => {
  async function trainTiny(ex: Executor, stopAt?: number, from?: ReturnType<typeof decodeCheckpoint>): Promise<{ t: Trainer; ckpt?: Buffer }> {
    const data = tinyData(48, 16);
    const config = tinyConfig({ batchSize: 8, bnGroups: 2, epochs: 2, milestones: [1], augment: { crop: true, flip: true, mixupAlpha: 0.2 }, attack: { randomStart: 'reference' } });
    const plan = planTraining(config, 48);
    let ckpt: Buffer | undefined;
    const init = initParams(tinySpec(), 7);
    const t: Trainer = new Trainer({
      config, plan, executor: ex, train: data.train, test: data.test, ...init, bnSpatial: bnSpatialSizes(tinySpec()),
      shouldStop: (): boolean => stopAt !== undefined && t.step >= stopAt,
      hooks: { checkpoint: (s, reason) => { if (reason === 'stop') ckpt = encodeCheckpoint(s); } },
    });
    if (from) t.restore(from);
    const out = await t.run();
    assert.equal(out.state, stopAt !== undefined ? 'stopped' : 'completed');
    return { t, ckpt };
  }

  it('stopping mid-epoch and resuming from the checkpoint reaches the same weights as an uninterrupted run', async () => {
    const ex = await realExecutor();
    try {
      const full = await trainTiny(ex);
      assert.equal(full.t.step, 8); // 2 epochs × 48/(8+2)=4 steps
      const first = await trainTiny(ex, 3);
      assert.ok(first.ckpt);
      const restored = decodeCheckpoint(first.ckpt);
      assert.equal(restored.step, 3);
      const second = await trainTiny(ex, undefined, restored);
      assert.equal(second.t.step, 8);
      assert.deepEqual(second.t.params, full.t.params);
      assert.deepEqual(second.t.running, full.t.running);
      assert.deepEqual(second.t.momentum, full.t.momentum);
      assert.notDeepEqual(first.t.params, full.t.params);
    } finally {
      await ex.dispose();
    }
  });
});

describe('train: leak detector in the loop', () => {
  async function runWith(advAcc: number): Promise<import('../../../src/shared/runFormat').MetricsRecord[]> {
    const ex = new RecordingExecutor();
    ex.accuracy = (r) => (r.bn === 'aux' && !r.attack ? advAcc : 0.5);
    const data = tinyData(80, 16);
    const config = tinyConfig({ epochs: 1, leak: { window: 2, margin: 0.1 } });
    const recs: import('../../../src/shared/runFormat').MetricsRecord[] = [];
    const t = new Trainer({ config, plan: planTraining(config, 80), executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]), hooks: { record: (r) => recs.push(r) } });
    await t.run();
    return recs;
  }

  it('adversarial accuracy well above clean flags every interval from the window on, with one event', async () => {
    const recs = await runWith(1);
    const steps = recs.filter((r) => r.kind === 'step') as Extract<(typeof recs)[number], { kind: 'step' }>[];
    assert.equal(steps[0].leak, undefined);
    assert.ok(steps.slice(1).every((s) => s.leak?.flagged === true));
    assert.equal(recs.filter((r) => r.kind === 'event' && r.event === 'leak').length, 1);
  });

  it('equal accuracies never flag', async () => {
    const recs = await runWith(0.5);
    assert.ok(recs.every((r) => r.kind !== 'step' || r.leak?.flagged !== true));
    assert.equal(recs.filter((r) => r.kind === 'event').length, 0);
  });
});

describe('train: AdvProp step', () => {
  it('by default reproduces the reference baseline: eval-mode attack toward (label + randint(0, C)) mod C, shared layers / 2B', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ method: 'advprop', batchSize: 8, bnGroups: 2, attack: { steps: 2 } });
    assert.deepEqual(config.advprop, { attackBn: 'eval', target: 'random', gradientDivisor: 'weighted-count' });
    const plan = planTraining(config, 80);
    assert.deepEqual(plan.divisors, { shared: 16, clean: 8, adv: 8 });
    const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    t.keepBreakdown = true;
    await t.trainStep();
    assert.equal(ex.requests.length, 2);
    const [c, a] = ex.requests;
    assert.deepEqual([c.bn, c.count, c.lossWeight], ['main', 8, 1]);
    // The pass trains with batch statistics; only the attack runs on the running ones.
    assert.deepEqual([a.bn, a.count, a.training, a.paramGrads, a.lossWeight, a.attack?.reuseGradients, a.attack?.steps, a.attack?.bnTraining], ['aux', 8, true, true, 1, false, 2, false]);
    assert.deepEqual(a.images, c.images);
    assert.equal(a.attack!.targetLabels!.length, 8);
    for (const l of a.attack!.targetLabels!) assert.ok(l >= 0 && l < 10);
    // Each group by the samples that reached it: shared (8 + 8) / 16, clean BN 8 / 8, aux BN 8 / 8.
    const g = t.lastBreakdown!.grad;
    assert.ok(Math.abs(g[0] - 1) < 1e-6, String(g[0]));
    assert.ok(Math.abs(g[2] - 1) < 1e-6 && Math.abs(g[4] - 1) < 1e-6);
  });

  it('advprop { attackBn: train, target: true-label, gradientDivisor: clean-batch } trains as engine versions before the reference baseline', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ method: 'advprop', batchSize: 8, bnGroups: 2, attack: { steps: 2 }, advprop: { attackBn: 'train', target: 'true-label', gradientDivisor: 'clean-batch' } });
    const plan = planTraining(config, 80);
    assert.deepEqual(plan.divisors, { shared: 8, clean: 8, adv: 8 });
    const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    t.keepBreakdown = true;
    await t.trainStep();
    const a = ex.requests[1];
    assert.equal(a.attack!.bnTraining, undefined);
    assert.equal(a.attack!.targetLabels, undefined);
    const g = t.lastBreakdown!.grad;
    assert.ok(Math.abs(g[0] - (8 + 8) / 8) < 1e-6);
  });

  it('the reference random target is (label + randint(0, C)) mod C, true label included', () => {
    const draws = [0, 3, 9, 7];
    let i = 0;
    const rng = { int: (n: number) => { assert.equal(n, 10); return draws[i++]; } } as unknown as Rng;
    assert.deepEqual([...drawReferenceTargets(rng, Int32Array.from([2, 5, 7, 3]), 10)], [2, 8, 6, 0]);
  });

  it('an advprop block is kept for method advprop only, and a bad value names its field', () => {
    assert.equal(tinyConfig({ advprop: { target: 'true-label' } }).advprop, undefined);
    assert.deepEqual(tinyConfig({ method: 'advprop', advprop: { target: 'true-label' } }).advprop, { attackBn: 'eval', target: 'true-label', gradientDivisor: 'weighted-count' });
    assert.throws(() => tinyConfig({ method: 'advprop', advprop: { attackBn: 'test' } }), /^ConfigError: advprop\.attackBn: must be one of "eval", "train"/);
    assert.throws(() => tinyConfig({ method: 'advprop', advprop: { steps: 1 } }), /advprop\.steps: unknown key/);
  });

  it('Fast AdvProp with decouple false attacks copies of the first clean images', async () => {
    const ex = new RecordingExecutor();
    const data = tinyData(80, 16);
    const config = tinyConfig({ batchSize: 8, bnGroups: 2, decouple: false, augment: { crop: false, flip: false, mixupAlpha: 0.4 } });
    const plan = planTraining(config, 80);
    assert.equal(plan.imagesPerStep, 8);
    const t = new Trainer({ config, plan, executor: ex, train: data.train, test: data.test, params: new Float32Array(6), running: new Float32Array([0, 1, 0, 1]) });
    await t.trainStep();
    const [c, a] = ex.requests;
    assert.ok(c.softLabels, 'mixup on the clean part');
    assert.equal(a.softLabels, undefined);
    assert.deepEqual(a.labels, c.labels.slice(0, 2));
    // Mixup changed the clean images after the copy: the attacked ones are unmixed dataset images.
    const all = makeBatch(data.train, Int32Array.from({ length: 80 }, (_, i) => i), { augment: false }).images;
    for (let j = 0; j < 2; j++) {
      const img = a.images.subarray(j * 64, (j + 1) * 64);
      let found = false;
      for (let i = 0; i < 80 && !found; i++) found = all.subarray(i * 64, (i + 1) * 64).every((v, k) => v === img[k]);
      assert.ok(found, `attacked image ${j} is not an unmixed dataset image`);
    }
    assert.notDeepEqual(a.images, c.images.slice(0, 2 * 64));
  });
});
