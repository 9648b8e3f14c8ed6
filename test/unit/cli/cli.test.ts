import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/engine/cli';
import type { EngineDeps } from '../../../src/engine/cli/train';
import { encodeIdx } from '../../../src/engine/data/idx';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';
import type { Executor } from '../../../src/engine/exec/types';
import { nativeKernels } from '../../../src/engine/backend/nativeKernels';
import { parseMetricsLines, parseStatus, type RunConfigRecord, type RunResults } from '../../../src/shared/runFormat';
import { tinyData, tinyDataset, tinyDeps } from '../train/helpers';
import { jpegAddon } from '../../../src/engine/data/turboJpeg';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'out/src/engine/cli.js');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fap-cli-'));
}

function capture(): { out: string[]; err: string[]; io: { out(l: string): void; err(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

/** A tiny run config (the dataset section is ignored by tinyDeps, which serves the tiny dataset). */
const TINY = {
  method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 2, milestones: [1], sameBudget: false,
  model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 1, logEvery: 1, seed: 5,
  augment: { crop: true, flip: true, mixupAlpha: 0, cutmixAlpha: 0 },
};

function writeConfig(dir: string, over: Record<string, unknown> = {}, file = 'tiny.advprop.json'): string {
  const p = path.join(dir, file);
  fs.writeFileSync(p, JSON.stringify({ ...TINY, ...over }, null, 2));
  return p;
}

function read<T>(dir: string, f: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T;
}

/** Wraps the real executor: `onRun(n)` sees the n-th run() call (n from 1). */
function wrapDeps(deps: EngineDeps, onRun: (n: number, results: Awaited<ReturnType<Executor['run']>>) => void): EngineDeps {
  return {
    ...deps,
    createExecutor: async (o) => {
      const ex = await deps.createExecutor(o);
      let n = 0;
      return {
        layout: ex.layout, workers: ex.workers, backend: ex.backend,
        setState: (p, r) => ex.setState(p, r),
        dispose: () => ex.dispose(),
        run: async (reqs) => {
          const res = await ex.run(reqs);
          onRun(++n, res);
          return res;
        },
      };
    },
  };
}

describe('cli: usage and config errors', () => {
  it('a bad config field exits 2 with one line naming the field, and creates no run folder', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { attack: { steps: 0 } });
    const c = capture();
    const code = await main(['train', '--config', cfg, '--runs-dir', path.join(dir, 'runs')], c.io, await tinyDeps());
    assert.equal(code, 2);
    assert.equal(c.err.length, 1);
    assert.match(c.err[0], /^error: attack\.steps: must be ≥ 1, got 0$/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  });

  it('bad flags name the flag: unknown flag (with a suggestion), bad value, bad method', async () => {
    const deps = await tinyDeps();
    let c = capture();
    assert.equal(await main(['train', '--epoch', '3'], c.io, deps), 2);
    assert.match(c.err[0], /^error: --epoch: unknown flag for "train" \(did you mean --epochs\?\)/);
    c = capture();
    assert.equal(await main(['train', '--epochs', 'three'], c.io, deps), 2);
    assert.match(c.err[0], /^error: --epochs: expected a whole number/);
    c = capture();
    const dir = tmp();
    assert.equal(await main(['train', '--method', 'fastest', '--runs-dir', path.join(dir, 'runs')], c.io, deps), 2);
    assert.match(c.err[0], /^error: --method: must be one of "vanilla", "advprop", "fast-advprop"/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  });

  it('the error names the field the error carries, whatever characters it holds', async () => {
    const dir = tmp();
    const runs = path.join(dir, 'runs');
    const deps = await tinyDeps();
    const cases: [string, RegExp][] = [
      ['{"method": "vanilla",', /^error: \(file\): /],
      ['[1, 2]', /^error: \(root\): /],
    ];
    for (const [text, want] of cases) {
      const cfg = path.join(dir, 'c.advprop.json');
      fs.writeFileSync(cfg, text);
      const c = capture();
      assert.equal(await main(['train', '--config', cfg, '--runs-dir', runs], c.io, deps), 2, text);
      assert.equal(c.err.length, 1, text);
      assert.match(c.err[0], want, text);
    }
    // Dataset loader errors: a "dataset.<key>: " prefix is kept, anything else (a file path) is under "dataset".
    const failing = (msg: string): EngineDeps => ({ ...deps, loadDataset: async () => { throw new Error(msg); } });
    let c = capture();
    assert.equal(await main(['train', '--runs-dir', runs], c.io, failing('dataset.path: required for dataset "idx"; set it')), 2);
    assert.deepEqual(c.err, ['error: dataset.path: required for dataset "idx"; set it']);
    c = capture();
    assert.equal(await main(['train', '--runs-dir', runs], c.io, failing('/data/(x)/t10k-images-idx3-ubyte: truncated: download the file again')), 2);
    assert.deepEqual(c.err, ['error: dataset: /data/(x)/t10k-images-idx3-ubyte: truncated: download the file again']);
    assert.equal(fs.existsSync(runs), false);
  });

  it('an impossible batch split is refused before anything is created', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { batchSize: 12, bnGroups: 4 });
    const c = capture();
    assert.equal(await main(['train', '--config', cfg, '--runs-dir', path.join(dir, 'runs')], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /^error: split: .*divisible by bnGroups/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  });

  it('unknown command and missing command exit non-zero with the fix; --help exits 0', async () => {
    let c = capture();
    assert.equal(await main(['trian'], c.io), 2);
    assert.match(c.err[0], /^error: unknown command "trian"; use one of train, budget/);
    c = capture();
    assert.equal(await main([], c.io), 2);
    for (const cmd of ['train', 'evaluate', 'export-model', 'bench', 'gpu-check', 'study', 'budget']) {
      c = capture();
      assert.equal(await main([cmd, '--help'], c.io), 0, cmd);
      assert.match(c.out.join('\n'), /usage: fast-advprop/, cmd);
    }
  });

  // study is implemented now (test/unit/study covers it); here only its dispatch: a request it
  // cannot carry out is refused with one "error: <flag>: …" line, like every other command.
  it('study is dispatched and refuses a missing cli.js naming --cli', async () => {
    const c = capture();
    const missing = path.join(tmp(), 'no-such-cli.js');
    assert.equal(await main(['study', '--cli', missing], c.io), 2);
    assert.deepEqual(c.out, []);
    assert.equal(c.err.length, 1);
    assert.match(c.err[0], /^error: --cli: .*no-such-cli\.js does not exist/);
  });

  it('budget delegates to the cost model', async () => {
    const c = capture();
    assert.equal(await main(['budget', '--method', 'fast-advprop', '--split', '4:1', '--epochs', '105', '--json'], c.io), 0);
    assert.equal(JSON.parse(c.out.join('')).epochs, 87);
  });
});

describe('cli: train end to end (tiny model, cpu, in-process)', () => {
  it('train --max-steps 2 writes config.json, status.json (completed), metrics.jsonl, results.json and a checkpoint', async () => {
    const dir = tmp();
    const run = path.join(dir, 'run');
    const c = capture();
    const code = await main(['train', '--config', writeConfig(dir), '--run-dir', run, '--max-steps', '2'], c.io, await tinyDeps());
    assert.equal(code, 0, c.err.join('\n'));
    const cfg = read<RunConfigRecord>(run, 'config.json');
    assert.equal(cfg.config.maxSteps, 2);
    assert.deepEqual(cfg.batch, { clean: 8, adv: 2 });
    assert.equal(cfg.schedule.stepsPerEpoch, 6);
    assert.equal(cfg.dataset.train, 64);
    const status = parseStatus(fs.readFileSync(path.join(run, 'status.json'), 'utf8'))!;
    assert.equal(status.state, 'completed');
    assert.equal(status.pid, null);
    assert.equal(status.progress.step, 2);
    const { records, skipped } = parseMetricsLines(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8'));
    assert.deepEqual(skipped, []);
    const steps = records.filter((r) => r.kind === 'step');
    assert.equal(steps.length, 2);
    const s = steps[1] as Extract<typeof steps[number], { kind: 'step' }>;
    assert.deepEqual(s.passes, { clean: 16, attack: 4, adv: 4 });
    assert.ok(s.noise && s.adv && Number.isFinite(s.loss));
    const results = read<RunResults>(run, 'results.json');
    assert.equal(results.state, 'completed');
    assert.equal(results.steps, 2);
    assert.ok(results.clean.accuracy >= 0 && results.clean.accuracy <= 1);
    assert.equal(results.plannedPasses, 2 * (8 + 2 + 2));
    assert.equal(loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt')).step, 2);
    assert.ok(c.out.some((l) => /step 2\/2 .*img\/s .*ETA/.test(l)), c.out.join('\n'));
  });

  for (const method of ['vanilla', 'advprop']) {
    it(`--method ${method} trains and completes`, async () => {
      const dir = tmp();
      const run = path.join(dir, 'run');
      const c = capture();
      assert.equal(await main(['train', '--config', writeConfig(dir), '--run-dir', run, '--method', method, '--max-steps', '2'], c.io, await tinyDeps()), 0, c.err.join('\n'));
      const rec = read<RunConfigRecord>(run, 'config.json');
      assert.equal(rec.config.method, method);
      assert.deepEqual(rec.batch, { clean: 8, adv: method === 'vanilla' ? 0 : 8 });
      const { records } = parseMetricsLines(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8'));
      const last = records.filter((r) => r.kind === 'step').pop() as Extract<(typeof records)[number], { kind: 'step' }>;
      assert.equal(last.adv === undefined, method === 'vanilla');
      assert.equal(read<RunResults>(run, 'results.json').steps, 2);
    });
  }

  it('stop.request stops after the current step with a checkpoint; --resume finishes with the same weights as an uninterrupted run', async () => {
    const dir = tmp();
    const cfg = writeConfig(dir);
    const full = path.join(dir, 'full');
    assert.equal(await main(['train', '--config', cfg, '--run-dir', full], capture().io, await tinyDeps()), 0);

    const run = path.join(dir, 'stopped');
    // Each Fast AdvProp step makes two run() calls; ask to stop during step 4 (mid-epoch 1).
    const deps = wrapDeps(await tinyDeps(), (n) => {
      if (n === 7) fs.writeFileSync(path.join(run, 'stop.request'), '');
    });
    const c1 = capture();
    assert.equal(await main(['train', '--config', cfg, '--run-dir', run], c1.io, deps), 0);
    let status = parseStatus(fs.readFileSync(path.join(run, 'status.json'), 'utf8'))!;
    assert.equal(status.state, 'stopped');
    assert.equal(status.lastCheckpoint?.step, 4);
    assert.equal(fs.existsSync(path.join(run, 'results.json')), false);
    assert.equal(fs.existsSync(path.join(run, 'stop.request')), false);

    const c2 = capture();
    assert.equal(await main(['train', '--resume', run], c2.io, await tinyDeps()), 0, c2.err.join('\n'));
    status = parseStatus(fs.readFileSync(path.join(run, 'status.json'), 'utf8'))!;
    assert.equal(status.state, 'completed');
    const a = loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt'));
    const b = loadCheckpoint(path.join(full, 'checkpoints', 'last.ckpt'));
    assert.equal(a.step, 12);
    assert.deepEqual(a.params, b.params);
    assert.deepEqual(a.running, b.running);
    const { records } = parseMetricsLines(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8'));
    assert.ok(records.some((r) => r.kind === 'event' && r.event === 'resume'));
    assert.equal(records.filter((r) => r.kind === 'epoch').length, 2);
    assert.equal(read<RunConfigRecord>(run, 'config.json').resumedFrom?.[0].step, 4);
    // The milestone (epoch 1) keeps its own checkpoint.
    assert.ok(fs.existsSync(path.join(run, 'checkpoints', 'epoch-1.ckpt')));
    // A finished run has nothing left to resume, and flags that would change the schedule are refused.
    let c = capture();
    assert.equal(await main(['train', '--resume', run], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /nothing left to train/);
    c = capture();
    assert.equal(await main(['train', '--resume', run, '--epochs', '5'], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /^error: --epochs: cannot change on --resume/);
    // A damaged config.json is named, whatever is wrong with it, and nothing is touched.
    const cfgFile = path.join(run, 'config.json');
    const good = fs.readFileSync(cfgFile, 'utf8');
    const rec = JSON.parse(good) as RunConfigRecord;
    for (const bad of [good.slice(0, good.length >> 1), 'null', JSON.stringify({ ...rec, config: 3 }), JSON.stringify({ ...rec, config: { ...rec.config, lr: -1 } })]) {
      fs.writeFileSync(cfgFile, bad);
      const statusBefore = fs.readFileSync(path.join(run, 'status.json'), 'utf8');
      c = capture();
      assert.equal(await main(['train', '--resume', run, '--max-steps', '100'], c.io, await tinyDeps()), 2, bad.slice(0, 40));
      assert.equal(c.err.length, 1);
      assert.ok(c.err[0].startsWith(`error: --resume: ${cfgFile} is damaged (`), c.err[0]);
      assert.match(c.err[0], /the run cannot be resumed without it$/);
      assert.equal(fs.readFileSync(path.join(run, 'status.json'), 'utf8'), statusBefore);
    }
    fs.writeFileSync(cfgFile, good);
  });

  it('a non-finite loss fails the run (exit 1) naming stream and step, keeping the last good checkpoint', async () => {
    const dir = tmp();
    const run = path.join(dir, 'run');
    // Calls 15/16 are step 8 (after the epoch-1 evaluation call at 13); poison its adversarial pass.
    let poisoned = false;
    const deps = wrapDeps(await tinyDeps(), (_n, res) => {
      if (!poisoned && res.length === 1 && res[0].grads && fs.existsSync(path.join(run, 'checkpoints', 'last.ckpt'))) {
        res[0].lossSum = NaN;
        poisoned = true;
      }
    });
    const c = capture();
    assert.equal(await main(['train', '--config', writeConfig(dir), '--run-dir', run], c.io, deps), 1);
    assert.match(c.err[0], /^error: non-finite loss in the adv stream at step 7/);
    const status = parseStatus(fs.readFileSync(path.join(run, 'status.json'), 'utf8'))!;
    assert.equal(status.state, 'failed');
    assert.equal(status.error?.stream, 'adv');
    assert.equal(status.error?.step, 7);
    assert.equal(status.lastCheckpoint?.step, 6);
    assert.equal(loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt')).step, 6);
  });
});

describe('cli: evaluate and export-model on a trained run', () => {
  let run: string;
  before(async () => {
    run = path.join(tmp(), 'run');
    assert.equal(await main(['train', '--config', writeConfig(path.dirname(run)), '--run-dir', run, '--max-steps', '3'], capture().io, await tinyDeps()), 0);
  });

  it('evaluate writes robustness.json whose clean accuracy matches the run\'s own evaluation', async () => {
    const c = capture();
    const code = await main(['evaluate', '--run', run, '--corruptions', 'gaussian_noise,contrast', '--severities', '1,3', '--pgd', '2,8', '--json'], c.io, await tinyDeps());
    assert.equal(code, 0, c.err.join('\n'));
    const rec = JSON.parse(c.out.join(''));
    const onDisk = read<typeof rec>(run, 'robustness.json');
    assert.equal(onDisk.clean.accuracy, rec.clean.accuracy);
    assert.equal(rec.clean.accuracy, read<RunResults>(run, 'results.json').clean.accuracy);
    assert.deepEqual(Object.keys(rec.corruptions).sort(), ['contrast', 'gaussian_noise']);
    assert.equal(rec.corruptions.contrast.errors[1], null); // severity 2 not asked
    assert.equal(typeof rec.corruptions.contrast.errors[2], 'number');
    assert.ok(rec.pgd.accuracy <= rec.clean.accuracy + 1e-9);
  });

  it('autoEvaluate writes robustness.json when training completes', async () => {
    const dir = tmp();
    const r = path.join(dir, 'auto');
    const c = capture();
    assert.equal(await main(['train', '--config', writeConfig(dir, { autoEvaluate: true }), '--run-dir', r, '--max-steps', '1'], c.io, await tinyDeps()), 0, c.err.join('\n'));
    const rec = read<{ corruptions: Record<string, unknown> }>(r, 'robustness.json');
    assert.equal(Object.keys(rec.corruptions).length, 15);
  });

  it('evaluate refuses bad lists and a missing run with exit 2', async () => {
    let c = capture();
    assert.equal(await main(['evaluate', '--run', run, '--severities', '0,9'], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /^error: --severities: expected numbers 1\.\.5/);
    c = capture();
    assert.equal(await main(['evaluate', '--run', path.join(run, 'nope')], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /^error: --run: .*nope: folder not found; give the run folder/);
    c = capture();
    assert.equal(await main(['evaluate', '--run', run, '--pgd', 'ten'], c.io, await tinyDeps()), 2);
    assert.match(c.err[0], /^error: --pgd:/);
  });

  it('export-model writes model.json + weights.bin; train already exported at the end', async () => {
    assert.ok(fs.existsSync(path.join(run, 'export', 'model.json')));
    const out = path.join(tmp(), 'exp');
    const c = capture();
    assert.equal(await main(['export-model', '--run', run, '--out', out], c.io), 0, c.err.join('\n'));
    assert.deepEqual(fs.readdirSync(out).sort(), ['model.json', 'weights.bin']);
    assert.deepEqual(fs.readFileSync(path.join(out, 'weights.bin')), fs.readFileSync(path.join(run, 'export', 'weights.bin')));
  });
});

describe('cli: the built script (spawned)', function () {
  this.timeout(120000);

  it('exits 2 with one stderr line and no folder on a config error', () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { batchSize: 0 });
    const r = spawnSync(process.execPath, [CLI, 'train', '--config', cfg, '--runs-dir', path.join(dir, 'runs')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^error: batchSize: must be ≥ 1, got 0/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  });

  it('bench --quick --profile --kernels --out FILE writes the JSON report: a figure per <backend>-<workers> row, the kernel profile, the per-shape kernel rates', () => {
    const dir = tmp();
    const file = path.join(dir, 'bench.json');
    // --no-peer: the PyTorch peer has its own tests (perf/peer.test.ts) and may or may not be installed here.
    // --cpu-batches 64,16: the default rows keep their keys, and a second batch adds wasm-<n>@16 rows
    // (16, not the 256 the GPU check asks for, to stay quick).
    const r = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--profile', '--kernels', '--no-peer', '--cpu-batches', '64,16', '--out', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).peer, { skipped: '--no-peer' });
    const byKey = new Map<string, { workers: number; batch: number; imagesPerSecond: number }>(JSON.parse(fs.readFileSync(file, 'utf8')).rows.map((row: { key: string; workers: number; batch: number; imagesPerSecond: number }) => [row.key, row]));
    for (const n of [1, ...(os.availableParallelism() > 1 ? [2] : [])]) {
      assert.equal(byKey.get(`wasm-${n}`)?.batch, 64, `wasm-${n}`);
      const extra = byKey.get(`wasm-${n}@16`);
      assert.ok(extra && extra.batch === 16 && extra.workers === n && extra.imagesPerSecond > 0, `wasm-${n}@16: ${JSON.stringify(extra)}`);
    }
    assert.match(r.stdout, /\| wasm-1 \| wasm \| 1 \| 64 \|/, 'the table is printed too');
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(report.trainImagesPerSecond), report.rows.map((row: { key: string }) => row.key));
    for (const key of ['cpu-1', 'wasm-1', ...(os.availableParallelism() > 1 ? ['wasm-2'] : [])]) assert.ok(report.trainImagesPerSecond[key] > 0, `${key}: ${report.trainImagesPerSecond[key]}`);
    assert.equal(report.machine.quick, true);
    assert.equal(report.machine.fastKernels, true);
    assert.ok(Date.parse(report.measuredAt) > 0);
    // The profile names our kernels and accounts for its total. (How the time splits is a figure,
    // not a test: with the native kernels the convolutions fell to about half of it.)
    const kernels = new Map<string, { calls: number; ms: number }>(report.profile.kernels.map((k: { kernel: string; calls: number; ms: number }) => [k.kernel, k]));
    for (const k of ['Conv2D', 'FastAdvPropConv2DFilterGrad', 'FastAdvPropBatchNormTrain', 'FastAdvPropBatchNormTrainGrad']) assert.ok(kernels.get(k)!.calls > 0 && kernels.get(k)!.ms > 0, k);
    const summed = [...kernels.values()].reduce((a, k) => a + k.ms, 0);
    assert.ok(Math.abs(summed - report.profile.kernelMs) <= 0.01 * report.profile.kernelMs + 1, `kernels sum to ${summed} of ${report.profile.kernelMs} ms`);
    assert.ok(report.profile.kernelMs > 0 && report.profile.kernelMs <= report.profile.stepMs, `kernels ${report.profile.kernelMs} ms of a ${report.profile.stepMs} ms step`);
    assert.match(r.stdout, /\| kernel \| calls \| ms \| share \|/);
    assert.ok(report.stockKernels.imagesPerSecond > 0 && report.stockKernels.ratio > 0, JSON.stringify(report.stockKernels));
    assert.match(r.stdout, /our wasm kernels: wasm-1 .* images\/s on the stock kernels, ×[\d.]+ \(same process\)/);
    assert.equal(report.kernels.length, 5);
    for (const row of report.kernels) for (const k of ['convOurs', 'convExact', 'convXnnpack', 'filterGradOurs', 'filterGradAsConv', 'inputGradAsConv']) assert.ok(row[k] > 0, `${row.shape} ${k}`);
    // Our input-gradient kernel takes input channels in multiples of 8: not the 3-channel stem.
    for (const row of report.kernels) assert.equal(row.inputGradOurs === null, /×3→/.test(row.shape), `${row.shape} inputGradOurs ${row.inputGradOurs}`);
    assert.match(r.stdout, /\| shape \| conv: ours \| conv: exact build \| conv: XNNPACK \|.*\| input gradient: ours \| input gradient: as a conv \|/);
    // The multiply-add ceiling: both builds measured, every CPU row a fraction of the one in use.
    assert.ok(report.ceiling.exact > 0 && report.ceiling.relaxed > 0, JSON.stringify(report.ceiling));
    assert.equal(report.ceiling.used, 'relaxed');
    assert.equal(report.ceiling.oneCore, report.ceiling.relaxed);
    for (const row of report.rows) assert.ok(row.fractionOfCeiling > 0 && row.ceilingOneCore > 0, `${row.key}: ${row.fractionOfCeiling}`);
    assert.match(r.stdout, /wasm SIMD multiply-add ceiling, one core: [\d.]+ GFLOP\/s mul \+ add, [\d.]+ GFLOP\/s relaxed-SIMD FMA/);
    assert.match(r.stdout, /\| of the FMA ceiling \(1-core rate just before\) \|/);
    assert.ok(report.exactSimd.imagesPerSecond > 0 && report.exactSimd.ratio > 0, JSON.stringify(report.exactSimd));
    assert.match(r.stdout, /fused multiply-add: wasm-1 .* images\/s on the exact build, ×[\d.]+ \(same process\)/);
    // Where the native kernels load (scripts/build-native.mjs built them), wasm-1 ran on them: timed again on the relaxed wasm build, and per layer shape.
    if (nativeKernels()) {
      assert.ok(report.relaxedWasm.imagesPerSecond > 0 && report.relaxedWasm.ratio > 0, JSON.stringify(report.relaxedWasm));
      assert.match(r.stdout, /native kernels: wasm-1 .* images\/s on the relaxed wasm build, ×[\d.]+ \(same process\)/);
      for (const row of report.kernels) assert.ok(row.native.length >= 2 && row.native.every((c: { conv: number; filterGrad: number }) => c.conv > 0 && c.filterGrad > 0), `${row.shape} native ${JSON.stringify(row.native)}`);
    } else {
      assert.equal(report.relaxedWasm, undefined);
      for (const row of report.kernels) assert.deepEqual(row.native, []);
    }
    // The data path's rows: 32 px from arrays, 224 px JPEGs per decode-thread count.
    assert.ok(Array.isArray(report.loader), JSON.stringify(report.loader));
    assert.equal(report.loader[0].key, 'arrays-32px');
    assert.ok(report.loader.some((row: { key: string }) => /^jpeg-224px-(turbo|sharp|js)-1$/.test(row.key)));
    for (const row of report.loader) assert.ok(row.imagesPerSecond > 0 && row.images > 0 && row.perCpuSecond > 0, JSON.stringify(row));
    // The turbo and sharp rows against libvips decoding the same files whole and nothing else; where
    // our JPEG addon runs, "auto" rows are turbo and sharp is timed on its own beside them.
    const rowsOf = (d: string) => report.loader.filter((row: { key: string }) => row.key.startsWith(`jpeg-224px-${d}-`));
    const measured = [...rowsOf('turbo'), ...rowsOf('sharp')];
    if (measured.length) {
      assert.ok(report.loader.some((row: { key: string }) => row.key === 'jpeg-decode-sharp-1'), 'no jpeg-decode-sharp-1 row');
      for (const row of measured) assert.ok(row.fractionOfDecode > 0, JSON.stringify(row));
    }
    if (jpegAddon().addon) {
      assert.ok(rowsOf('turbo').length >= 2 && rowsOf('sharp').length === 1, report.loader.map((row: { key: string }) => row.key).join(' '));
      // The turbo rows against libjpeg-turbo decoding the same crops and nothing else.
      const ceiling = report.loader.find((row: { key: string }) => row.key === 'jpeg-crop-turbo-1');
      assert.ok(ceiling && ceiling.perCpuSecond > 0, 'no jpeg-crop-turbo-1 row');
      for (const row of rowsOf('turbo')) assert.ok(Math.abs(row.fractionOfCropDecode - row.perCpuSecond / ceiling.perCpuSecond) < 1e-9, JSON.stringify(row));
    }
    assert.match(r.stdout, /\| loader \| decoder \| threads \| images \| images\/s \| per thread \| per CPU-second \| of decode-only \| of crop decode \|/);
  });

  it('bench refuses an --out in a folder that does not exist, or naming a folder, before measuring anything', () => {
    const dir = tmp();
    const r = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--out', path.join(dir, 'no', 'such', 'bench.json')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --out: the folder .* does not exist/);
    assert.equal(r.stdout, '');
    const folder = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--out', dir], { encoding: 'utf8' });
    assert.equal(folder.status, 2);
    assert.match(folder.stderr, /^error: --out: .* is a folder; name a file/);
  });

  it('exits 2 naming dataset.path when the dataset folder is missing', () => {
    const dir = tmp();
    const cfg = writeConfig(dir, { dataset: { name: 'idx', path: path.join(dir, 'nope') } });
    const r = spawnSync(process.execPath, [CLI, 'train', '--config', cfg, '--runs-dir', path.join(dir, 'runs')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^error: dataset/);
    assert.equal(fs.existsSync(path.join(dir, 'runs')), false);
  });

  it('train --max-steps 2 on a tiny IDX dataset writes a completed run', () => {
    const dir = tmp();
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const write = (prefix: string, count: number, seed: number): void => {
      const ds = tinyDataset(count, seed);
      fs.writeFileSync(path.join(data, `${prefix}-images-idx3-ubyte`), encodeIdx([count, 8, 8], ds.images));
      fs.writeFileSync(path.join(data, `${prefix}-labels-idx1-ubyte`), encodeIdx([count], Uint8Array.from(ds.labels)));
    };
    write('train', 64, 1);
    write('t10k', 32, 2);
    const cfg = writeConfig(dir, { dataset: { name: 'idx', path: 'data' } });
    const run = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [CLI, 'train', '--config', cfg, '--run-dir', run, '--max-steps', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['config.json', 'status.json', 'metrics.jsonl', 'results.json', 'engine.log']) assert.ok(fs.existsSync(path.join(run, f)), f);
    assert.equal(read<{ state: string }>(run, 'status.json').state, 'completed');
    assert.equal(read<RunResults>(run, 'results.json').steps, 2);
    // The relative dataset path is recorded absolute, so the run can be evaluated from anywhere.
    assert.equal(read<RunConfigRecord>(run, 'config.json').config.dataset.path, data);
    const ev = spawnSync(process.execPath, [CLI, 'evaluate', '--run', run, '--corruptions', 'none'], { encoding: 'utf8', cwd: os.tmpdir() });
    assert.equal(ev.status, 0, ev.stderr);
    assert.match(ev.stdout, /clean accuracy/);
  });
});

// Keep the helper import used even if the data shape changes.
void tinyData;
