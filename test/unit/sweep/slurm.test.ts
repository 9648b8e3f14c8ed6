// Sweeps on a real one-node Slurm 22.05 (slurmCluster.ts): a 4-point sweep through one
// sbatch --array, Stop through scancel, and a job requeued before its time limit resuming from
// its checkpoint to the same weights as an uninterrupted run. Where Slurm cannot be had, the
// tests say why and are skipped, except under CI=true, where that is a failure.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cancelSweep } from '../../../src/engine/cli/sweep';
import { readManifest } from '../../../src/engine/sweep/manifest';
import { runSlurm, squeueArray } from '../../../src/engine/sweep/slurm/commands';
import { readSweepState } from '../../../src/engine/sweep/state';
import { parseMetricsLines, parseStatus, type RunStatus } from '../../../src/shared/runFormat';
import {
  CRASH_CONFIG, TINY_CONFIG, assertSameState, checkpointState, readText, requireCli, rmDir, runCli, stepNumbers, tmpDir, waitFor, writeJson,
} from '../reliability/helpers';
import { clusterUnavailable, startCluster, type Cluster } from './slurmCluster';

const status = (dir: string): RunStatus | undefined => parseStatus(readText(path.join(dir, 'status.json')));
const lastCkpt = (dir: string): string => path.join(dir, 'checkpoints', 'last.ckpt');

describe('sweep on a real Slurm cluster (sbatch --array, scancel, requeue)', function () {
  let cluster: Cluster | undefined;
  let tmp: string;
  const savedConf = process.env.SLURM_CONF;

  before(async function () {
    requireCli(this);
    this.timeout(120000);
    const why = clusterUnavailable();
    if (why) {
      if (process.env.CI) throw new Error(`under CI the Slurm tests cannot run: ${why}`);
      console.log(`      Slurm tests NOT RUN: ${why}`);
      this.skip();
    }
    cluster = await startCluster();
    // The CLI under test, the Slurm commands this process runs and the jobs all read this config.
    process.env.SLURM_CONF = cluster.conf;
    tmp = tmpDir('slurm');
    // Slurm's first scheduling pass after a start takes ~3 s; one trivial job first keeps it out
    // of the submit-to-RUNNING figures the sweep prints.
    const warm = spawnSync('sbatch', ['--wait', '--parsable', `--output=${tmp}/warm.out`, '--wrap', 'true'], { env: cluster.env, encoding: 'utf8', timeout: 60000 });
    assert.equal(warm.status, 0, `warm-up job failed: ${warm.stderr}`);
  });

  after(async function () {
    this.timeout(60000);
    if (savedConf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = savedConf;
    await cluster?.stop();
    rmDir(tmp);
  });

  it('a 4-point sweep (2 splits × 2 seeds) through one sbatch --array completes with 4 run folders and a mean ± std table', async function () {
    this.timeout(180000);
    const cfg = writeJson(path.join(tmp, 'tiny.advprop.json'), TINY_CONFIG);
    const out = path.join(tmp, 'four');
    const res = await runCli(['sweep', '--config', cfg, '--set', 'split=4:1,1:1', '--seeds', '2', '--executor', 'slurm', '--out', out, '--wait'], { cwd: tmp, timeoutMs: 170000, env: cluster!.env });
    assert.equal(res.code, 0, `sweep failed (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    const m = readManifest(out);
    assert.equal(m.executor, 'slurm');
    assert.match(m.jobId ?? '', /^\d+$/);
    assert.deepEqual(m.points.map((p) => p.jobId), [0, 1, 2, 3].map((i) => `${m.jobId}_${i}`));
    const runs = fs.readdirSync(path.join(out, 'runs')).sort();
    assert.equal(runs.length, 4);
    for (const p of m.points) {
      const st = status(path.join(out, p.runDir));
      assert.equal(st?.state, 'completed', `${p.name}: ${st?.state}`);
      assert.ok(fs.existsSync(path.join(out, p.runDir, 'results.json')));
    }
    // Every task ran under its own array job id, once.
    for (let i = 0; i < 4; i++) assert.match(readText(path.join(out, 'slurm', `started-${i}`)), new RegExp(`^0 [\\d.]+ \\d+ \\S+\\n$`));
    // The table: one row per split, both seeds completed, mean ± std of the two accuracies read from results.json.
    const accs = m.points.map((p) => JSON.parse(readText(path.join(out, p.runDir, 'results.json'))).clean.accuracy as number);
    const row = res.stdout.split('\n').find((l) => l.startsWith('split=4:1'));
    assert.ok(row, `no split=4:1 row in:\n${res.stdout}`);
    const mean = (accs[0] + accs[1]) / 2;
    const std = Math.abs(accs[0] - accs[1]) / Math.SQRT2;
    assert.ok(row.includes(`${(100 * mean).toFixed(2)} ± ${(100 * std).toFixed(2)}`), `row ${row} vs mean ${mean} std ${std}`);
    assert.match(row, /2\/2/);
    const times = /submit-to-RUNNING per point \(s\): (.*)/.exec(res.stdout);
    assert.ok(times, 'the sweep printed no submit-to-RUNNING times');
    console.log(`      ${times[0]}`);
    const table = await runCli(['sweep', 'table', out, '--json'], { cwd: tmp, env: cluster!.env });
    assert.equal(table.code, 0, table.stderr);
    const rows = JSON.parse(table.stdout) as { group: string; completed: number; mean: number }[];
    assert.deepEqual(rows.map((r) => [r.group, r.completed]), [['split=4:1', 2], ['split=1:1', 2]]);
  });

  it('Stop on a running point calls scancel: the job ends CANCELLED, the run folder says stopped with a checkpoint', async function () {
    this.timeout(180000);
    const cfg = writeJson(path.join(tmp, 'long.advprop.json'), { ...CRASH_CONFIG, epochs: 40, milestones: [20] });
    const out = path.join(tmp, 'stop');
    const res = await runCli(['sweep', '--config', cfg, '--seeds', '1', '--executor', 'slurm', '--out', out], { cwd: tmp, env: cluster!.env });
    assert.equal(res.code, 0, res.stderr);
    const m = readManifest(out);
    const runDir = path.join(out, m.points[0].runDir);
    await waitFor(() => stepNumbers(readText(path.join(runDir, 'metrics.jsonl'))).some((s) => s >= 3), 'step 3 of the Slurm run', 90000, 20);
    const lines = await cancelSweep(out, m, [0]);
    assert.deepEqual(lines, [`scancel ${m.jobId}_0`]);
    await waitFor(() => ['stopped', 'completed', 'failed'].includes(status(runDir)?.state ?? ''), 'the run to end', 60000, 50);
    const st = status(runDir)!;
    assert.equal(st.state, 'stopped', `the cancelled run ended ${st.state}`);
    assert.ok(st.lastCheckpoint && fs.existsSync(lastCkpt(runDir)), 'no checkpoint after Stop');
    assert.ok(st.progress.step < st.progress.totalSteps, 'stopped only at the end');
    let q = await squeueArray(runSlurm, m.jobId!);
    const t0 = Date.now();
    while (['RUNNING', 'COMPLETING'].includes(q.get(0)?.state ?? '') && Date.now() - t0 < 30000) {
      await new Promise((r) => setTimeout(r, 200));
      q = await squeueArray(runSlurm, m.jobId!);
    }
    assert.equal(q.get(0)?.state, 'CANCELLED');
    const after = readManifest(out);
    assert.ok(after.points[0].cancelledAt, 'the manifest does not record the cancel');
    assert.equal(readSweepState(out, after, q)[0].run, 'stopped');
  });

  it('a job signalled before its time limit checkpoints, requeues itself and resumes to the same weights as an uninterrupted run', async function () {
    this.timeout(240000);
    const cfg = writeJson(path.join(tmp, 'crash.advprop.json'), CRASH_CONFIG);
    const reference = path.join(tmp, 'reference');
    const ref = await runCli(['train', '--config', cfg, '--run-dir', reference], { cwd: tmp });
    assert.equal(ref.code, 0, ref.stderr);
    const out = path.join(tmp, 'requeue');
    const res = await runCli(['sweep', '--config', cfg, '--seeds', '1', '--executor', 'slurm', '--out', out], { cwd: tmp, env: cluster!.env });
    assert.equal(res.code, 0, res.stderr);
    const m = readManifest(out);
    const runDir = path.join(out, m.points[0].runDir);
    await waitFor(() => stepNumbers(readText(path.join(runDir, 'metrics.jsonl'))).some((s) => s >= 3), 'step 3 of the Slurm run', 90000, 20);
    // Exactly what --signal=B:USR1@N delivers N seconds before the time limit: USR1 to the batch shell.
    const sig = spawnSync('scancel', ['--signal=USR1', '--batch', `${m.jobId}_0`], { env: cluster!.env, encoding: 'utf8' });
    assert.equal(sig.status, 0, sig.stderr);
    await waitFor(() => status(runDir)?.state === 'completed', 'the requeued run to complete', 180000, 100);
    const starts = readText(path.join(out, 'slurm', 'started-0')).trim().split('\n');
    assert.equal(starts.length, 2, `expected a start and a restart, got:\n${starts.join('\n')}`);
    assert.match(starts[1], /^1 /, 'the second start is not SLURM_RESTART_COUNT 1');
    const events = parseMetricsLines(readText(path.join(runDir, 'metrics.jsonl'))).records.filter((r) => r.kind === 'event').map((r) => (r as { event: string }).event);
    assert.ok(events.includes('resume'), `no resume event: ${events.join(', ')}`);
    assertSameState(checkpointState(lastCkpt(reference)), checkpointState(lastCkpt(runDir)), 'requeued + resumed vs uninterrupted');
  });

  it('a command sweep (someone else\'s code) through sbatch --array: each point\'s command runs in its run folder and its exit code is recorded', async function () {
    this.timeout(120000);
    const out = path.join(tmp, 'command');
    const cmd = `node -e 'require("fs").writeFileSync(process.argv[1] + "/ran", process.argv[2]); process.exit(Number(process.argv[2]))' {runDir} {code}`;
    const res = await runCli(['sweep', '--command', cmd, '--set', 'code=0,5', '--executor', 'slurm', '--out', out, '--wait'], { cwd: tmp, timeoutMs: 110000, env: cluster!.env });
    assert.equal(res.code, 1, `one point exits 5:\n${res.stdout}\n${res.stderr}`);
    const m = readManifest(out);
    assert.deepEqual(m.points.map((p) => readText(path.join(out, p.runDir, 'ran'))), ['0', '5']);
    assert.deepEqual(m.points.map((p) => readText(path.join(out, 'points', `${p.index}.exit`)).trim()), ['0', '5']);
    assert.deepEqual(readSweepState(out, m).map((s) => s.run), ['completed', 'failed']);
  });

  it('study --executor slurm: each run is evaluated inside its own array task (requeued mid-evaluation, or failing, per point), never by the study process; the table keeps its mean CE column', async function () {
    this.timeout(300000);
    const base = writeJson(path.join(tmp, 'study-base.advprop.json'), { model: TINY_CONFIG.model, dataset: TINY_CONFIG.dataset, batchSize: 16, workers: 1, logEvery: 1 });
    const out = path.join(tmp, 'study');
    // Preloaded into every node process of the study and its jobs (sbatch passes the environment on):
    // logs which command ran in which process and Slurm job. For evaluate it can also make the
    // first attempt slow (so USR1 lands mid-evaluation) or fail one run, as a broken node would.
    const calls = path.join(tmp, 'study-calls.jsonl');
    const probe = path.join(tmp, 'study-probe.js');
    fs.writeFileSync(probe, `
const fs = require('fs');
if (require('worker_threads').isMainThread) {
  const cmd = process.argv[2], e = process.env;
  const run = cmd === 'evaluate' ? process.argv[process.argv.indexOf('--run') + 1] : undefined;
  fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ cmd, run, pid: process.pid, ppid: process.ppid, job: e.SLURM_JOB_ID ?? null,
    task: e.SLURM_ARRAY_JOB_ID ? e.SLURM_ARRAY_JOB_ID + '_' + e.SLURM_ARRAY_TASK_ID : null, restart: e.SLURM_RESTART_COUNT ?? null }) + '\\n');
  if (run && run.endsWith('/' + e.PROBE_FAIL_EVAL)) { console.error('error: injected: this node cannot evaluate'); process.exit(1); }
  if (run && run.endsWith('/' + e.PROBE_SLOW_EVAL) && (e.SLURM_RESTART_COUNT ?? '0') === '0') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000);
}
`);
    const env = { ...cluster!.env, NODE_OPTIONS: `--require ${probe}`, PROBE_SLOW_EVAL: 'vanilla', PROBE_FAIL_EVAL: 'fast-advprop' };
    const study = runCli(['study', '--config-base', base, '--variants', 'vanilla,fast-advprop', '--max-steps', '2', '--robustness-images', '16', '--robustness-severities', '1',
      '--executor', 'slurm', '--out', out], { cwd: tmp, timeoutMs: 290000, env });
    // What --signal=B:USR1@N sends before the time limit, while vanilla's task evaluates.
    const log0 = path.join(out, 'slurm', 'evaluate-0.log');
    await waitFor(() => fs.existsSync(log0) && readText(calls).split('\n').some((l) => l.includes('"cmd":"evaluate"') && l.includes('/vanilla"')), 'vanilla\'s evaluation to start', 200000, 100);
    const m0 = readManifest(out);
    const sig = spawnSync('scancel', ['--signal=USR1', '--batch', `${m0.jobId}_0`], { env: cluster!.env, encoding: 'utf8' });
    assert.equal(sig.status, 0, sig.stderr);
    const res = await study;
    assert.equal(res.code, 0, `the trainings completed, so the study exits 0 (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    const m = readManifest(out);
    assert.equal(m.executor, 'slurm');
    assert.deepEqual(m.evaluate, { corruptions: 'all', severities: [1], images: 16 });
    assert.deepEqual(m.points.map((p) => [p.name, p.jobId]), [['vanilla', `${m.jobId}_0`], ['fast-advprop', `${m.jobId}_1`]]);

    // Who ran evaluate: only the array tasks, each for its own run; the study process never did.
    const seen = readText(calls).trim().split('\n').map((l) => JSON.parse(l) as { cmd: string; run?: string; pid: number; ppid: number; job: string | null; task: string | null; restart: string | null });
    const studyProc = seen.find((c) => c.cmd === 'study')!;
    assert.ok(studyProc && studyProc.job === null, 'the study itself runs outside Slurm here');
    const evals = seen.filter((c) => c.cmd === 'evaluate');
    assert.deepEqual(evals.map((c) => `${path.basename(c.run!)} ${c.task} restart ${c.restart ?? '0'}`).sort(), [
      `fast-advprop ${m.jobId}_1 restart 0`, `vanilla ${m.jobId}_0 restart 0`, `vanilla ${m.jobId}_0 restart 1`,
    ]);
    for (const c of evals) assert.notEqual(c.ppid, studyProc.pid, 'an evaluate was a child of the study process');
    // Each task trained once: the requeue during evaluation did not train vanilla again.
    assert.deepEqual(seen.filter((c) => c.cmd === 'train').map((c) => c.task).sort(), [`${m.jobId}_0`, `${m.jobId}_1`]);
    // The job's own log of it: two attempts for vanilla (the second after the requeue), one for fast-advprop.
    const heads0 = readText(log0).split('\n').filter((l) => l.startsWith('evaluate '));
    assert.equal(heads0.length, 2, readText(log0));
    assert.match(heads0[0], new RegExp(`^evaluate ${path.join(out, 'runs', 'vanilla')} in job ${m.jobId}_0 \\(\\d+\\) on \\S+, restart 0,`));
    assert.match(heads0[1], new RegExp(` in job ${m.jobId}_0 \\(\\d+\\) on \\S+, restart 1,`));
    assert.match(readText(log0), /time limit near: evaluation stopped, requeueing job/);
    assert.equal(readText(path.join(out, 'points', '0.evaluate-exit')).trim(), '0');
    assert.equal(readText(path.join(out, 'points', '1.evaluate-exit')).trim(), '1');
    assert.equal(readText(path.join(out, 'points', '1.exit')).trim(), '0', 'the failed evaluation changed the training\'s exit code');

    // The study read both back: vanilla's mean CE from its run folder, fast-advprop's failure as one
    // line naming the run, the job and the log, its training figures kept.
    const j = JSON.parse(readText(path.join(out, 'study.json'))) as { runs: { variant: string; runDir: string; state: string; cleanAccuracy: number; meanCorruptionError?: number; robustnessNote?: string; error?: string }[] };
    const [van, fast] = j.runs;
    for (const r of j.runs) {
      assert.equal(r.state, 'completed', r.variant);
      assert.equal(r.error, undefined, r.variant);
      assert.equal(r.cleanAccuracy, JSON.parse(readText(path.join(r.runDir, 'results.json'))).clean.accuracy);
    }
    const mce = JSON.parse(readText(path.join(van.runDir, 'robustness.json'))).summary.meanCorruptionError as number;
    assert.equal(van.meanCorruptionError, mce);
    assert.equal(fast.meanCorruptionError, undefined);
    const failLine = `robustness skipped: evaluate of runs/fast-advprop exited 1 in Slurm job ${m.jobId}_1: injected: this node cannot evaluate; log ${path.join(out, 'slurm', 'evaluate-1.log')}`;
    assert.equal(fast.robustnessNote, failLine);
    assert.ok(res.stdout.split('\n').includes(`[2/2 fast-advprop] ${failLine}`), res.stdout);
    assert.ok(!fs.existsSync(path.join(fast.runDir, 'robustness.json')));
    // The table still has its robustness column: vanilla's figure, a dash for fast-advprop.
    const lines = res.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('method'));
    assert.match(lines[header], /mean CE$/);
    assert.ok(lines[header + 2].trimEnd().endsWith(mce.toFixed(2)), lines[header + 2]);
    assert.match(lines[header + 3].trimEnd(), /–$/);

    // Read as any sweep folder: sweep status, sweep table and the sweep state.
    assert.deepEqual(readSweepState(out, m).map((s) => s.run), ['completed', 'completed']);
    const st = await runCli(['sweep', 'status', out, '--json'], { cwd: tmp, env: cluster!.env });
    assert.equal(st.code, 0, st.stderr);
    assert.deepEqual((JSON.parse(st.stdout) as { points: { name: string; state: string; accuracy: number }[] }).points.map((q) => [q.name, q.state, q.accuracy]), j.runs.map((r) => [r.variant, 'completed', r.cleanAccuracy]));
    const table = await runCli(['sweep', 'table', out, '--json'], { cwd: tmp, env: cluster!.env });
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual((JSON.parse(table.stdout) as { group: string; completed: number }[]).map((r) => [r.group, r.completed]), [['vanilla', 1], ['fast-advprop', 1]]);
  });
});
