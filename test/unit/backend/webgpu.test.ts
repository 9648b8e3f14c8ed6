// The WebGPU backend (tfjs-backend-webgpu on Dawn) against the cpu backend. On machines without a
// GPU this runs on Mesa's software adapter (llvmpipe through Dawn's OpenGL/EGL backend), which
// executes the same WGSL shaders tfjs generates for a real GPU, so a kernel that is wrong there is
// wrong on an NVIDIA card too. Tolerances: max|webgpu − cpu| / max|cpu| ≤ 1e-4 for kernel values
// and gradients and for whole passes, ≤ 1e-5 for weights after an SGD step (seen: ≤ 2e-6).
// Where no adapter can be had the suite says why and skips, except under CI (CI=true), which must
// run it: scripts/ensure-system-deps.mjs installs Mesa's EGL/GL packages with the test deps.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { main } from '../../../src/engine/cli';
import { selectBackend } from '../../../src/engine/backend/select';
import { applyFlagOverrides, GpuKernelError, releaseWebGpu } from '../../../src/engine/backend/webgpu';
import { createExecutor } from '../../../src/engine/exec/createExecutor';
import { createReplica } from '../../../src/engine/exec/replica';
import type { ModelSpec, PassRequest, PassResult } from '../../../src/engine/exec/types';
import { crossEntropySum, initParams } from '../../../src/engine/model';
import { batchNormTrain } from '../../../src/engine/model/forward';
import { encodeIdx } from '../../../src/engine/data/idx';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';
import { updateRunningStats } from '../../../src/engine/train/bnRunning';
import type { BackendInfo, RunConfigRecord } from '../../../src/shared/runFormat';
import { tinyDeps } from '../train/helpers';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'out/src/engine/cli.js');
const TOL = 1e-4;

/** max|a − b| / max|b| (b: the cpu reference). */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

const wave = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.9 + 0.05 * Math.cos(i * 1.3));
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe('backend: webgpu against cpu', function () {
  this.timeout(600_000);
  let info: BackendInfo | undefined;
  let previous = 'cpu';

  before(async function () {
    previous = tf.getBackend() ?? 'cpu';
    try {
      info = await selectBackend('webgpu');
    } catch (e) {
      const why = (e as Error).message;
      // CI must be a place where these run; a developer's machine without Mesa's EGL is told why.
      if (process.env.CI) throw new Error(`no WebGPU adapter under CI: ${why}`);
      console.log(`      webgpu suite skipped: ${why}`);
      this.skip();
    }
  });

  after(async () => {
    releaseWebGpu();
    await tf.setBackend(previous);
  });

  it('records the adapter; an explicit request accepts a software one and says so', () => {
    assert.equal(info!.name, 'webgpu');
    assert.ok(info!.adapter, 'adapter recorded');
    assert.equal(info!.gpu, !info!.adapter!.software);
    if (info!.adapter!.software) assert.match(info!.reason, /software adapter/);
    assert.ok(!info!.reason.includes('\n'));
  });

  type Case = { name: string; shapes: number[][]; f: (...x: tf.Tensor[]) => tf.Tensor };
  const T4 = (t: tf.Tensor) => t as tf.Tensor4D;
  const cases: Case[] = [
    { name: 'Conv2D 3×3 stride 1 same', shapes: [[2, 8, 8, 3], [3, 3, 3, 4]], f: (x, w) => tf.conv2d(T4(x), T4(w), 1, 'same') },
    { name: 'Conv2D 3×3 stride 2 on a padded input', shapes: [[2, 9, 9, 4], [3, 3, 4, 8]], f: (x, w) => tf.conv2d(T4(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])), T4(w), 2, 'valid') },
    { name: 'Conv2D 1×1 stride 2 (projection shortcut)', shapes: [[2, 8, 8, 4], [1, 1, 4, 8]], f: (x, w) => tf.conv2d(T4(x), T4(w), 2, 'valid') },
    { name: 'Conv2D 7×7 stride 2 (ImageNet stem)', shapes: [[1, 16, 16, 3], [7, 7, 3, 4]], f: (x, w) => tf.conv2d(T4(tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]])), T4(w), 2, 'valid') },
    { name: 'DepthwiseConv2D 1×1 stride 2 (subsample)', shapes: [[2, 8, 8, 4]], f: (x) => tf.depthwiseConv2d(T4(x), tf.ones([1, 1, 4, 1]) as tf.Tensor4D, 2, 'valid') },
    { name: 'MaxPool 3×3 stride 2', shapes: [[2, 9, 9, 4]], f: (x) => tf.maxPool(T4(x), 3, 2, 'valid') },
    { name: 'PadV2 rank 4 (channels, option-A shortcut)', shapes: [[2, 4, 4, 3]], f: (x) => tf.pad(x, [[0, 0], [0, 0], [0, 0], [2, 3]]) },
    { name: 'MatMul (fc)', shapes: [[4, 16], [16, 10]], f: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D) },
    { name: 'BatchMatMul (BN group sums)', shapes: [[2, 12, 5]], f: (x) => tf.matMul(tf.ones([2, 1, 12]) as tf.Tensor3D, x as tf.Tensor3D) },
    { name: 'fused BN train + ReLU, one group', shapes: [[4, 4, 4, 6], [6], [6]], f: (x, g, b) => batchNormTrain(T4(x), g, b, 1, true).y },
    { name: 'fused BN train, two ghost groups', shapes: [[4, 4, 4, 6], [6], [6]], f: (x, g, b) => batchNormTrain(T4(x), g, b, 2, false).y },
    { name: 'Mean over H, W (global pool)', shapes: [[2, 4, 4, 8]], f: (x) => tf.mean(x, [1, 2]) },
    { name: 'softmax cross-entropy', shapes: [[4, 10], [4, 10]], f: (x, t) => crossEntropySum(x as tf.Tensor2D, tf.softmax(t) as tf.Tensor2D) },
    { name: 'Add, Mul, Sub, Rsqrt, Relu, Sign, Min/Max clip', shapes: [[3, 5], [3, 5]], f: (a, b) => tf.add(tf.relu(tf.mul(a, tf.rsqrt(tf.add(tf.abs(b), 1)))), tf.minimum(tf.maximum(tf.sub(a, tf.mul(tf.sign(b), 0.1)), -0.5), 0.5)) },
    { name: 'Concat, Slice, Reshape, Transpose', shapes: [[2, 3, 4], [2, 3, 4]], f: (a, b) => tf.transpose(tf.reshape(tf.slice(tf.concat([a, b], 1), [0, 1, 0], [2, 4, 4]), [2, 16])) },
  ];

  /** Value and the gradient of Σ R·f (R fixed) with respect to every input, on one backend. */
  async function evalCase(c: Case, backend: string): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const xs = c.shapes.map((s, i) => tf.tensor(wave(size(s), i + 1), s));
    const y = c.f(...xs);
    const r = tf.tensor(wave(y.size, 7), y.shape);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(c.f(...a), r)))(xs);
    const out = await Promise.all([y, ...gs].map((t) => t.data() as Promise<Float32Array>));
    tf.dispose([...xs, y, r, ...gs]);
    return out;
  }

  for (const c of cases) {
    it(`kernel: ${c.name} (value and every input gradient)`, async () => {
      const cpu = await evalCase(c, 'cpu');
      const gpu = await evalCase(c, 'webgpu');
      cpu.forEach((ref, i) => {
        const d = rel(gpu[i], ref);
        assert.ok(d <= TOL, `${i === 0 ? 'value' : `gradient ${i}`}: relative difference ${d.toExponential(2)} > ${TOL}`);
      });
    });
  }

  /** The request kinds a Fast AdvProp / AdvProp / vanilla step and evaluation send, on one batch. */
  function requests(spec: ModelSpec, N: number): PassRequest[] {
    const px = spec.inputHeight * spec.inputWidth * spec.inputChannels;
    const images = wave(N * px, 3);
    const labels = Int32Array.from({ length: N }, (_, i) => (i * 3) % spec.numClasses);
    const noise = wave(N * px, 11).map((v) => v * 0.008);
    const targets = Int32Array.from(labels, (l) => (l + 1) % spec.numClasses);
    const attack = { epsilon: 0.008, stepSize: 0.008, lo: -1, hi: 1 };
    const base = { images, count: N, labels, lossWeight: 1, groupSize: N / 2 };
    return [
      { ...base, bn: 'main', training: true, paramGrads: true },
      { ...base, bn: 'aux', training: true, paramGrads: false, lossWeight: 0.5, attack: { ...attack, steps: 1, noise, reuseGradients: true } },
      { ...base, bn: 'aux', training: true, paramGrads: true, attack: { ...attack, steps: 3, reuseGradients: false } },
      { ...base, bn: 'aux', training: false, paramGrads: false, attack: { ...attack, steps: 2, targetLabels: targets, reuseGradients: false } },
      { ...base, bn: 'main', training: false, paramGrads: false, groupSize: N },
    ];
  }

  async function passes(spec: ModelSpec, backend: string, reqs: PassRequest[]): Promise<PassResult[]> {
    await tf.setBackend(backend);
    const init = initParams(spec, 4);
    const replica = createReplica(spec);
    replica.setState(init.params, init.running);
    const out: PassResult[] = [];
    try {
      for (const r of reqs) out.push(await replica.runPassAsync(r));
    } finally {
      replica.dispose();
    }
    return out;
  }

  for (const [arch, hw] of [['resnet8', 16], ['resnet18', 16]] as const) {
    it(`${arch}: clean, Fast AdvProp attack with gradient reuse, PGD-3, targeted PGD-2 and eval passes equal cpu`, async () => {
      const spec: ModelSpec = { arch, width: 4, inputHeight: hw, inputWidth: hw, inputChannels: 3, numClasses: 10 };
      const reqs = requests(spec, 8);
      const cpu = await passes(spec, 'cpu', reqs);
      const gpu = await passes(spec, 'webgpu', reqs);
      const init = initParams(spec, 4);
      const layout = createReplica(spec).layout;
      cpu.forEach((c, i) => {
        const g = gpu[i];
        const at = `request ${i}`;
        assert.ok(Math.abs(g.lossSum - c.lossSum) <= TOL * Math.abs(c.lossSum), `${at}: loss ${g.lossSum} vs ${c.lossSum}`);
        assert.equal(g.correct, c.correct, `${at}: correct`);
        assert.equal(!!g.grads, !!c.grads, `${at}: gradients present`);
        if (c.grads) {
          assert.ok(rel(g.grads!, c.grads) <= TOL, `${at}: gradients differ by ${rel(g.grads!, c.grads).toExponential(2)}`);
          // Every parameter of the pass's BN set (and the shared ones) got a gradient.
          for (const p of layout.params) {
            if (p.group === (reqs[i].bn === 'main' ? 'adv' : 'clean')) continue;
            const slice = c.grads.subarray(p.offset, p.offset + p.size);
            assert.ok(rel(g.grads!.subarray(p.offset, p.offset + p.size), slice) <= 10 * TOL, `${at}: gradient of ${p.name}`);
          }
        }
        assert.equal(g.bnStats.length, c.bnStats.length, `${at}: BN statistics count`);
        c.bnStats.forEach((s, k) => {
          assert.ok(rel(g.bnStats[k].values, s.values) <= TOL, `${at}: BN statistics ${k}`);
          // The running statistics the trainer derives from them.
          const rc = Float32Array.from(init.running);
          const rg = Float32Array.from(init.running);
          updateRunningStats(layout, reqs[i].bn, s, rc);
          updateRunningStats(layout, reqs[i].bn, g.bnStats[k], rg);
          assert.ok(rel(rg, rc) <= TOL, `${at}: running statistics ${k}`);
        });
        if (c.advImages) {
          // sign(∇x) may flip where the gradient is ~0: allow a few such pixels, never a larger step.
          let flips = 0;
          for (let k = 0; k < c.advImages.length; k++) if (Math.abs(g.advImages![k] - c.advImages[k]) > 1e-5) flips++;
          assert.ok(flips <= c.advImages.length * 1e-3, `${at}: ${flips} adversarial pixels differ`);
        }
        if (c.logits) assert.ok(rel(g.logits!, c.logits) <= TOL, `${at}: logits`);
      });
    });
  }

  it('a whole Fast AdvProp training step through the CLI: weights, BN running statistics and momentum equal cpu', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-webgpu-'));
    const cfg = path.join(dir, 'tiny.advprop.json');
    fs.writeFileSync(cfg, JSON.stringify({
      method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 1, milestones: [], sameBudget: false,
      model: { arch: 'resnet8', width: 4 }, workers: 1, logEvery: 1, seed: 5,
      augment: { crop: false, flip: false, mixupAlpha: 0, cutmixAlpha: 0 },
    }));
    const states = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      const deps = await tinyDeps();
      deps.createExecutor = (o) => createExecutor({ ...o, backend, workers: 1 });
      const run = path.join(dir, backend);
      const err: string[] = [];
      const code = await main(['train', '--config', cfg, '--run-dir', run, '--max-steps', '1'], { out: () => undefined, err: (l) => err.push(l) }, deps);
      assert.equal(code, 0, err.join('\n'));
      const rec = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')) as RunConfigRecord;
      assert.equal(rec.backend.name, backend);
      states.push(loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt')));
    }
    const [c, g] = states;
    assert.ok(rel(g.params, c.params) <= 1e-5, `weights differ by ${rel(g.params, c.params).toExponential(2)}`);
    assert.ok(rel(g.running, c.running) <= TOL, `running statistics differ by ${rel(g.running, c.running).toExponential(2)}`);
    assert.ok(rel(g.momentum, c.momentum) <= TOL, `momentum differs by ${rel(g.momentum, c.momentum).toExponential(2)}`);
    assert.ok(c.momentum.some((v) => v !== 0), 'the step moved the momentum');
  });

  it('a kernel the GPU rejects fails the pass with GpuKernelError instead of training on zeros', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-webgpu-bad-'));
    const mod = path.join(dir, 'badReplica.js');
    // A replica whose passes first run the rank-6 pad that tfjs-backend-webgpu 4.22 compiles to
    // invalid WGSL (what subsample2's gradient did before it got a rank-4 path on webgpu).
    fs.writeFileSync(mod, `
      const tf = require(${JSON.stringify(require.resolve('@tensorflow/tfjs'))});
      const real = require(${JSON.stringify(require.resolve('../../../src/engine/exec/replica'))});
      exports.createReplica = (spec) => {
        const r = real.createReplica(spec);
        return { ...r, runPassAsync: async (req) => {
          const six = tf.pad(tf.ones([1, 2, 1, 2, 1, 3]), [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]);
          await six.data();
          six.dispose();
          return r.runPassAsync(req);
        } };
      };`);
    const spec: ModelSpec = { arch: 'resnet8', width: 2, inputHeight: 8, inputWidth: 8, inputChannels: 1, numClasses: 10 };
    const ex = await createExecutor({ spec, backend: 'webgpu', workers: 1, replicaModule: mod });
    try {
      const init = initParams(spec, 1);
      await ex.setState(init.params, init.running);
      const req: PassRequest = { images: wave(2 * 64, 1), count: 2, labels: Int32Array.from([1, 2]), bn: 'main', training: true, groupSize: 2, lossWeight: 1, paramGrads: true };
      await assert.rejects(ex.run([req]), (e: unknown) => {
        assert.ok(e instanceof GpuKernelError, String(e));
        assert.match((e as Error).message, /GPU rejected a kernel .*"backend": "wasm"/);
        return true;
      });
    } finally {
      await ex.dispose();
    }
    // Released on dispose: the next user gets a working device again.
    await selectBackend('webgpu');
  });

  it('train --backend webgpu: a 3-step run of the built CLI completes, records the adapter and exits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-webgpu-cli-'));
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const n = 40;
    const imgs = new Uint8Array(n * 8 * 8);
    for (let i = 0; i < imgs.length; i++) imgs[i] = (i * 37 + (i >> 6) * 11) & 255;
    const labs = Uint8Array.from({ length: n }, (_, i) => i % 4);
    for (const split of ['train', 't10k']) {
      fs.writeFileSync(path.join(data, `${split}-images-idx3-ubyte`), encodeIdx([n, 8, 8], imgs));
      fs.writeFileSync(path.join(data, `${split}-labels-idx1-ubyte`), encodeIdx([n], labs));
    }
    const cfg = path.join(dir, 'gpu.advprop.json');
    fs.writeFileSync(cfg, JSON.stringify({ batchSize: 8, bnGroups: 2, model: { arch: 'resnet8', width: 4 }, dataset: { name: 'idx', path: data }, logEvery: 1 }));
    const run = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [CLI, 'train', '--config', cfg, '--run-dir', run, '--backend', 'webgpu', '--max-steps', '3'], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /backend webgpu · /);
    const rec = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')) as RunConfigRecord;
    assert.equal(rec.backend.name, 'webgpu');
    assert.equal(rec.backend.requested, 'webgpu');
    assert.ok(rec.backend.adapter && typeof rec.backend.adapter.software === 'boolean', JSON.stringify(rec.backend));
    const status = JSON.parse(fs.readFileSync(path.join(run, 'status.json'), 'utf8'));
    assert.equal(status.state, 'completed');
    assert.equal(status.progress.step, 3);
  });
});

describe('backend: webgpu tuning flags (FAST_ADVPROP_WEBGPU_FLAGS)', () => {
  it('sets registered WEBGPU_* flags and refuses anything else naming the item', () => {
    const before = tf.env().getBool('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE');
    try {
      assert.deepEqual(applyFlagOverrides('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false, WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=30'), { WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE: false, WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 30 });
      assert.equal(tf.env().getBool('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE'), false);
      assert.deepEqual(applyFlagOverrides(undefined), {});
      assert.throws(() => applyFlagOverrides('IS_NODE=false'), /"IS_NODE=false" is not FLAG=value/);
      assert.throws(() => applyFlagOverrides('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE'), /is not FLAG=value/);
    } finally {
      tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', before);
      tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 15);
    }
  });
});
