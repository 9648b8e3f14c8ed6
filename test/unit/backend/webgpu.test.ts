// The WebGPU backend (tfjs-backend-webgpu on Dawn) against the cpu backend. On machines without a
// GPU this runs on Mesa's software adapter (llvmpipe through Dawn's OpenGL/EGL backend), which
// executes the same WGSL shaders tfjs generates for a real GPU, so a kernel that is wrong there is
// wrong on an NVIDIA card too. Tolerances: max|webgpu − cpu| / max|cpu| ≤ 1e-4 for kernel values
// and gradients and for whole passes, ≤ 1e-5 for weights after an SGD step (seen: ≤ 2e-6).
// Where no adapter can be had the suite says why and skips, except under CI (CI=true), which must
// run it: scripts/ensure-system-deps.mjs installs Mesa's EGL/GL packages with the test deps.
// The kernel cases and pass requests live in src/engine/bench/gpuChecks.ts: `fast-advprop gpu-check`
// runs the same ones on a real GPU from the bundle alone.
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
import type { ModelSpec, PassRequest } from '../../../src/engine/exec/types';
import { initParams } from '../../../src/engine/model';
import { checkRequests, compareKernelCase, KERNEL_CASES, KERNEL_TOLERANCE as TOL, relativeDifference, runGpuChecks, runPasses as passes, wave } from '../../../src/engine/bench/gpuChecks';
import { encodeIdx } from '../../../src/engine/data/idx';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';
import { updateRunningStats } from '../../../src/engine/train/bnRunning';
import type { BackendInfo, RunConfigRecord } from '../../../src/shared/runFormat';
import { tinyDeps } from '../train/helpers';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'out/src/engine/cli.js');

/** max|a − b| / max|b| (b: the cpu reference), after checking the lengths. */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  return relativeDifference(a, b);
}

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

  for (const c of KERNEL_CASES) {
    it(`kernel: ${c.name} (value and every input gradient)`, async () => {
      (await compareKernelCase(c)).forEach((d, i) => {
        assert.ok(d <= TOL, `${i === 0 ? 'value' : `gradient ${i}`}: relative difference ${d.toExponential(2)} > ${TOL}`);
      });
    });
  }

  for (const [arch, hw] of [['resnet8', 16], ['resnet18', 16]] as const) {
    it(`${arch}: clean, Fast AdvProp attack with gradient reuse, PGD-3, targeted PGD-2 and eval passes equal cpu`, async () => {
      const spec: ModelSpec = { arch, width: 4, inputHeight: hw, inputWidth: hw, inputChannels: 3, numClasses: 10 };
      const reqs = checkRequests(spec, 8);
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

  it('runGpuChecks (what `fast-advprop gpu-check` runs) passes every kernel and pass check', async () => {
    const rows = await runGpuChecks();
    assert.ok(rows.length >= 20, `${rows.length} checks`);
    for (const r of rows) assert.ok(r.ok, `${r.check}: ${r.difference}`);
  });

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
