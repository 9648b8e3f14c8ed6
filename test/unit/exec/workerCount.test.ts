// Issue #3: the worker count must not change the results. The real CLI (`node dist/cli.js train`)
// trains the same tiny config with the same seed on 1 and on 2 worker threads (wasm backend), and
// every step record of metrics.jsonl (total loss, clean/noise/adv stream losses, image and pass
// counts) plus the final test accuracy and loss are compared, and the saved state itself: the
// final checkpoint's weights, BN running statistics and momentum, byte for byte.
//
// What is compared, and how strictly: a training pass is computed one BN group at a time and the
// groups are summed in group order whatever the worker count (src/engine/exec/shard.ts), so the
// weights after every step, and therefore every training loss, are bit-identical for 1 and 2
// workers, at the default lr 0.1 where SGD would amplify any rounding difference to 1e-2 within a
// dozen steps (measured before group-wise summation). Image and pass counts and the final test
// accuracy must be equal; the final test loss may differ in the last bits only (an eval pass is
// split across workers and its loss summed in another order): <= 1e-9 relative.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMetricsLines, type MetricsRecord, type RunResults } from '../../../src/shared/runFormat';
import { assertSameState, checkpointState } from '../reliability/helpers';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

const TEST_LIMIT = 80;
const CONFIG = {
  method: 'fast-advprop', model: { arch: 'resnet8', width: 4 }, batchSize: 16, bnGroups: 2, epochs: 1, milestones: [],
  dataset: { name: 'fashion-mnist-subset', trainLimit: 320, testLimit: TEST_LIMIT }, logEvery: 1, maxSteps: 12, backend: 'wasm',
};
const FIRST_STEP_TOL = 0;
const STEP_TOL = 0;
const FINAL_LOSS_TOL = 1e-9;
/** How far apart a different seed must be for the comparison to count as able to fail. */
const SEED_DIFF = 1e-2;

type StepRecord = Extract<MetricsRecord, { kind: 'step' }>;
interface Run { dir: string; steps: StepRecord[]; results: RunResults }

let tmp = '';

function train(name: string, workers: number, seed: number, method: string): Run {
  const dir = path.join(tmp, name);
  const cfg = path.join(tmp, `${name}.advprop.json`);
  fs.writeFileSync(cfg, JSON.stringify({ ...CONFIG, method }, null, 2));
  const r = spawnSync(process.execPath, [CLI, 'train', '--config', cfg, '--run-dir', dir, '--workers', String(workers), '--seed', String(seed)], {
    cwd: tmp, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(r.status, 0, `${name}: cli exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  const { records, skipped } = parseMetricsLines(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(skipped, [], `${name}: unreadable metrics lines`);
  const steps = records.filter((m): m is StepRecord => m.kind === 'step');
  assert.equal(steps.length, CONFIG.maxSteps, `${name}: expected ${CONFIG.maxSteps} step records`);
  const results = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResults;
  assert.equal(results.state, 'completed', `${name}: ${JSON.stringify(results)}`);
  const used = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(used.backend.workers, workers, `${name}: config.json says ${used.backend.workers} workers`);
  assert.equal(used.backend.name, 'wasm', `${name}: trained on ${used.backend.name}`);
  return { dir, steps, results };
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);

/** Every loss of every step, as [label, a, b, tolerance]. */
function lossPairs(a: Run, b: Run): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  a.steps.forEach((x, i) => {
    const y = b.steps[i];
    const tol = x.step === 1 ? FIRST_STEP_TOL : STEP_TOL;
    out.push([`step ${x.step} loss`, x.loss, y.loss, tol]);
    for (const s of ['clean', 'noise', 'adv'] as const) {
      if (x[s] || y[s]) out.push([`step ${x.step} ${s}.loss`, x[s]?.loss ?? NaN, y[s]?.loss ?? NaN, tol]);
    }
  });
  return out;
}

function maxDiff(a: Run, b: Run): number {
  return Math.max(...lossPairs(a, b).map(([, x, y]) => rel(x, y)));
}

function assertSameCurve(a: Run, b: Run, streams: readonly ('clean' | 'noise' | 'adv')[]): void {
  assert.equal(b.steps.length, a.steps.length);
  a.steps.forEach((x, i) => {
    const y = b.steps[i];
    assert.equal(y.step, x.step);
    assert.equal(y.epoch, x.epoch);
    assert.equal(y.lr, x.lr);
    assert.deepEqual(y.passes, x.passes, `step ${x.step}: pass counts differ`);
    for (const s of streams) {
      assert.ok(x[s] && y[s], `step ${x.step}: no ${s} stream`);
      assert.equal(y[s]!.images, x[s]!.images, `step ${x.step}: ${s} image count differs`);
    }
  });
  const bad = lossPairs(a, b).filter(([, x, y, tol]) => !(rel(x, y) <= tol));
  assert.deepEqual(bad.map(([l, x, y, tol]) => `${l}: ${x} vs ${y} (rel ${rel(x, y).toExponential(1)} > ${tol})`), [],
    '1-worker and 2-worker loss curves differ beyond float tolerance');
  assert.equal(b.results.steps, a.results.steps);
  assert.deepEqual(b.results.passes, a.results.passes);
  assert.equal(b.results.clean.accuracy, a.results.clean.accuracy,
    `final test accuracy ${a.results.clean.accuracy} (1 worker) vs ${b.results.clean.accuracy} (2 workers)`);
  assert.ok(rel(a.results.clean.loss, b.results.clean.loss) <= FINAL_LOSS_TOL,
    `final test loss ${a.results.clean.loss} (1 worker) vs ${b.results.clean.loss} (2 workers)`);
}

describe('exec: results do not depend on the worker count (real CLI, wasm, issue #3)', function () {
  this.timeout(180_000);

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run \`npm run build\``);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-workers-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('fast-advprop', () => {
    let one: Run;
    let two: Run;
    before(() => {
      one = train('fa-w1', 1, 7, 'fast-advprop');
      two = train('fa-w2', 2, 7, 'fast-advprop');
    });

    it('1 and 2 workers, same seed: same loss curve (total, clean, noise, adv) and final test accuracy', () => {
      assertSameCurve(one, two, ['clean', 'noise', 'adv']);
    });

    it('1 and 2 workers, same seed: the final checkpoint\'s weights, BN running statistics and momentum are byte-identical', () => {
      const ck = (r: Run) => checkpointState(path.join(r.dir, 'checkpoints', 'last.ckpt'));
      assert.equal(ck(one).step, CONFIG.maxSteps);
      assertSameState(ck(one), ck(two), '1 vs 2 workers');
      assert.equal(sha256(path.join(one.dir, 'export', 'weights.bin')), sha256(path.join(two.dir, 'export', 'weights.bin')), 'exported weights.bin differ');
    });

    it('the comparison can fail: a different seed on 2 workers is far outside the tolerance', () => {
      const other = train('fa-w2-seed8', 2, 8, 'fast-advprop');
      const d = maxDiff(one, other);
      assert.ok(d > SEED_DIFF, `a different seed differs by only ${d}`);
      assert.throws(() => assertSameCurve(one, other, ['clean', 'noise', 'adv']), /beyond float tolerance/);
      assert.throws(() => assertSameState(checkpointState(path.join(one.dir, 'checkpoints', 'last.ckpt')), checkpointState(path.join(other.dir, 'checkpoints', 'last.ckpt')), 'seed 7 vs 8'), /params differ/);
      // Same worker count, same seed: bit for bit too.
      const again = train('fa-w1-again', 1, 7, 'fast-advprop');
      assert.equal(maxDiff(one, again), 0, 'two 1-worker runs with the same seed differ');
    });
  });

  describe('vanilla', () => {
    it('1 and 2 workers, same seed: same loss curve and final test accuracy', () => {
      const one = train('va-w1', 1, 7, 'vanilla');
      const two = train('va-w2', 2, 7, 'vanilla');
      assertSameCurve(one, two, ['clean']);
      assertSameState(checkpointState(path.join(one.dir, 'checkpoints', 'last.ckpt')), checkpointState(path.join(two.dir, 'checkpoints', 'last.ckpt')), 'vanilla, 1 vs 2 workers');
      assert.ok(one.steps.every((s) => !s.adv && !s.noise), 'vanilla logged attack streams');
    });
  });
});
