// The local executor goes through the run queue VS Code's job manager drains (src/engine/run/queue.ts):
// --enqueue-only queues every point and starts none; a point another process claims first (as the
// extension does) is trained once, by that process, and the sweep waits for it and tabulates it.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { claimQueued, readQueueRecord, unqueue, writeQueued } from '../../../src/engine/run/queue';
import { readManifest } from '../../../src/engine/sweep/manifest';
import { DEFAULT_CONFIG } from '../../../src/shared/config';
import { CLI, TINY_CONFIG, exited, readText, requireCli, rmDir, runCli, startCli, stepNumbers, tmpDir, waitFor, writeJson } from '../reliability/helpers';
import { startLongSweep } from './longSweep';

describe('local sweeps through the run queue', function () {
  let tmp: string;
  before(function () {
    tmp = tmpDir('sweep-queue');
  });
  after(() => rmDir(tmp));

  it('unqueue takes a queued run out for good (stopped, never started) and refuses one already claimed', () => {
    const a = path.join(tmp, 'unq-a');
    writeQueued(a, { schema: 1, kind: 'train', queuedAt: 'now', config: DEFAULT_CONFIG });
    assert.equal(unqueue(a, 'cancelled before it started'), true);
    const st = JSON.parse(readText(path.join(a, 'status.json')));
    assert.equal(st.state, 'stopped');
    assert.equal(st.startedAt, null);
    assert.equal(st.error.message, 'cancelled before it started');
    assert.equal(claimQueued(a), undefined, 'a cancelled run can still be claimed');
    const b = path.join(tmp, 'unq-b');
    writeQueued(b, { schema: 1, kind: 'train', queuedAt: 'now', config: DEFAULT_CONFIG });
    assert.ok(claimQueued(b));
    // Someone else holds it and is starting it: writing stopped now would race that engine.
    assert.equal(unqueue(b, 'x'), false);
    assert.equal(JSON.parse(readText(path.join(b, 'status.json'))).state, 'queued');
    // A queue.json that is not a queue record (forged, torn) is never claimed as one.
    const c = path.join(tmp, 'unq-c');
    fs.mkdirSync(c);
    writeJson(path.join(c, 'queue.json'), { schema: 2, kind: 'rm -rf' });
    assert.equal(readQueueRecord(c), undefined);
    assert.equal(claimQueued(c), undefined);
  });

  it('--enqueue-only writes each point queued (its config in queue.json) and starts none; refused for Slurm and command sweeps', async function () {
    requireCli(this);
    this.timeout(60000);
    const cfg = writeJson(path.join(tmp, 'tiny.advprop.json'), TINY_CONFIG);
    const out = path.join(tmp, 'enq');
    const res = await runCli(['sweep', '--config', cfg, '--seeds', '3', '--enqueue-only', '--out', out], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /queued 3 points/);
    const m = readManifest(out);
    assert.ok(m.submittedAt);
    for (const p of m.points) {
      const dir = path.join(out, p.runDir);
      assert.equal(JSON.parse(readText(path.join(dir, 'status.json'))).state, 'queued');
      const rec = readQueueRecord(dir)!;
      assert.equal(rec.kind, 'train');
      assert.deepEqual(rec.config, JSON.parse(readText(path.join(out, p.config))));
      assert.equal(rec.config!.seed, p.seed);
      assert.equal(fs.existsSync(path.join(dir, 'config.json')), false, 'a point was started');
    }
    const st = await runCli(['sweep', 'status', out, '--json'], { cwd: tmp });
    assert.deepEqual((JSON.parse(st.stdout).points as { state: string }[]).map((p) => p.state), ['queued', 'queued', 'queued']);
    for (const [args, re] of [
      [['--executor', 'slurm'], /^error: --enqueue-only: /],
      [['--command', 'echo {runDir}', '--config', cfg], /^error: --enqueue-only: /],
    ] as [string[], RegExp][]) {
      const bad = path.join(tmp, 'enq-bad');
      const r = await runCli(['sweep', '--seeds', '2', '--enqueue-only', ...args, '--out', bad], { cwd: tmp });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), re);
      assert.equal(fs.existsSync(bad), false);
    }
  });

  it('a point whose engine exits without a final status (refused, killed) reads failed with why, not queued for ever', async function () {
    requireCli(this);
    this.timeout(60000);
    const fake = path.join(tmp, 'refusing-cli.js');
    fs.writeFileSync(fake, 'process.stderr.write("error: dataset.path: /nowhere does not exist\\n"); process.exit(3);\n');
    const out = path.join(tmp, 'refused');
    const res = await runCli(['sweep', '--seeds', '2', '--cli', fake, '--out', out], { cwd: tmp, timeoutMs: 50000 });
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    for (const p of readManifest(out).points) {
      const st = JSON.parse(readText(path.join(out, p.runDir, 'status.json')));
      assert.equal(st.state, 'failed', `point ${p.index}`);
      assert.equal(st.error.message, 'train exited 3 without writing a final status: dataset.path: /nowhere does not exist');
      assert.equal(fs.existsSync(path.join(out, p.runDir, 'queue.json')), false);
    }
    assert.match(res.stdout, /\b0\/2\b.*\b2 failed\b/);
  });

  it('SIGINT to a local sweep cancels it: the running point stops with a checkpoint, the queued ones leave the queue (nothing left for VS Code to start later)', async function () {
    requireCli(this);
    this.timeout(120000);
    const { child: sweep, out, manifest: m, first, text } = await startLongSweep(tmp, 'sigint');
    sweep.kill('SIGINT'); // the sweep only, not its child: as `kill -INT <pid>` would
    const ex = await exited(sweep);
    assert.equal(ex.code, 1, text());
    assert.equal(JSON.parse(readText(path.join(first, 'status.json'))).state, 'stopped', text());
    assert.ok(fs.existsSync(path.join(first, 'checkpoints', 'last.ckpt')));
    assert.equal(fs.existsSync(path.join(first, 'stop.request')), false, 'a leftover stop.request would stop the next resume at once');
    for (const p of m.points.slice(1)) {
      const dir = path.join(out, p.runDir);
      assert.equal(fs.existsSync(path.join(dir, 'queue.json')), false, `point ${p.index} is still queued`);
      assert.equal(JSON.parse(readText(path.join(dir, 'status.json'))).state, 'stopped');
      assert.equal(fs.existsSync(path.join(dir, 'config.json')), false, `point ${p.index} trained`);
    }
  });

  it('3 points, one claimed first by another process: each trained exactly once, the sweep waits for the other and tabulates all 3', async function () {
    requireCli(this);
    this.timeout(240000);
    const cfg = writeJson(path.join(tmp, 'tiny2.advprop.json'), TINY_CONFIG);
    const out = path.join(tmp, 'shared');
    const sweep = startCli(['sweep', '--config', cfg, '--seeds', '3', '--out', out], { cwd: tmp });
    let text = '';
    sweep.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    sweep.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    // Point 2 is queued as soon as the manifest is; the sweep (one at a time) is busy with point 0.
    await waitFor(() => fs.existsSync(path.join(out, 'sweep.json')) && fs.existsSync(path.join(out, 'runs')) && readManifest(out).points.length === 3 && fs.existsSync(path.join(out, readManifest(out).points[2].runDir, 'queue.json')), 'point 2 queued', 30000);
    const m = readManifest(out);
    const other = path.join(out, m.points[2].runDir);
    const rec = claimQueued(other);
    assert.ok(rec, 'the test could not claim point 2 (the sweep took it first?)');
    assert.equal(claimQueued(other), undefined, 'claimed twice');
    // The other process trains it, as the extension's job manager would, a little later.
    const cfgFile = writeJson(path.join(tmp, 'claimed.json'), rec!.config);
    await waitFor(() => /point 2 .*taken from the queue by another process/.test(text) || /point 1 .*completed/.test(text), 'the sweep reaching point 2', 200000, 100);
    const trainer = spawn(process.execPath, [CLI, 'train', '--config', cfgFile, '--run-dir', other], { stdio: 'ignore' });
    const ex = await exited(sweep);
    assert.equal(ex.code, 0, text);
    assert.equal((await exited(trainer)).code, 0);
    assert.match(text, /point 2 .*taken from the queue by another process/);
    assert.match(text, /point 2 .*completed \(run by another process\)/);
    assert.equal(fs.existsSync(path.join(out, 'points', '2.exit')), false, 'the sweep ran point 2 itself');
    for (const p of m.points) {
      const dir = path.join(out, p.runDir);
      assert.equal(JSON.parse(readText(path.join(dir, 'status.json'))).state, 'completed', `point ${p.index}`);
      const steps = stepNumbers(readText(path.join(dir, 'metrics.jsonl')));
      assert.equal(new Set(steps).size, steps.length, `point ${p.index} trained twice: ${steps.join(',')}`);
      assert.equal(fs.existsSync(path.join(dir, 'queue.json')), false);
    }
    // The table counts all three seeds, the claimed one included.
    assert.match(text, /\b3\/3\b.*\b3 completed\b/, text);
  });
});
