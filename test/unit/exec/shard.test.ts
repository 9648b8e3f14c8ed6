import * as assert from 'node:assert/strict';
import { mergeResults, planShards, sliceRequest } from '../../../src/engine/exec/shard';
import type { PassRequest, PassResult } from '../../../src/engine/exec/types';
import { createReplica } from './fakeReplica';

const spec = { arch: 'resnet8' as const, width: 4, inputHeight: 2, inputWidth: 2, inputChannels: 3, numClasses: 10 };
const PX = 12;

function request(count: number, groupSize: number, training = true, extra: Partial<PassRequest> = {}): PassRequest {
  return {
    images: Float32Array.from({ length: count * PX }, (_, i) => Math.sin(i * 1.7)),
    count,
    labels: Int32Array.from({ length: count }, (_, i) => (i * 7) % 10),
    softLabels: Float32Array.from({ length: count * 10 }, (_, i) => i),
    bn: 'main', training, groupSize, lossWeight: 0.5, paramGrads: true,
    ...extra,
  };
}

describe('exec: shard planning', () => {
  it('cuts training passes only at group boundaries, as evenly as possible', () => {
    assert.deepEqual(planShards(request(24, 4), 2), [{ start: 0, count: 12 }, { start: 12, count: 12 }]);
    assert.deepEqual(planShards(request(20, 4), 2), [{ start: 0, count: 12 }, { start: 12, count: 8 }]);
    assert.deepEqual(planShards(request(8, 8), 4), [{ start: 0, count: 8 }]);
    for (const s of planShards(request(60, 6), 4)) assert.equal(s.count % 6, 0);
  });

  it('cuts eval passes anywhere', () => {
    assert.deepEqual(planShards(request(10, 10, false), 3), [{ start: 0, count: 4 }, { start: 4, count: 3 }, { start: 7, count: 3 }]);
  });

  it('rejects a count that is not a multiple of the group size', () => {
    assert.throws(() => planShards(request(10, 4), 2), /multiple of groupSize/);
  });

  it('slices every per-sample array, including the attack noise and target labels', () => {
    const noise = Float32Array.from({ length: 8 * PX }, (_, i) => i);
    const targetLabels = Int32Array.from({ length: 8 }, (_, i) => 100 + i);
    const req = request(8, 2, true, { attack: { steps: 1, epsilon: 0.1, stepSize: 0.1, lo: -1, hi: 1, noise, targetLabels, reuseGradients: false } });
    const sub = sliceRequest(req, { start: 2, count: 4 });
    assert.equal(sub.count, 4);
    assert.deepEqual(sub.images, req.images.slice(2 * PX, 6 * PX));
    assert.deepEqual(sub.labels, req.labels.slice(2, 6));
    assert.deepEqual(sub.softLabels, req.softLabels!.slice(20, 60));
    assert.deepEqual(sub.attack!.noise, noise.slice(2 * PX, 6 * PX));
    assert.deepEqual(sub.attack!.targetLabels, targetLabels.slice(2, 6));
    assert.equal(sub.groupSize, 2);
    // Copies, not views (they are transferred to workers).
    assert.equal(sub.images.byteOffset, 0);
    assert.notEqual(sub.images.buffer, req.images.buffer);
  });
});

describe('exec: merging shard results', () => {
  const replica = createReplica(spec);
  replica.setState(Float32Array.from([0.3, -0.2, 0.5, 0.1, -0.4, 0.25]), new Float32Array(4));

  function close(a: PassResult, b: PassResult): void {
    assert.equal(a.count, b.count);
    assert.equal(a.correct, b.correct);
    assert.ok(Math.abs(a.lossSum - b.lossSum) < 1e-4 * Math.max(1, Math.abs(b.lossSum)), `${a.lossSum} vs ${b.lossSum}`);
    for (const k of ['grads', 'advImages', 'logits'] as const) {
      assert.equal(a[k] === undefined, b[k] === undefined, k);
      if (a[k]) a[k]!.forEach((v, i) => assert.ok(Math.abs(v - b[k]![i]) < 1e-4, `${k}[${i}] ${v} vs ${b[k]![i]}`));
    }
    assert.equal(a.bnStats.length, b.bnStats.length);
    a.bnStats.forEach((s, i) => {
      assert.equal(s.groups, b.bnStats[i].groups);
      assert.equal(s.groupSize, b.bnStats[i].groupSize);
      s.values.forEach((v, j) => assert.ok(Math.abs(v - b.bnStats[i].values[j]) < 1e-4, `bn ${v} vs ${b.bnStats[i].values[j]}`));
    });
    assert.equal(a.attackLossSum === undefined, b.attackLossSum === undefined);
    if (a.attackLossSum !== undefined) assert.ok(Math.abs(a.attackLossSum - b.attackLossSum!) < 1e-4);
  }

  for (const parts of [2, 3, 5]) {
    it(`a pass split into ${parts} shards merges to the unsplit result (unequal shards weight BN stats by groups)`, () => {
      const noise = Float32Array.from({ length: 30 * PX }, (_, i) => Math.cos(i) * 0.01);
      for (const req of [
        request(30, 3),
        request(30, 5, true, { attack: { steps: 1, epsilon: 0.1, stepSize: 0.1, lo: -1, hi: 1, noise, reuseGradients: true } }),
        request(30, 30, false, { paramGrads: false }),
      ]) {
        const whole = replica.runPass(req);
        const merged = mergeResults(planShards(req, parts).map((s) => replica.runPass(sliceRequest(req, s))));
        close(merged, whole);
      }
    });
  }
});
