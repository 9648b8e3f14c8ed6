import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { studyCommand, meanCorruptionErrorOf, type StudyJson } from '../../../src/engine/study/command';
import { readManifest } from '../../../src/engine/sweep/manifest';
import { readSweepState } from '../../../src/engine/sweep/state';
import { sweepCommand } from '../../../src/engine/cli/sweep';

const ROOT = path.resolve(__dirname, '../../../..');
const REAL_CLI = path.join(ROOT, 'dist', 'cli.js');

function capture(): { lines: string[]; log: string[]; out: (s: string) => void; opts: { log: (s: string) => void; progressSeconds: number } } {
  const lines: string[] = [];
  const log: string[] = [];
  return { lines, log, out: (s) => lines.push(s), opts: { log: (s) => log.push(s), progressSeconds: 0 } };
}

/**
 * A stand-in for cli.js that writes a plausible run folder from the config it is given, fails for
 * AdvProp, and answers `evaluate` with a made-up record. It lets the orchestration (sequencing,
 * failure handling, exit code, JSON shape) be checked in milliseconds without TF.js.
 */
const FAKE_CLI = `
const fs = require('fs'); const path = require('path');
const a = process.argv.slice(2);
const arg = (n) => a[a.indexOf(n) + 1];
if (a[0] === 'evaluate') {
  if (process.env.FAKE_EVAL_FAIL) { console.error('error: evaluate: not wired yet'); process.exit(2); }
  fs.writeFileSync(path.join(arg('--run'), 'evaluate-args.txt'), a.slice(1).join(' '));
  // With FAKE_BY_SEED the figures depend on the seed, so means and deviations over seeds can be checked by hand.
  const seed = JSON.parse(fs.readFileSync(path.join(arg('--run'), 'config.json'), 'utf8')).config.seed;
  console.log(JSON.stringify({ schema: 1, summary: { meanCorruptionError: 12.5 + (process.env.FAKE_BY_SEED ? seed : 0) } })); process.exit(0);
}
const cfg = JSON.parse(fs.readFileSync(arg('--config'), 'utf8'));
const dir = arg('--run-dir');
fs.appendFileSync(path.join(process.env.FAKE_LOG_DIR || path.dirname(dir), 'order.log'), cfg.method + (cfg.shuffleBN ? '' : '-noshuffle') + (process.env.FAKE_LOG_DIR ? ' ' + cfg.split + ' seed ' + cfg.seed + ' ' + path.relative(process.env.FAKE_LOG_DIR, dir) : '') + '\\n');
if (cfg.method === 'advprop') { console.error('error: attack.steps: fake failure for ' + cfg.attack.steps + ' steps'); process.exit(1); }
// As "fast-advprop sweep cancel DIR" would while this run trains: no further point starts.
if (process.env.FAKE_CANCEL) fs.writeFileSync(path.join(dir, '..', '..', 'cancel.request'), '');
// A run long enough to be interrupted: says so on a file, then trains on for FAKE_SLOW_MS.
if (process.env.FAKE_SLOW_MS) { fs.mkdirSync(dir, { recursive: true }); fs.writeFileSync(path.join(dir, 'training'), ''); const t = Date.now() + Number(process.env.FAKE_SLOW_MS); while (Date.now() < t); }
fs.mkdirSync(dir, { recursive: true });
const spe = 10, steps = cfg.maxSteps || spe * cfg.epochs;
const adv = cfg.method === 'vanilla' ? 0 : 16;
fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ schema: 1, config: cfg,
  schedule: { epochs: cfg.epochs, milestones: cfg.milestones, costFactor: adv ? 1.2 : 1, stepsPerEpoch: spe, totalSteps: spe * cfg.epochs },
  batch: { clean: 64, adv }, dataset: { train: 800 } }));
const lines = [];
for (let s = 1; s <= steps; s++) {
  console.log('epoch 1/1  step ' + s + '/' + steps + '  loss 1.0  acc 50.0%');
  const r = { v: 1, kind: 'step', step: s, epoch: 0, clean: { acc: 0.5, loss: 1, images: 64 }, passes: { clean: 64 * s, attack: adv * s, adv: adv * s } };
  if (adv) { r.adv = { acc: cfg.shuffleBN ? 0.4 : 0.9, loss: 1, images: adv }; if (!cfg.shuffleBN) r.leak = { flagged: true, clean: 0.5, adv: 0.9, step: s, message: '' }; }
  lines.push(JSON.stringify(r));
}
fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\\n') + '\\n');
const total = (64 + 2 * adv) * steps;
fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ schema: 1, state: 'completed', clean: { accuracy: (adv ? 0.75 : 0.7) + (process.env.FAKE_BY_SEED ? 0.01 * cfg.seed : 0), loss: 1 },
  epochs: cfg.epochs, steps, wallSeconds: 1, imagesPerSecond: 1, passes: { clean: 64 * steps, attack: adv * steps, adv: adv * steps, total }, plannedPasses: total }));
const now = new Date().toISOString();
// Like the engine, the last word in status.json: what the sweep's state (and its executor) read.
fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ schema: 1, state: 'completed', pid: null, startedAt: now, updatedAt: now, endedAt: now, progress: { epoch: 1, epochs: 1, step: steps, totalSteps: steps } }));
`;

describe('study command: flags', () => {
  let tmp: string;
  let fake: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'study-flags-'));
    fake = path.join(tmp, 'fake-cli.js');
    fs.writeFileSync(fake, FAKE_CLI);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function bad(args: string[], flag: string, fix: RegExp): Promise<void> {
    const c = capture();
    const code = await studyCommand(['--cli', fake, '--out', path.join(tmp, 'never'), ...args], c.out, c.opts);
    assert.equal(code, 2, `${args.join(' ')} → ${code}`);
    assert.equal(c.log.length, 1, c.log.join('\n'));
    assert.ok(c.log[0].startsWith(`error: ${flag}: `), c.log[0]);
    assert.match(c.log[0], fix);
    assert.deepEqual(c.lines, []);
    assert.equal(fs.existsSync(path.join(tmp, 'never')), false, 'nothing is created for a bad flag');
  }

  it('prints help and exits 0', async () => {
    const c = capture();
    assert.equal(await studyCommand(['--help'], c.out, c.opts), 0);
    assert.match(c.lines.join('\n'), /usage: fast-advprop study/);
    assert.match(c.lines.join('\n'), /--config-base FILE/);
  });

  it('refuses bad flags with exit 2 and one line naming the flag and the fix', async () => {
    await bad(['--epochs', '0'], '--epochs', /≥ 1.*--epochs 6/);
    await bad(['--epochs', 'x'], '--epochs', /whole number/);
    await bad(['--epochs', '3'], '--epochs', /PGD-5 AdvProp divides 3 epochs by its cost factor 7\.00.*use --epochs 4 or more/);
    await bad(['--variants', 'vanilla,pgd'], '--variants', /unknown variant "pgd".*advprop-pgd5/);
    await bad(['--variants', 'vanilla,vanilla'], '--variants', /twice/);
    await bad(['--max-steps', '0'], '--max-steps', /≥ 1/);
    await bad(['--bogus'], '--bogus', /unknown flag for "study"/);
    await bad(['--config-base', path.join(tmp, 'missing.json')], '--config-base', /missing\.json: cannot be read: not found/);
    await bad(['stray'], 'stray', /no positional arguments/);
  });

  it('refuses bad --seeds, --variants sets and robustness flags before anything trains', async () => {
    await bad(['--seeds', '0'], '--seeds', /≥ 1, got 0; e\.g\. --seeds 3/);
    await bad(['--seeds', '101'], '--seeds', /at most 100/);
    await bad(['--seed', '-1'], '--seed', /≥ 0/);
    await bad(['--variants', 'table4,fast-advprop-2to1'], '--variants', /fast-advprop-2to1 is listed twice \(fast-advprop-2to1\)|fast-advprop-2to1 is listed twice/);
    await bad(['--variants', 'fast-advprop-2to1,table4'], '--variants', /fast-advprop-2to1 is listed twice \(table4 includes it\)/);
    await bad(['--variants', 'table5'], '--variants', /unknown variant "table5".*table1, table4/);
    await bad(['--robustness', '--no-robustness'], '--no-robustness', /contradicts --robustness/);
    await bad(['--robustness-severities', '1,6'], '--robustness-severities', /severities 1\.\.5.*e\.g\. --robustness-severities 1,3,5/);
    await bad(['--robustness-images', '0'], '--robustness-images', /≥ 1/);
    await bad(['--no-robustness', '--robustness-images', '10'], '--robustness-images', /no effect with --no-robustness/);
  });

  it('takes the sweep\'s executor flags and refuses their misuse the way sweep does', async () => {
    await bad(['--executor', 'pbs'], '--executor', /must be local or slurm, got "pbs"/);
    await bad(['--partition', 'gpu'], '--partition', /is a Slurm setting; add --executor slurm/);
    await bad(['--sbatch', '--qos=high'], '--sbatch', /is a Slurm setting; add --executor slurm/);
    await bad(['--executor', 'slurm', '--parallel', '2'], '--parallel', /on Slurm use --max-parallel/);
    await bad(['--executor', 'slurm', '--time', 'soon'], '--time', /must be a Slurm time/);
    await bad(['--parallel', '0'], '--parallel', /must be 1 to 256/);
    const c = capture();
    assert.equal(await studyCommand(['--help'], c.out, c.opts), 0);
    for (const f of ['--executor NAME', '--parallel N', '--partition P', '--sbatch OPTION', '--max-parallel N']) assert.ok(c.lines.join('\n').includes(f), f);
  });

  it('refuses a bad --config-base key and a missing --cli', async () => {
    const cb = path.join(tmp, 'bad.json');
    fs.writeFileSync(cb, JSON.stringify({ modle: {} }));
    await bad(['--config-base', cb], '--config-base', /modle: unknown key/);
    const c = capture();
    assert.equal(await studyCommand(['--cli', path.join(tmp, 'nope.js')], c.out, c.opts), 2);
    assert.match(c.log[0], /^error: --cli: .*nope\.js does not exist; build it with "npm run build"/);
  });

  it('refuses a non-empty --out so earlier runs are not mixed in', async () => {
    const out = path.join(tmp, 'used');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'x'), '');
    const c = capture();
    assert.equal(await studyCommand(['--cli', fake, '--out', out], c.out, c.opts), 2);
    assert.match(c.log[0], /^error: --out: .* is not empty/);
  });
});

describe('study command: orchestration (fake cli)', () => {
  let tmp: string;
  let fake: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'study-orch-'));
    fake = path.join(tmp, 'fake-cli.js');
    fs.writeFileSync(fake, FAKE_CLI);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs the variants in order, keeps going after a failure, reports it and exits 1', async () => {
    const out = path.join(tmp, 'study');
    const c = capture();
    const code = await studyCommand(['--cli', fake, '--out', out, '--max-steps', '3', '--no-robustness'], c.out, c.opts);
    const text = c.lines.join('\n');
    assert.equal(code, 1, text);
    assert.deepEqual(fs.readFileSync(path.join(out, 'runs', 'order.log'), 'utf8').trim().split('\n'), ['vanilla', 'advprop', 'fast-advprop', 'fast-advprop-noshuffle']);
    // The exit code and the child's own error line, whichever of the executor's log or status.json carried it.
    assert.match(text, /\[2\/4 advprop-pgd5\] FAILED: exit 1: (.*: )?attack\.steps: fake failure for 5 steps$/m);
    assert.match(text, /\[3\/4 fast-advprop\] completed 3 steps/);
    assert.match(text, /^Same-budget PGD-5 AdvProp: failed — exit 1: (.*: )?attack\.steps: fake failure for 5 steps$/m);
    assert.match(text, /^failed: advprop-pgd5$/m);
    // The table is built from what the fake wrote: 75% for Fast AdvProp, a leak only without shuffle BN.
    assert.match(text, /^Fast AdvProp  .*75\.00%\s+50\.0% \/ 40\.0%\s+no$/m);
    assert.match(text, /^Fast AdvProp, no shuffle BN .*75\.00%\s+50\.0% \/ 90\.0%\s+FLAGGED$/m);
    assert.match(text, /^Vanilla training .*1\.00\s+0\.30\/6\s+192\s+0\.04\s+70\.00%/m);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8')) as StudyJson;
    assert.deepEqual(saved.failed, ['advprop-pgd5']);
    // The study folder is a sweep folder: one point per variant, the failed one failed.
    const m = readManifest(out);
    assert.deepEqual(m.points.map((p) => [p.name, p.group, p.runDir]), [
      ['vanilla', 'vanilla', 'runs/vanilla'], ['advprop-pgd5', 'advprop-pgd5', 'runs/advprop-pgd5'],
      ['fast-advprop', 'fast-advprop', 'runs/fast-advprop'], ['fast-advprop-noshuffle', 'fast-advprop-noshuffle', 'runs/fast-advprop-noshuffle'],
    ]);
    assert.equal(readSweepState(out, m)[1].run, 'failed');
    assert.deepEqual(saved.sweep, { dir: out, manifest: path.join(out, 'sweep.json'), executor: 'local', jobId: null });
  });

  it('prints one JSON object with --json (progress on the log) and reads mCE from evaluate', async () => {
    const out = path.join(tmp, 'json');
    const c = capture();
    const code = await studyCommand(['--cli', fake, '--out', out, '--max-steps', '2', '--variants', 'fast-advprop,vanilla', '--robustness', '--json', '--seed', '3'], c.out, c.opts);
    assert.equal(code, 0, c.log.join('\n'));
    assert.equal(c.lines.length, 1);
    const j = JSON.parse(c.lines[0]) as StudyJson;
    assert.deepEqual(j.runs.map((r) => r.variant), ['fast-advprop', 'vanilla']);
    const [f, v] = j.runs;
    assert.equal(f.method, 'fast-advprop');
    assert.equal(f.runDir, path.join(out, 'runs', 'fast-advprop'));
    assert.equal(f.passes, 2 * (64 + 32));
    assert.equal(f.cleanAccuracy, 0.75);
    assert.deepEqual({ clean: f.leak.clean, adv: f.leak.adv, flagged: f.leak.flagged }, { clean: 0.5, adv: 0.4, flagged: false });
    assert.equal(f.meanCorruptionError, 12.5);
    assert.equal(v.leak.adv, null);
    assert.equal(j.budget.baseEpochs, 6);
    assert.deepEqual(j.budget.schedules.map((s) => [s.variant, s.epochs]), [['fast-advprop', 5], ['vanilla', 6]]);
    assert.equal(typeof j.seconds, 'number');
    assert.ok(c.log.some((l) => /^\[1\/2 fast-advprop\] completed 2 steps/.test(l)), 'progress goes to the log with --json');
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'vanilla', 'config.json'), 'utf8'));
    assert.equal(cfg.config.seed, 3);
    assert.deepEqual(cfg.config.model, { arch: 'resnet8', width: 16 }, 'the study trains the default model unless told otherwise');
  });

  it('notes a failing evaluate and still exits 0', async () => {
    const out = path.join(tmp, 'noeval');
    const c = capture();
    process.env.FAKE_EVAL_FAIL = '1';
    try {
      const code = await studyCommand(['--cli', fake, '--out', out, '--max-steps', '1', '--variants', 'vanilla'], c.out, c.opts);
      assert.equal(code, 0);
    } finally {
      delete process.env.FAKE_EVAL_FAIL;
    }
    const text = c.lines.join('\n');
    assert.match(text, /^Vanilla training: robustness skipped: evaluate exit 2: evaluate: not wired yet$/m);
    assert.match(text.split('\n').find((l) => l.startsWith('method'))!, /mean CE$/);
  });

  it('--seeds 3 trains every variant per seed, seed-major, and prints mean ± sample std with n', async () => {
    const out = path.join(tmp, 'seeds');
    const c = capture();
    process.env.FAKE_BY_SEED = '1';
    process.env.FAKE_LOG_DIR = tmp;
    try {
      const code = await studyCommand(['--cli', fake, '--out', out, '--max-steps', '2', '--variants', 'vanilla,fast-advprop-1to1', '--seed', '5', '--seeds', '3'], c.out, c.opts);
      assert.equal(code, 0, c.lines.join('\n'));
    } finally {
      delete process.env.FAKE_BY_SEED;
      delete process.env.FAKE_LOG_DIR;
    }
    assert.deepEqual(fs.readFileSync(path.join(tmp, 'order.log'), 'utf8').trim().split('\n'), [
      'vanilla 4:1 seed 5 seeds/runs/vanilla-seed-5', 'fast-advprop 1:1 seed 5 seeds/runs/fast-advprop-1to1-seed-5',
      'vanilla 4:1 seed 6 seeds/runs/vanilla-seed-6', 'fast-advprop 1:1 seed 6 seeds/runs/fast-advprop-1to1-seed-6',
      'vanilla 4:1 seed 7 seeds/runs/vanilla-seed-7', 'fast-advprop 1:1 seed 7 seeds/runs/fast-advprop-1to1-seed-7',
    ]);
    // Robustness is on by default, on the affordable subset.
    assert.equal(fs.readFileSync(path.join(out, 'runs', 'vanilla-seed-6', 'evaluate-args.txt'), 'utf8'),
      `--run ${path.join(out, 'runs', 'vanilla-seed-6')} --json --corruptions all --severities 1,3,5 --limit 1000`);
    const text = c.lines.join('\n');
    assert.match(text, /^robustness: all 15 corruptions at severities 1,3,5 on the first 1000 test images, of each completed run once all have trained$/m);
    // Vanilla: 0.70 + 0.01·seed → 75, 76, 77 %: mean 76.00, sample std 1.00; mean CE 17.5, 18.5, 19.5 → 18.50 ± 1.00.
    assert.match(text, /^Vanilla training\s+3\s+1\.00\s+6\s+\S+\s+76\.00 ± 1\.00\s+50\.0 ± 0\.0 \/ –\s+–\s+18\.50 ± 1\.00$/m);
    assert.match(text, /^Fast AdvProp 1:1\s+3\s+.*81\.00 ± 1\.00\s+50\.0 ± 0\.0 \/ 40\.0 ± 0\.0\s+0\/3\s+18\.50 ± 1\.00$/m);
    assert.match(text, /^ {2}Vanilla training: 5: 75\.00, 6: 76\.00, 7: 77\.00$/m);
    const j = JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8')) as StudyJson;
    assert.deepEqual(j.seeds, [5, 6, 7]);
    assert.deepEqual(j.robustness, { corruptions: 'all', severities: [1, 3, 5], images: 1000 });
    assert.deepEqual(j.runs.map((r) => `${r.variant}@${r.seed}`), ['vanilla@5', 'fast-advprop-1to1@5', 'vanilla@6', 'fast-advprop-1to1@6', 'vanilla@7', 'fast-advprop-1to1@7']);
    const v = j.aggregate.find((a) => a.variant === 'vanilla')!;
    assert.equal(v.cleanAccuracy.n, 3);
    assert.ok(Math.abs(v.cleanAccuracy.mean! - 0.76) < 1e-12 && Math.abs(v.cleanAccuracy.std! - 0.01) < 1e-12, JSON.stringify(v.cleanAccuracy));
  });

  it('--variants table4 trains the four splits; --no-robustness runs no evaluate and shows no mean CE', async () => {
    const out = path.join(tmp, 't4');
    const c = capture();
    process.env.FAKE_LOG_DIR = tmp;
    fs.rmSync(path.join(tmp, 'order.log'), { force: true });
    try {
      assert.equal(await studyCommand(['--cli', fake, '--out', out, '--max-steps', '1', '--variants', 'table4', '--no-robustness'], c.out, c.opts), 0);
    } finally {
      delete process.env.FAKE_LOG_DIR;
    }
    assert.deepEqual(fs.readFileSync(path.join(tmp, 'order.log'), 'utf8').trim().split('\n'), [
      'fast-advprop 8:1 seed 0 t4/runs/fast-advprop-8to1', 'fast-advprop 4:1 seed 0 t4/runs/fast-advprop-4to1',
      'fast-advprop 2:1 seed 0 t4/runs/fast-advprop-2to1', 'fast-advprop 1:1 seed 0 t4/runs/fast-advprop-1to1',
    ]);
    assert.equal(fs.existsSync(path.join(out, 'runs', 'fast-advprop-8to1', 'evaluate-args.txt')), false);
    const text = c.lines.join('\n');
    assert.ok(!/mean CE/.test(text), text);
    assert.match(text, /^\[3\/4 fast-advprop-2to1\] Fast AdvProp 2:1: cost ×1\.33, 4 epochs, LR decay at 3$/m);
    assert.equal((JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8')) as StudyJson).robustness, null);
  });

  it('a sweep cancel during the study: the points not started are failed rows saying so, the one running completes, exit 1', async () => {
    const out = path.join(tmp, 'cancel');
    const c = capture();
    process.env.FAKE_CANCEL = '1';
    try {
      assert.equal(await studyCommand(['--cli', fake, '--out', out, '--max-steps', '1', '--variants', 'vanilla,fast-advprop', '--no-robustness', '--json'], c.out, c.opts), 1);
    } finally {
      delete process.env.FAKE_CANCEL;
    }
    const j = JSON.parse(c.lines[0]) as StudyJson;
    assert.deepEqual(j.runs.map((r) => [r.variant, r.state, r.error]), [['vanilla', 'completed', undefined], ['fast-advprop', 'failed', 'cancelled before it started']]);
    assert.deepEqual(j.failed, ['fast-advprop']);
  });

  it('Ctrl-C on the study cancels it through its executor: the running run ends, the rest never start, the table is still printed, exit 1', async function () {
    this.timeout(60000);
    if (!fs.existsSync(REAL_CLI)) throw new Error(`${REAL_CLI} is missing; run "npm run build" first`);
    const out = path.join(tmp, 'sigint');
    const child = spawn(process.execPath, [REAL_CLI, 'study', '--cli', fake, '--out', out, '--max-steps', '1', '--variants', 'vanilla,fast-advprop,fast-advprop-noshuffle', '--json'],
      { env: { ...process.env, FAKE_SLOW_MS: '3000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const t0 = Date.now();
    while (!fs.existsSync(path.join(out, 'runs', 'vanilla', 'training')) && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 50));
    // Only the study gets the signal (a terminal would signal the whole group; the engine handles its own).
    child.kill('SIGINT');
    assert.equal(await closed, 1, stderr);
    assert.match(stderr, /SIGINT: cancelling the study/);
    const j = JSON.parse(stdout) as StudyJson;
    assert.deepEqual(j.runs.map((r) => [r.variant, r.state, r.error ?? null]), [
      ['vanilla', 'completed', null], ['fast-advprop', 'failed', 'cancelled before it started'], ['fast-advprop-noshuffle', 'failed', 'cancelled before it started'],
    ]);
    assert.equal(j.runs[0].robustnessNote, 'robustness skipped: the study was cancelled');
    assert.equal(fs.existsSync(path.join(out, 'runs', 'fast-advprop', 'config.json')), false);
  });

  it('reads the mean corruption error from the record or a wrapper', () => {
    assert.equal(meanCorruptionErrorOf({ summary: { meanCorruptionError: 3 } }), 3);
    assert.equal(meanCorruptionErrorOf({ robustness: { summary: { meanCorruptionError: 4 } } }), 4);
    assert.equal(meanCorruptionErrorOf({ summary: { meanCorruptionError: null } }), null);
    assert.equal(meanCorruptionErrorOf({ clean: 1 }), undefined);
  });
});

describe('study command: smoke test through the real cli.js', function () {
  // Four real (tiny) trainings, two steps each; most of the time is TF.js start-up per child.
  this.timeout(240000);
  let tmp: string;
  before(function () {
    if (!fs.existsSync(REAL_CLI)) {
      // A missing build is a setup problem, not a pass: say so loudly.
      throw new Error(`${REAL_CLI} is missing; run "npm run build" first`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'study-smoke-'));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('trains all four variants for 2 steps and reports figures read from their run folders', async () => {
    const base = path.join(tmp, 'tiny.advprop.json');
    fs.writeFileSync(base, JSON.stringify({ model: { arch: 'resnet8', width: 4 }, dataset: { name: 'fashion-mnist-subset', trainLimit: 160, testLimit: 80 }, batchSize: 16, logEvery: 1, workers: 1 }));
    const out = path.join(tmp, 'study');
    const c = capture();
    // Robustness on a sliver (16 images, severity 1) so the real evaluate path runs without costing much.
    const code = await studyCommand(['--cli', REAL_CLI, '--config-base', base, '--out', out, '--max-steps', '2', '--json', '--robustness-images', '16', '--robustness-severities', '1'], c.out, c.opts);
    assert.equal(code, 0, c.log.join('\n'));
    const j = JSON.parse(c.lines[0]) as StudyJson;
    assert.deepEqual(j.runs.map((r) => r.variant), ['vanilla', 'advprop-pgd5', 'fast-advprop', 'fast-advprop-noshuffle']);
    const by = Object.fromEntries(j.runs.map((r) => [r.variant, r]));
    for (const r of j.runs) {
      assert.equal(r.state, 'completed', r.variant);
      assert.equal(r.steps, 2, r.variant);
      const results = JSON.parse(fs.readFileSync(path.join(r.runDir, 'results.json'), 'utf8'));
      assert.equal(r.passes, results.passes.total, r.variant);
      assert.equal(r.cleanAccuracy, results.clean.accuracy, r.variant);
      assert.ok(r.cleanAccuracy! >= 0 && r.cleanAccuracy! <= 1);
      assert.ok(r.leak.clean !== null && r.leak.clean >= 0 && r.leak.clean <= 1, r.variant);
      const cfg = JSON.parse(fs.readFileSync(path.join(r.runDir, 'config.json'), 'utf8'));
      assert.deepEqual(cfg.config.model, { arch: 'resnet8', width: 4 });
      assert.equal(cfg.dataset.train, 160);
      const rob = JSON.parse(fs.readFileSync(path.join(r.runDir, 'robustness.json'), 'utf8'));
      assert.equal(r.meanCorruptionError, rob.summary.meanCorruptionError, r.variant);
      assert.deepEqual(rob.summary.coverage, { corruptions: 15, severities: [1], cells: 15 });
    }
    assert.equal(by['vanilla'].leak.adv, null);
    assert.notEqual(by['advprop-pgd5'].leak.adv, null);
    assert.notEqual(by['fast-advprop'].leak.adv, null);
    // Counted passes follow the cost model: same steps and clean batch, PGD-5 AdvProp does 7× vanilla's work;
    // Fast AdvProp 4:1 does 1.2 passes per image it consumes (16 clean + 4 attacked per step).
    assert.equal(by['advprop-pgd5'].passes! / by['vanilla'].passes!, 7);
    assert.equal(by['advprop-pgd5'].costFactor, 7);
    assert.ok(Math.abs(by['fast-advprop'].passes! / (2 * 20) - by['fast-advprop'].costFactor!) < 1e-9);
    assert.equal(by['fast-advprop-noshuffle'].passes, by['fast-advprop'].passes);
    assert.deepEqual(j.budget.schedules.map((s) => s.epochs), [6, 1, 5, 5]);
    const noShuffle = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'fast-advprop-noshuffle', 'config.json'), 'utf8'));
    assert.equal(noShuffle.config.shuffleBN, false);

    // The study folder reads back as a sweep: its manifest, each point completed with the accuracy
    // its results.json holds, and `sweep table` groups the points by variant.
    const m = readManifest(out);
    assert.equal(m.executor, 'local');
    assert.equal(m.base, base);
    const states = readSweepState(out, m);
    assert.deepEqual(states.map((s) => [s.name, s.group, s.run, s.runDir]), j.runs.map((r) => [r.variant, r.variant, 'completed', r.runDir]));
    for (const s of states) assert.equal(s.accuracy, by[s.name].cleanAccuracy, s.name);
    const lines: string[] = [];
    const err: string[] = [];
    assert.equal(await sweepCommand(['table', out], { out: (l: string) => lines.push(l), err: (l: string) => err.push(l) }), 0, err.join('\n'));
    assert.deepEqual(lines.slice(2).map((l) => l.split(/\s+/)[0]), ['vanilla', 'advprop-pgd5', 'fast-advprop', 'fast-advprop-noshuffle']);
    assert.match(lines[2], new RegExp(`^vanilla\\s+1/1\\s+${(100 * by['vanilla'].cleanAccuracy!).toFixed(2)}\\s`));
  });
});
