// The bench's webgpu-1@<batch> rows and `gpu-check`, through the built CLI, on whatever adapter
// this machine has: Mesa's software one here and in CI (so the code path the NVIDIA check runs is
// exercised everywhere), a GPU where there is one. Batch 8 and --quick keep it to seconds on
// llvmpipe (~2 images/s for ResNet-20); figures are checked for presence, never for speed.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'out/src/engine/cli.js');

describe('bench: webgpu rows and gpu-check (built CLI)', function () {
  this.timeout(300_000);
  let adapter: { label: string; software: boolean } | undefined;

  before(function () {
    const r = spawnSync(process.execPath, [CLI, 'gpu-check', '--software', '--adapter-only', '--json'], { encoding: 'utf8', timeout: 120_000 });
    let report: { error?: string; label?: string; software?: boolean } = {};
    try {
      report = JSON.parse(r.stdout);
    } catch {
      report = { error: `gpu-check printed no report (exit ${r.status}): ${r.stderr.split('\n').filter(Boolean).pop() ?? ''}` };
    }
    if (r.status !== 0) {
      // CI installs Mesa's EGL/GL (scripts/ensure-system-deps.mjs): it must never skip.
      if (process.env.CI) throw new Error(`no WebGPU adapter under CI: ${report.error}`);
      console.log(`      webgpu bench suite skipped: ${report.error}`);
      this.skip();
    }
    adapter = { label: report.label!, software: report.software! };
  });

  it('gpu-check --adapter-only names the adapter and whether it is a software one, and exits', () => {
    assert.ok(adapter!.label.length > 0);
    assert.equal(typeof adapter!.software, 'boolean');
  });

  it('gpu-check without --software refuses a software adapter in one line, exit 1, so the GPU check cannot pass on llvmpipe', function () {
    if (!adapter!.software) this.skip();
    const r = spawnSync(process.execPath, [CLI, 'gpu-check', '--adapter-only'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.deepEqual(errors.length, 1, r.stderr);
    assert.match(errors[0], /^error: only a software adapter \(.+\): .*--software/);
  });

  it('bench --gpu-only --webgpu-software --webgpu-batches 8 writes webgpu-1@8 with images/s, GFLOP/s and the adapter, and no CPU rows', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fap-bench-webgpu-')), 'bench.json');
    const r = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--gpu-only', '--webgpu-software', '--webgpu-batches', '8', '--out', file], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(report.trainImagesPerSecond), ['webgpu-1@8']);
    assert.ok(report.trainImagesPerSecond['webgpu-1@8'] > 0);
    assert.equal(report.rows.length, 1);
    const row = report.rows[0];
    assert.equal(row.backend, 'webgpu');
    assert.equal(row.batch, 8);
    assert.ok(row.imagesPerSecond > 0 && row.gflops > 0, JSON.stringify(row));
    assert.equal(row.fractionOfPeak, null, 'no CPU matMul bound for a GPU row');
    assert.equal(row.fractionOfCeiling, null, 'no wasm multiply-add ceiling for a GPU row');
    assert.equal(row.adapter, adapter!.label);
    assert.equal(row.software, adapter!.software);
    assert.equal(report.webgpu.label, adapter!.label);
    assert.equal(report.webgpu.software, adapter!.software);
    assert.deepEqual(report.corruptions, { skipped: '--gpu-only' });
    assert.match(r.stdout, /\| webgpu-1@8 \| webgpu · .+ \| 1 \| 8 \|/, 'the table names the adapter');
  });

  it('without --webgpu-software a software adapter gives no rows, one skipped line saying why', function () {
    if (!adapter!.software) this.skip(); // a hardware adapter is timed by default
    const r = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--gpu-only', '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    assert.deepEqual(report.trainImagesPerSecond, {});
    const skip = report.skipped.find((s: { key: string }) => s.key === 'webgpu-1');
    assert.ok(skip && !skip.reason.includes('\n'), JSON.stringify(report.skipped));
    assert.match(skip.reason, /--webgpu-software/);
    assert.match(report.webgpu.skipped, /--webgpu-software/);
  });

  it('bench --webgpu-batches refuses a list that is not integers, before measuring anything', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', '--webgpu-batches', '64,x'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --webgpu-batches: expected comma-separated integers/);
    assert.equal(r.stdout, '');
  });

  it('bench --cpu-batches refuses a batch that is not an integer from 2 to 4096, before measuring anything', () => {
    for (const bad of ['64,x', '1', '8192', '64,,256']) {
      const r = spawnSync(process.execPath, [CLI, 'bench', '--cpu-batches', bad], { encoding: 'utf8' });
      assert.equal(r.status, 2, bad);
      assert.match(r.stderr, /^error: --cpu-batches: expected comma-separated integers from 2 to 4096 \(e\.g\. 64,256\)/, bad);
      assert.equal(r.stdout, '');
    }
  });
});
