// BN groups split across workers (backend/bnTeam.ts, exec/shard.ts teamSize): a pool with more
// workers than a step has BN groups must give what one replica gives for the same groups, to float
// rounding (the split only reorders the sums inside a group).
import * as assert from 'node:assert/strict';
import { createExecutor } from '../../../src/engine/exec/createExecutor';
import type { WorkerPool } from '../../../src/engine/exec/pool';
import { maxTeam, teamSize } from '../../../src/engine/exec/shard';
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

const attack = (count: number): PassRequest['attack'] => ({
  steps: 2, epsilon: 0.03, stepSize: 0.02, lo: -1, hi: 1, reuseGradients: true,
  noise: Float32Array.from({ length: count * PX }, (_, i) => Math.cos(i) * 0.03),
});

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-12);
}

function assertSame(b: PassResult[], a: PassResult[], what: string): void {
  assert.equal(b.length, a.length);
  for (let i = 0; i < a.length; i++) {
    const w = `${what}, pass ${i}`;
    assert.equal(b[i].count, a[i].count, w);
    assert.equal(b[i].correct, a[i].correct, w);
    assert.ok(Math.abs(b[i].lossSum - a[i].lossSum) <= 1e-5 * Math.abs(a[i].lossSum), `${w}: loss ${b[i].lossSum} vs ${a[i].lossSum}`);
    for (const k of ['grads', 'advImages'] as const) {
      assert.equal(b[i][k] === undefined, a[i][k] === undefined, `${w}: ${k} presence`);
      if (a[i][k]) assert.ok(maxRel(b[i][k]!, a[i][k]!) < 1e-4, `${w}: ${k} ${maxRel(b[i][k]!, a[i][k]!)}`);
    }
    assert.equal(b[i].bnStats.length, a[i].bnStats.length, w);
    a[i].bnStats.forEach((s, j) => {
      assert.equal(b[i].bnStats[j].groups, s.groups, `${w}: bn ${j} groups`);
      assert.equal(b[i].bnStats[j].groupSize, s.groupSize, `${w}: bn ${j} group size`);
      assert.ok(maxRel(b[i].bnStats[j].values, s.values) < 1e-5, `${w}: bn ${j} ${maxRel(b[i].bnStats[j].values, s.values)}`);
    });
  }
}

describe('exec: BN groups split across workers (wasm)', function () {
  this.timeout(120000);
  let one: Executor;
  let four: Executor;
  const state = initParams(spec, 7);

  before(async () => {
    one = await createExecutor({ spec, backend: 'wasm', workers: 1 });
    four = await createExecutor({ spec, backend: 'wasm', workers: 4 });
    await one.setState(state.params, state.running);
    await four.setState(state.params, state.running);
  });
  after(async () => {
    await one?.dispose();
    await four?.dispose();
  });

  it('teamSize splits only training steps with fewer groups than workers, evenly', () => {
    assert.equal(teamSize([req(16, 8, 1)], 4), 2);
    assert.equal(teamSize([req(16, 16, 1)], 4), 4);
    assert.equal(teamSize([req(16, 16, 1)], 3), 2); // 3 would not divide 16
    assert.equal(teamSize([req(16, 4, 1)], 4), 1); // 4 groups already fill 4 workers
    assert.equal(teamSize([req(16, 8, 1), req(8, 8, 2)], 4), 1); // 3 groups: no second share per worker
    assert.equal(teamSize([req(16, 8, 1), req(6, 6, 3, { training: false })], 8), 1); // eval passes spread per sample
    assert.equal(teamSize([req(8, 8, 1)], 4), 2); // shares of at least MIN_TEAM_SHARE = 4 samples
    assert.equal(maxTeam([32, 8]), 2);
    assert.equal(maxTeam([32]), 8);
    assert.equal(maxTeam([32], 6), 4);
    assert.equal(maxTeam([12]), 3);
  });

  for (const [label, make] of [
    ['two groups of 8 on teams of 2', () => [req(16, 8, 1)]],
    ['one group of 16 on a team of 4', () => [req(16, 16, 2)]],
    ['a PGD-2 attack reusing gradients, one group of 16 on a team of 4', () => [req(16, 16, 3, { bn: 'aux', paramGrads: false, attack: attack(16) })]],
    ['a clean and an attacked pass side by side, teams of 2', () => [req(8, 8, 4), req(8, 8, 5, { bn: 'aux', attack: attack(8) })]],
  ] as [string, () => PassRequest[]][]) {
    it(`${label}: the same loss, gradients, BN statistics and adversarial images as one replica`, async () => {
      const a = await one.run(make());
      const b = await four.run(make());
      const pool = four as WorkerPool;
      assert.ok(pool.lastRun!.workers.every((w) => w !== undefined && w.passMs.length === 1), 'every worker ran one share');
      assertSame(b, a, label);
    });
  }

  it('a failing member does not leave its team waiting: the step fails at once with the reason', async () => {
    const bad = req(16, 16, 6);
    bad.labels[15] = 99; // only the last member's share has it
    const t0 = Date.now();
    await assert.rejects(four.run([bad]), /label 99 outside 0\.\.9|another worker of this BN group failed/);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    // The pool still works afterwards.
    assertSame(await four.run([req(16, 8, 1)]), await one.run([req(16, 8, 1)]), 'after a failure');
  });
});
