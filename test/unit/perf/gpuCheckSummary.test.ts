// scripts/gpu-check-summary.mjs, the last step of the one-call GPU check, on files shaped like the
// ones the steps write. The NVIDIA-only inputs (nvidia-smi, PyTorch on CUDA) cannot be produced on
// a machine without a GPU, so this is where their parsing is proven before the call is spent.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
const SCRIPT = path.join(ROOT, 'scripts/gpu-check-summary.mjs');

describe('gpu-check summary', () => {
  it('puts ours and PyTorch eager side by side per batch with the ratio, and the training job', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-gpucheck-summary-'));
    const w = (f: string, v: unknown): void => fs.writeFileSync(path.join(dir, f), typeof v === 'string' ? v : JSON.stringify(v));
    w('gpu.txt', 'NVIDIA H100 80GB HBM3, 580.65.06, 81559 MiB\n');
    w('gpu-check-kernels.json', { ok: true, tolerance: 1e-4, label: 'NVIDIA H100 80GB HBM3', software: false, passed: 2, failed: 0, checks: [{ check: 'a', difference: 1e-7, ok: true }, { check: 'b', difference: 3e-6, ok: true }] });
    const row = (batch: number, ips: number) => ({ key: `webgpu-1@${batch}`, backend: 'webgpu', batch, imagesPerSecond: ips, gflops: ips * 0.243, adapter: 'NVIDIA H100 80GB HBM3', software: false });
    w('bench-webgpu-64.json', { machine: { cpu: 'Xeon', node: 'v20' }, rows: [row(64, 1000)], skipped: [], webgpu: { label: 'NVIDIA H100 80GB HBM3', software: false } });
    w('bench-webgpu-256.json', { machine: { cpu: 'Xeon', node: 'v20' }, rows: [row(256, 3000)], skipped: [], gpuTarget: { key: 'webgpu-1@256', imagesPerSecond: 3000, met: true } });
    // The exact lines torch_resnet20.py prints; batch 512 has PyTorch only (our row timed out).
    w('torch-64.txt', 'params 272474\ntorch 2.11.0+cu130 cuda nchw threads=16 batch=64: 4000.0 images/s (400 steps in 2.0 s)\ntorch 2.11.0+cu130 cuda channels_last threads=16 batch=64: 5000.0 images/s (500 steps in 2.0 s)\n');
    w('torch-256.txt', 'torch 2.11.0+cu130 cuda nchw threads=16 batch=256: 12000.0 images/s (90 steps in 2.0 s)\n');
    w('torch-512.txt', 'torch 2.11.0+cu130 cuda nchw threads=16 batch=512: 20000.0 images/s (80 steps in 2.0 s)\n');
    w('train-results.json', { clean: { accuracy: 0.871, loss: 0.4 }, wallSeconds: 25.5, steps: 625, epochs: 5, imagesPerSecond: 2000 });
    w('train-config.json', { config: { maxSteps: 0 }, backend: { reason: 'webgpu requested and loaded' } });
    // Step 7: the CPU bench on 16 cores, shaped as `bench --out` writes it.
    const cpuRow = (workers: number, ips: number, batch = 64) => ({ key: `wasm-${workers}${batch === 64 ? '' : `@${batch}`}`, backend: 'wasm', workers, batch, imagesPerSecond: ips, fractionOfCeiling: 0.5 });
    w('bench-cpu.json', {
      cores: 16, machine: { cpu: 'AMD EPYC', node: 'v20' },
      rows: [{ key: 'cpu-1', backend: 'cpu', workers: 1, batch: 8, imagesPerSecond: 2 }, cpuRow(16, 1200), cpuRow(1, 100), cpuRow(4, 360), cpuRow(1, 120, 256), cpuRow(16, 1800, 256)],
      peer: { torch: '2.11.0', rows: [{ key: 'wasm-1', nchw: 150, channelsLast: 200, ratio: 0.5 }, { key: 'wasm-16', nchw: 1500, channelsLast: 1000, ratio: 0.8 }, { key: 'wasm-16@256', nchw: 1500, channelsLast: 1600, ratio: 1.125 }] },
      // --full-loader: the 224 px loader rows (issue #14's per-core figure).
      loader: [
        { key: 'arrays-32px', source: 'arrays-32px', threads: 1, images: 10000, imagesPerSecond: 90000, perCpuSecond: 88000 },
        { key: 'jpeg-224px-turbo-1', source: 'jpeg-224px', threads: 1, images: 1024, imagesPerSecond: 1500, perCpuSecond: 1450, fractionOfCropDecode: 0.85 },
        { key: 'jpeg-224px-turbo-16', source: 'jpeg-224px', threads: 16, images: 1024, imagesPerSecond: 20000, perCpuSecond: 1300, fractionOfCropDecode: 0.76 },
        { key: 'jpeg-crop-turbo-1', source: 'jpeg-crop-decode', threads: 1, images: 512, imagesPerSecond: 1720, perCpuSecond: 1706 },
      ],
    });
    w('gpu-check-steps.tsv', 'system\tok\t2.36\nkernels\tok\t\nbench\tno row for batch 128 512\t\ntorch\tok\tcuda\ntrain\tok\t27.3\ncpu\tok\t16 cores\n');

    const r = spawnSync(process.execPath, [SCRIPT, dir, 'gpu'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'gpu-check-summary.json'), 'utf8'));
    assert.equal(s.gpu, 'NVIDIA H100 80GB HBM3, 580.65.06, 81559 MiB');
    assert.equal(s.adapter, 'NVIDIA H100 80GB HBM3');
    assert.deepEqual(s.torch, { version: '2.11.0+cu130', device: 'cuda' });
    assert.deepEqual(s.rows.map((x: { batch: number }) => x.batch), [64, 256, 512]);
    const [b64, b256, b512] = s.rows;
    assert.equal(b64.torchNchw, 4000);
    assert.equal(b64.torchChannelsLast, 5000);
    assert.equal(b64.oursOverTorch, 1000 / 5000, 'against the faster PyTorch format');
    assert.equal(b256.oursOverTorch, 3000 / 12000);
    assert.equal(b512.imagesPerSecond, null);
    assert.equal(b512.oursOverTorch, null);
    assert.equal(s.kernels.passed, 2);
    assert.equal(s.kernels.worst, 3e-6);
    assert.equal(s.training.testAccuracy, 0.871);
    assert.equal(s.training.processWallSeconds, 27.3);
    assert.equal(s.gpuTarget.met, true);
    const md = fs.readFileSync(path.join(dir, 'gpu-check-summary.md'), 'utf8');
    assert.match(md, /\| 64 \| 1000\.0 \| 243\.0 \| 4000\.0 \| 5000\.0 \| 0\.20× \|/);
    assert.match(md, /\| 512 \| - \| - \| 20000\.0 \| - \| - \|/);
    assert.match(md, /test accuracy 87\.10 %/);
    assert.match(md, /bench no row for batch 128 512/);
    assert.deepEqual(s.cpu.rows.map((x: { workers: number; batch: number }) => `${x.workers}@${x.batch}`), ['1@64', '4@64', '16@64', '1@256', '16@256'], 'wasm rows only, by batch then workers');
    assert.equal(s.cpu.rows[4].scaling, 1800 / (16 * 120), 'scaling against one worker at the same batch');
    assert.equal(s.cpu.rows[4].oursOverTorch, 1.125);
    assert.equal(s.cpu.rows[1].scaling, 360 / (4 * 100));
    assert.equal(s.cpu.rows[2].oursOverTorch, 0.8);
    assert.equal(s.cpu.rows[1].oursOverTorch, null, 'no peer row for 4 workers');
    assert.match(md, /CPU, 16 cores \(AMD EPYC\)/);
    assert.match(md, /\| 16 \| 64 \| 1200\.0 \| 75 % \| 50 % \| 1500\.0 \| 1000\.0 \| 0\.80× \|/);
    assert.deepEqual(s.loader.map((x: { key: string }) => x.key), ['jpeg-224px-turbo-1', 'jpeg-224px-turbo-16', 'jpeg-crop-turbo-1']);
    assert.match(md, /\| jpeg-224px-turbo-1 \| 1 \| 1500\.0 \| 1450\.0 \| 85 % \|/);
    assert.match(md, /\| jpeg-crop-turbo-1 \| 1 \| 1720\.0 \| 1706\.0 \| - \|/);
  });
});
