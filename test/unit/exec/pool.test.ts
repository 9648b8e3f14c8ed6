import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { createExecutor } from '../../../src/engine/exec/createExecutor';
import { InProcessExecutor } from '../../../src/engine/exec/inProcess';
import { WorkerPool } from '../../../src/engine/exec/pool';
import type { Executor, PassRequest, PassResult } from '../../../src/engine/exec/types';
import { EXIT_LABEL, FAKE_PARAMS, THROW_LABEL } from './fakeReplica';

const replicaModule = path.join(__dirname, 'fakeReplica.js');
const spec = { arch: 'resnet8' as const, width: 4, inputHeight: 2, inputWidth: 2, inputChannels: 3, numClasses: 10 };
const PX = 12;
const params = Float32Array.from({ length: FAKE_PARAMS }, (_, i) => 0.1 * (i + 1) * (i % 2 ? -1 : 1));

function request(count: number, groupSize: number, seed: number, extra: Partial<PassRequest> = {}): PassRequest {
  return {
    images: Float32Array.from({ length: count * PX }, (_, i) => Math.sin(i * 0.37 + seed)),
    count,
    labels: Int32Array.from({ length: count }, (_, i) => (i + seed) % 10),
    bn: 'main', training: true, groupSize, lossWeight: 1, paramGrads: true,
    ...extra,
  };
}

const requests = (): PassRequest[] => [
  request(16, 4, 1),
  request(12, 4, 2, { attack: { steps: 1, epsilon: 0.1, stepSize: 0.1, lo: -1, hi: 1, noise: new Float32Array(12 * PX).fill(0.01), reuseGradients: true }, paramGrads: false }),
  request(9, 9, 3, { training: false, paramGrads: false }),
  request(8, 8, 4),
];

function assertSame(a: PassResult[], b: PassResult[]): void {
  assert.equal(a.length, b.length);
  a.forEach((r, i) => {
    assert.equal(r.count, b[i].count);
    assert.equal(r.correct, b[i].correct);
    assert.ok(Math.abs(r.lossSum - b[i].lossSum) < 1e-4, `loss ${r.lossSum} vs ${b[i].lossSum}`);
    for (const k of ['grads', 'advImages', 'logits'] as const) {
      assert.equal(r[k]?.length, b[i][k]?.length, k);
      r[k]?.forEach((v, j) => assert.ok(Math.abs(v - b[i][k]![j]) < 1e-4, `${k}[${j}]`));
    }
    assert.deepEqual(r.bnStats.map((s) => s.groups), b[i].bnStats.map((s) => s.groups));
  });
}

describe('exec: worker pool (fake replica)', function () {
  this.timeout(60000);
  const open: Executor[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.dispose()));
  });

  async function make(workers: number): Promise<Executor> {
    const ex = await createExecutor({ spec, backend: 'cpu', workers, replicaModule });
    open.push(ex);
    await ex.setState(params, new Float32Array(4));
    return ex;
  }

  it('one worker runs in-process; more run on a pool', async () => {
    const one = await make(1);
    assert.ok(one instanceof InProcessExecutor);
    assert.equal(one.workers, 1);
    const two = await make(2);
    assert.ok(two instanceof WorkerPool);
    assert.equal(two.workers, 2);
    assert.equal(two.backend.workers, 2);
    assert.equal(two.layout.paramCount, FAKE_PARAMS);
  });

  it('results do not depend on the worker count', async () => {
    const one = await make(1);
    const two = await make(2);
    const three = await make(3);
    const r1 = await one.run(requests());
    assertSame(await two.run(requests()), r1);
    assertSame(await three.run(requests()), r1);
  });

  it('setState reaches every worker', async () => {
    const two = await make(2);
    const before = await two.run([request(8, 2, 5)]);
    await two.setState(params.map((v) => v * 2), new Float32Array(4));
    const after = await two.run([request(8, 2, 5)]);
    // Doubling the weights doubles every |s| term; the label term is unchanged.
    const labels = Array.from({ length: 8 }, (_, i) => (i + 5) % 10).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs((after[0].lossSum - labels) - 2 * (before[0].lossSum - labels)) < 1e-3);
  });

  it('survives a pass that throws, with the worker named in the message', async () => {
    const two = await make(2);
    const bad = request(8, 4, 0);
    bad.labels[0] = THROW_LABEL;
    await assert.rejects(two.run([bad]), /worker \d: fake replica: asked to fail/);
    const ok = await two.run([request(8, 4, 1)]);
    assert.equal(ok[0].count, 8);
  });

  it('a worker that dies rejects the run with a clear message and shuts the pool down', async () => {
    const two = await make(2);
    const bad = request(8, 4, 0);
    bad.labels[0] = EXIT_LABEL;
    await assert.rejects(two.run([bad]), /worker \d of 2 \(cpu\) exited unexpectedly with code 3; the executor was shut down/);
    await assert.rejects(two.run([request(8, 4, 1)]), /shut down/);
    await two.dispose();
  });

  it('a worker that cannot start fails creation with its reason', async () => {
    await assert.rejects(
      WorkerPool.create({ spec, backend: 'cpu', workers: 2, info: { name: 'cpu', requested: 'cpu', package: '', gpu: false, reason: '', attempts: [], workers: 2 }, replicaModule: path.join(__dirname, 'does-not-exist.js') }),
      /could not start the cpu backend\/model: Cannot find module/,
    );
  });
});
