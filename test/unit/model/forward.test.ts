import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createReplica } from '../../../src/engine/exec/replica';
import { bnSetOffset, bnSetSize } from '../../../src/engine/model/layout';
import { initParams } from '../../../src/engine/model/init';
import { baseRequest, maxRelDiff, replicaWithState, tinySpec, useCpu } from './helpers';

describe('model: forward and ghost BN', function () {
  before(useCpu);

  it('stem BN statistics are the per-group moments of the stem conv output, averaged over groups', () => {
    const spec = tinySpec();
    const { replica, params } = replicaWithState(spec);
    const N = 6;
    const req = baseRequest(spec, N, { paramGrads: false });
    const stem = replica.layout.params.find((p) => p.name === 'stem.conv.w')!;
    const convOut = tf.tidy(() =>
      tf.conv2d(tf.tensor4d(req.images, [N, 8, 8, 3]), tf.tensor4d(params.slice(stem.offset, stem.offset + stem.size), stem.shape as [number, number, number, number]), 1, 'same').dataSync(),
    );
    const C = spec.width;
    const handMoments = (from: number, to: number): { mean: number[]; variance: number[] } => {
      const mean: number[] = [];
      const variance: number[] = [];
      for (let c = 0; c < C; c++) {
        let s = 0;
        let m = 0;
        for (let i = from * 64; i < to * 64; i++) s += convOut[i * C + c];
        const mu = s / ((to - from) * 64);
        for (let i = from * 64; i < to * 64; i++) m += (convOut[i * C + c] - mu) ** 2;
        mean.push(mu);
        variance.push(m / ((to - from) * 64));
      }
      return { mean, variance };
    };
    for (const g of [N, 3, 2]) {
      const res = replica.runPass({ ...req, groupSize: g });
      assert.equal(res.bnStats.length, 1);
      assert.equal(res.bnStats[0].groupSize, g);
      assert.equal(res.bnStats[0].groups, N / g);
      assert.equal(res.bnStats[0].values.length, bnSetSize(replica.layout, 'main'));
      const mean = new Array(C).fill(0);
      const variance = new Array(C).fill(0);
      for (let s = 0; s < N; s += g) {
        const m = handMoments(s, s + g);
        for (let c = 0; c < C; c++) {
          mean[c] += (m.mean[c] * g) / N;
          variance[c] += (m.variance[c] * g) / N;
        }
      }
      const got = res.bnStats[0].values;
      assert.ok(maxRelDiff(got.subarray(0, C), mean) < 1e-5, `mean, groupSize ${g}`);
      assert.ok(maxRelDiff(got.subarray(C, 2 * C), variance) < 1e-5, `var, groupSize ${g}`);
    }
    replica.dispose();
  });

  it('with groupSize = N equals plain batch norm: eval with running stats := batch stats gives the same logits', () => {
    const spec = tinySpec({ inputHeight: 12, inputWidth: 12 });
    for (const bn of ['main', 'aux'] as const) {
      const { replica, params, running } = replicaWithState(spec);
      const N = 4;
      const req = baseRequest(spec, N, { bn, paramGrads: false });
      const train = replica.runPass(req);
      assert.ok(train.logits);
      const r2 = running.slice();
      r2.set(train.bnStats[0].values, bnSetOffset(replica.layout, bn));
      replica.setState(params, r2);
      const ev = replica.runPass({ ...req, training: false });
      assert.ok(maxRelDiff(ev.logits!, train.logits!) < 1e-4, `${bn}: ${maxRelDiff(ev.logits!, train.logits!)}`);
      // The other set's running statistics must not matter for this set's eval pass.
      replica.setState(params, running);
      const before = replica.runPass({ ...req, training: false });
      assert.ok(maxRelDiff(before.logits!, ev.logits!) > 1e-3, 'running stats must change eval logits');
      replica.dispose();
    }
  });

  it('ghost BN groups are independent: a batch of two groups equals each group run alone', () => {
    const spec = tinySpec();
    const { replica } = replicaWithState(spec);
    const N = 8;
    const req = baseRequest(spec, N, { paramGrads: false, groupSize: 4 });
    const px = 8 * 8 * 3;
    const whole = replica.runPass(req);
    const halves = [0, 4].map((s) =>
      replica.runPass({ ...req, count: 4, images: req.images.slice(s * px, (s + 4) * px), labels: req.labels.slice(s, s + 4) }),
    );
    const cat = new Float32Array(N * 5);
    cat.set(halves[0].logits!, 0);
    cat.set(halves[1].logits!, 20);
    assert.ok(maxRelDiff(whole.logits!, cat) < 1e-5);
    const avg = halves[0].bnStats[0].values.map((v, i) => (v + halves[1].bnStats[0].values[i]) / 2);
    assert.ok(maxRelDiff(whole.bnStats[0].values, avg) < 1e-5);
    // And differs from one group over all 8 (so the grouping really acts).
    const one = replica.runPass({ ...req, groupSize: 8 });
    assert.ok(maxRelDiff(whole.logits!, one.logits!) > 1e-3);
    replica.dispose();
  });

  it('runs odd image sizes and the ImageNet-style archs (both stems)', () => {
    const cases = [
      tinySpec({ inputHeight: 9, inputWidth: 11 }),
      tinySpec({ arch: 'resnet14', inputHeight: 13, inputWidth: 8, inputChannels: 1 }),
      tinySpec({ arch: 'resnet18', width: 2, inputHeight: 10, inputWidth: 10 }),
      tinySpec({ arch: 'resnet50', width: 2, inputHeight: 64, inputWidth: 66 }),
    ];
    for (const spec of cases) {
      const replica = createReplica(spec);
      const { params, running } = initParams(spec, 2);
      replica.setState(params, running);
      const res = replica.runPass(baseRequest(spec, 4, { groupSize: 2 }));
      assert.ok(Number.isFinite(res.lossSum) && res.lossSum > 0, spec.arch);
      assert.ok(res.grads!.every(Number.isFinite), spec.arch);
      assert.equal(res.bnStats[0].values.length, bnSetSize(replica.layout, 'main'));
      replica.dispose();
    }
  });
});
