// The real replica through both executors: worker count must not change the numbers.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createExecutor } from '../../../src/engine/exec/createExecutor';
import { createReplica } from '../../../src/engine/exec/replica';
import type { Executor, PassRequest, PassResult } from '../../../src/engine/exec/types';
import { initParams } from '../../../src/engine/model/init';

const spec = { arch: 'resnet8' as const, width: 4, inputHeight: 8, inputWidth: 8, inputChannels: 3, numClasses: 10 };
const PX = 8 * 8 * 3;

function req(count: number, groupSize: number, seed: number, extra: Partial<PassRequest> = {}): PassRequest {
  return {
    images: Float32Array.from({ length: count * PX }, (_, i) => Math.sin(i * 0.13 + seed) * 0.9),
    count,
    labels: Int32Array.from({ length: count }, (_, i) => (i * 3 + seed) % 10),
    bn: 'main', training: true, groupSize, lossWeight: 1, paramGrads: true,
    ...extra,
  };
}

function passes(): PassRequest[] {
  return [
    req(16, 4, 1),
    req(8, 4, 2, { bn: 'aux', paramGrads: false, attack: { steps: 1, epsilon: 0.03, stepSize: 0.03, lo: -1, hi: 1, noise: Float32Array.from({ length: 8 * PX }, (_, i) => Math.cos(i) * 0.03), reuseGradients: true } }),
    req(6, 6, 3, { training: false, paramGrads: false }),
  ];
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-12);
}

describe('exec: real ResNet-8 through 1 and 2 workers (wasm)', function () {
  this.timeout(90000);
  let one: Executor;
  let two: Executor;
  const state = initParams(spec, 7);

  before(async () => {
    one = await createExecutor({ spec, backend: 'wasm', workers: 1 });
    two = await createExecutor({ spec, backend: 'wasm', workers: 2 });
    await one.setState(state.params, state.running);
    await two.setState(state.params, state.running);
  });
  after(async () => {
    await one?.dispose();
    await two?.dispose();
  });

  it('gives the same loss, gradients, BN statistics, adversarial images and logits', async () => {
    const a: PassResult[] = await one.run(passes());
    const b: PassResult[] = await two.run(passes());
    for (let i = 0; i < a.length; i++) {
      assert.equal(b[i].count, a[i].count);
      assert.equal(b[i].correct, a[i].correct);
      assert.ok(Math.abs(b[i].lossSum - a[i].lossSum) <= 1e-4 * Math.abs(a[i].lossSum), `pass ${i} loss ${b[i].lossSum} vs ${a[i].lossSum}`);
      for (const k of ['grads', 'advImages', 'logits'] as const) {
        assert.equal(b[i][k] === undefined, a[i][k] === undefined, `pass ${i} ${k} presence`);
        if (a[i][k]) assert.ok(maxRel(b[i][k]!, a[i][k]!) < 1e-4, `pass ${i} ${k}: ${maxRel(b[i][k]!, a[i][k]!)}`);
      }
      assert.equal(b[i].bnStats.length, a[i].bnStats.length);
      a[i].bnStats.forEach((s, j) => {
        assert.equal(b[i].bnStats[j].groups, s.groups);
        assert.ok(maxRel(b[i].bnStats[j].values, s.values) < 1e-4, `pass ${i} bn ${j}`);
      });
    }
    assert.ok(a[0].grads!.some((v) => v !== 0));
  });

  it('keeps the in-process tensor count flat across passes', async () => {
    await one.run(passes());
    const before = tf.memory().numTensors;
    await one.run(passes());
    await one.setState(state.params, state.running);
    await one.run(passes());
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('exec: an attack in eval mode inside a training pass (the AdvProp baseline)', function () {
  this.timeout(90000);
  it('attacks with the running statistics, then trains on batch statistics: same images as an eval-mode attack, one BN record', async () => {
    await tf.setBackend('cpu');
    const replica = createReplica(spec);
    const init = initParams(spec, 3);
    // Running statistics far from any batch's, so a train-mode attack would step differently.
    const running = init.running.map((v, i) => (i % 2 ? v * 3 : v + 0.5));
    replica.setState(init.params, running);
    const attack = { steps: 2, epsilon: 0.05, stepSize: 0.025, lo: -1, hi: 1, targetLabels: Int32Array.from({ length: 8 }, (_, i) => (i + 4) % 10), reuseGradients: false };
    const mixed = replica.runPass(req(8, 4, 5, { bn: 'aux', attack: { ...attack, bnTraining: false } }));
    const evalOnly = replica.runPass(req(8, 4, 5, { bn: 'aux', training: false, paramGrads: false, attack }));
    const trainAttack = replica.runPass(req(8, 4, 5, { bn: 'aux', attack }));
    assert.deepEqual(mixed.advImages, evalOnly.advImages);
    assert.notDeepEqual(mixed.advImages, trainAttack.advImages, 'the BN mode of the attack matters here');
    assert.equal(mixed.bnStats.length, 1, 'only the training pass records BN statistics');
    assert.equal(trainAttack.bnStats.length, 3);
    assert.ok(mixed.grads && mixed.grads.some((g) => g !== 0));
    replica.dispose();
  });
});
