// A study on Slurm evaluates each run inside the point's own job, after training (slurm/script.ts).
// Here the generated batch script is run by bash with a stand-in for node (no Slurm, no TF.js), so
// its branches are checked in milliseconds: train then evaluate, a completed run (requeued while
// evaluating) only evaluates, a failed or stopped run is not evaluated, and a failed evaluation
// keeps the training's exit code file. The real cluster run is in slurm.test.ts.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SLURM, batchScript } from '../../../src/engine/sweep/slurm/script';
import { evaluateArgs, readManifest, writeManifest, type SweepManifest } from '../../../src/engine/sweep/manifest';
import { isSettled, type PointState } from '../../../src/engine/sweep/state';
import { jobEvaluation } from '../../../src/engine/study/command';
import { UsageError } from '../../../src/engine/util/flags';

/**
 * Stands in for `node`: `train` appends to calls.log and writes status.json with FAKE_TRAIN_STATE
 * (default completed), exiting FAKE_TRAIN_RC; `evaluate` writes robustness.json and exits
 * FAKE_EVAL_RC, printing an error line first when non-zero.
 */
const FAKE_NODE = `#!/bin/bash
cmd=$2; shift 2
echo "$cmd $*" >> "$SWEEP_TEST_DIR/calls.log"
if [ "$cmd" = train ]; then
  for a in "$@"; do last=$a; done
  mkdir -p "$last"
  echo "{\\"state\\": \\"\${FAKE_TRAIN_STATE:-completed}\\"}" > "$last/status.json"
  exit \${FAKE_TRAIN_RC:-0}
fi
if [ "$cmd" = evaluate ]; then
  if [ "\${FAKE_EVAL_RC:-0}" != 0 ]; then echo "error: checkpoints/last.ckpt: not found"; exit $FAKE_EVAL_RC; fi
  echo "wrote $2/robustness.json"; exit 0
fi
exit 9
`;

describe('study on Slurm: the batch script trains, then evaluates in the same job', () => {
  let dir: string;
  let script: string;
  const run = (env: Record<string, string> = {}): { code: number | null; out: string } => {
    const r = spawnSync('bash', [script], {
      env: { PATH: process.env.PATH, SWEEP_TEST_DIR: dir, SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_JOB_ID: '41', SLURM_JOB_ID: '42', ...env }, encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout + r.stderr };
  };
  const calls = (): string[] => (fs.existsSync(path.join(dir, 'calls.log')) ? fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n') : []);
  const read = (rel: string): string | undefined => (fs.existsSync(path.join(dir, rel)) ? fs.readFileSync(path.join(dir, rel), 'utf8').trim() : undefined);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-evaljob-'));
    fs.mkdirSync(path.join(dir, 'slurm'));
    const node = path.join(dir, 'fake-node');
    fs.writeFileSync(node, FAKE_NODE, { mode: 0o755 });
    script = path.join(dir, 'sweep.sbatch');
    fs.writeFileSync(script, batchScript({
      name: 't', sweepDir: dir, cli: '/c.js', settings: { ...DEFAULT_SLURM, node },
      points: [{ runDir: path.join(dir, 'runs', 'v'), config: path.join(dir, 'configs', 'v.json') }],
      evaluate: evaluateArgs({ corruptions: 'all', severities: [1, 3], images: 16 }),
    }));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains, then evaluates the run with the study\'s arguments, logging the job and node; both exit codes recorded', () => {
    const r = run();
    assert.equal(r.code, 0, r.out);
    const runDir = path.join(dir, 'runs', 'v');
    assert.deepEqual(calls(), [`train --config ${path.join(dir, 'configs', 'v.json')} --run-dir ${runDir}`, `evaluate --run ${runDir} --corruptions all --severities 1,3 --limit 16`]);
    assert.equal(read('points/0.exit'), '0');
    assert.equal(read('points/0.evaluate-exit'), '0');
    const log = read('slurm/evaluate-0.log')!.split('\n');
    assert.match(log[0], new RegExp(`^evaluate ${runDir} in job 41_0 \\(42\\) on \\S+, restart 0, \\d{4}-`));
    assert.equal(log[1], `wrote ${runDir}/robustness.json`);
  });

  it('a failed evaluation: the job exits with its code, the log holds the error, the training\'s exit file still says 0', () => {
    const r = run({ FAKE_EVAL_RC: '1' });
    assert.equal(r.code, 1);
    assert.equal(read('points/0.exit'), '0');
    assert.equal(read('points/0.evaluate-exit'), '1');
    assert.match(read('slurm/evaluate-0.log')!, /error: checkpoints\/last\.ckpt: not found/);
  });

  it('a completed run (the job requeued while it evaluated) is not trained again, only evaluated; an evaluation that ended is not repeated', () => {
    fs.mkdirSync(path.join(dir, 'runs', 'v'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'runs', 'v', 'status.json'), '{"state": "completed"}');
    assert.equal(run().code, 0);
    assert.deepEqual(calls().map((c) => c.split(' ')[0]), ['evaluate']);
    assert.equal(run().code, 0);
    assert.deepEqual(calls().map((c) => c.split(' ')[0]), ['evaluate'], 'evaluated twice');
  });

  it('a run that failed, or that scancel stopped (exit 0, status stopped), is not evaluated', () => {
    assert.equal(run({ FAKE_TRAIN_RC: '1', FAKE_TRAIN_STATE: 'failed' }).code, 1);
    assert.deepEqual(calls().map((c) => c.split(' ')[0]), ['train']);
    assert.equal(read('points/0.exit'), '1');
    fs.rmSync(path.join(dir, 'calls.log'));
    fs.rmSync(path.join(dir, 'runs'), { recursive: true });
    assert.equal(run({ FAKE_TRAIN_STATE: 'stopped' }).code, 0);
    assert.deepEqual(calls().map((c) => c.split(' ')[0]), ['train']);
    assert.equal(read('points/0.evaluate-exit'), undefined);
  });

  it('a command sweep cannot carry an evaluation', () => {
    assert.throws(() => batchScript({ name: 'c', sweepDir: '/s', cli: '/c.js', command: true, settings: DEFAULT_SLURM, points: [{ runDir: '/s/r', config: '/s/c.sh' }], evaluate: ['--limit', '1'] }),
      (e: UsageError) => e.field === 'evaluate');
  });
});

describe('study on Slurm: what the study and the sweep state read back', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-evalread-'));
    fs.mkdirSync(path.join(dir, 'points'));
    fs.mkdirSync(path.join(dir, 'slurm'));
    fs.mkdirSync(path.join(dir, 'runs', 'v'), { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a completed run whose job still runs (evaluating) is not settled; once the job has ended it is', () => {
    const s = (state?: string): PointState => ({ index: 0, name: 'v', group: 'v', seed: 0, runDir: '/x', run: 'completed', ...(state ? { scheduler: { jobId: '1_0', state } } : {}) });
    assert.equal(isSettled(s('RUNNING')), false);
    assert.equal(isSettled(s('REQUEUED')), false);
    assert.equal(isSettled(s('COMPLETED')), true);
    assert.equal(isSettled(s('FAILED')), true, 'a failed evaluation ends the point (its run completed)');
    assert.equal(isSettled(s()), true);
  });

  it('jobEvaluation: nothing until the job ends; then the mean CE from robustness.json, or one line naming the run, job and log', () => {
    const runDir = path.join(dir, 'runs', 'v');
    const log = path.join(dir, 'slurm', 'evaluate-0.log');
    assert.equal(jobEvaluation(dir, 0, runDir, false, '7_0'), undefined);
    assert.deepEqual(jobEvaluation(dir, 0, runDir, true, '7_0'), { note: 'robustness skipped: the evaluation of runs/v did not end in Slurm job 7_0 (job cancelled or killed before it finished?)' });
    fs.writeFileSync(log, 'evaluate … in job 7_0\nerror: dataset: /data/x not found\n');
    fs.writeFileSync(path.join(dir, 'points', '0.evaluate-exit'), '2\n');
    assert.deepEqual(jobEvaluation(dir, 0, runDir, false, '7_0'), { note: `robustness skipped: evaluate of runs/v exited 2 in Slurm job 7_0: dataset: /data/x not found; log ${log}` });
    fs.writeFileSync(path.join(dir, 'points', '0.evaluate-exit'), '0\n');
    assert.match(jobEvaluation(dir, 0, runDir, true, '7_0')!.note!, /exited 0 in Slurm job 7_0 but its robustness\.json cannot be read/);
    fs.writeFileSync(path.join(runDir, 'robustness.json'), JSON.stringify({
      schema: 1, createdAt: '2026-12-07T00:00:00Z', source: 'in-memory', images: 16, clean: { accuracy: 0.75, error: 0.25 },
      corruptions: { gaussian_noise: { family: 'noise', errors: [0.375, null, null, null, null] } },
      summary: { meanCorruptionError: 37.5, mCE: null, relativeMCE: null },
    }));
    assert.deepEqual(jobEvaluation(dir, 0, runDir, true, '7_0'), { mce: 37.5 });
  });

  it('the manifest\'s evaluate field is read back and a forged one is refused naming the field', () => {
    const m: SweepManifest = { schema: 1, kind: 'fast-advprop-sweep', name: 's', createdAt: 'x', executor: 'slurm', evaluate: { corruptions: 'all', severities: [1, 3, 5], images: 1000 }, points: [] };
    writeManifest(dir, m);
    assert.deepEqual(readManifest(dir).evaluate, m.evaluate);
    writeManifest(dir, { ...m, evaluate: { corruptions: 'all', severities: [0], images: 1 } });
    assert.throws(() => readManifest(dir), (e: UsageError) => e.field === 'sweep.json evaluate.severities');
    writeManifest(dir, { ...m, evaluate: { corruptions: 'all', severities: [1], images: 0 } });
    assert.throws(() => readManifest(dir), (e: UsageError) => e.field === 'sweep.json evaluate.images');
  });
});
