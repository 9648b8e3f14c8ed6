// What the Runs view says about a sweep and its points, and what one refresh of a 100-point sweep
// costs (the work the view does per change: manifest, 100 status files, 100 labels). The figure
// is printed, not asserted (docs/cluster.md records it).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest, writeManifest, type SweepManifest } from '../../../src/engine/sweep/manifest';
import { readSweepState, type PointState } from '../../../src/engine/sweep/state';
import { pointPhase, pointText, sweepSummary } from '../../../src/extension/sweeps/labels';
import { rmDir, tmpDir } from '../reliability/helpers';

const pt = (run: PointState['run'], scheduler?: PointState['scheduler'], extra: Partial<PointState> = {}): PointState => ({ index: 0, name: 'p', group: 'g', seed: 0, runDir: '/x', run, ...(scheduler ? { scheduler } : {}), ...extra });

describe('sweep labels in the Runs view', () => {
  it('each Slurm state reads as the view shows it, with the job id', () => {
    assert.equal(pointText(pt('pending', { jobId: '7_3', state: 'PENDING', reason: 'Resources' })), 'PENDING (Resources) · job 7_3');
    assert.equal(pointText(pt('running', { jobId: '7_3', state: 'RUNNING', node: 'gpu12' }, { step: 5, totalSteps: 40 })), 'RUNNING on gpu12 5/40 · job 7_3');
    assert.equal(pointText(pt('completed', { jobId: '7_3', state: 'COMPLETED' }, { accuracy: 0.871 })), 'completed 87.1% · job 7_3');
    assert.equal(pointText(pt('running', { jobId: '7_3', state: 'TIMEOUT' })), 'TIMEOUT · job 7_3');
    assert.equal(pointText(pt('pending', { jobId: '7_3', state: 'CANCELLED' })), 'CANCELLED · job 7_3');
    assert.equal(pointText(pt('stopped', { jobId: '7_3', state: 'CANCELLED' })), 'stopped · job 7_3');
    assert.equal(pointText(pt('failed', { jobId: '7_3', state: 'FAILED' })), 'failed · job 7_3');
    assert.deepEqual(['pending', 'running', 'completed', 'failed'].map((r) => pointPhase(pt(r as PointState['run']))), ['active', 'active', 'done', 'failed']);
    assert.equal(pointPhase(pt('running', { jobId: '1_0', state: 'TIMEOUT' })), 'failed');
    assert.equal(pointPhase(pt('pending', { jobId: '1_0', state: 'CANCELLED' })), 'done');
  });

  it('the sweep node counts its points by state and says when squeue is unavailable', () => {
    const m = { executor: 'slurm', jobId: '12' } as SweepManifest;
    const states = [pt('pending', { jobId: '12_0', state: 'PENDING', reason: 'Priority' }), pt('running', { jobId: '12_1', state: 'RUNNING', node: 'n1' }), pt('completed', undefined, { accuracy: 0.5 }), pt('completed')];
    assert.equal(sweepSummary({ manifest: m, states }), 'slurm job 12 · 1 PENDING, 1 RUNNING, 2 completed');
    assert.equal(sweepSummary({ manifest: m, states, schedulerProblem: 'squeue is not installed' }), 'slurm job 12 · 1 PENDING, 1 RUNNING, 2 completed · squeue unavailable');
    assert.equal(sweepSummary({ states: [] }), 'unreadable');
  });

  it('a point whose train exited non-zero before writing its run folder reads failed, not pending forever', () => {
    const dir = tmpDir('sweepfail');
    try {
      const m: SweepManifest = { schema: 1, kind: 'fast-advprop-sweep', name: 's', createdAt: '', executor: 'local', points: [0, 1].map((i) => ({ index: i, name: `p${i}`, group: 'g', seed: i, overrides: {}, runDir: `runs/p${i}`, config: `configs/p${i}.json` })) };
      writeManifest(dir, m);
      fs.mkdirSync(path.join(dir, 'points'));
      fs.writeFileSync(path.join(dir, 'points', '0.exit'), '2\n');
      const [a, b] = readSweepState(dir, readManifest(dir));
      assert.equal(a.run, 'failed');
      assert.match(a.error ?? '', /train exited 2 before writing its run folder/);
      assert.equal(b.run, 'pending');
    } finally {
      rmDir(dir);
    }
  });

  it('a completed point whose Slurm job is still evaluating it reads "evaluating on <node>" until the job records that evaluation', () => {
    const dir = tmpDir('sweepeval');
    try {
      const points = [0, 1].map((i) => ({ index: i, name: `p${i}`, group: 'g', seed: i, overrides: {}, runDir: `runs/p${i}`, config: `configs/p${i}.json`, jobId: `9_${i}` }));
      const m: SweepManifest = { schema: 1, kind: 'fast-advprop-sweep', name: 's', createdAt: '', executor: 'slurm', jobId: '9', evaluate: { corruptions: 'all', severities: [1, 2, 3, 4, 5], images: 100 }, points };
      fs.mkdirSync(dir, { recursive: true });
      writeManifest(dir, m);
      for (const p of points) {
        fs.mkdirSync(path.join(dir, p.runDir), { recursive: true });
        fs.writeFileSync(path.join(dir, p.runDir, 'status.json'), JSON.stringify({ schema: 1, state: 'completed', pid: null, startedAt: null, updatedAt: new Date().toISOString(), progress: { epoch: 5, epochs: 5, step: 100, totalSteps: 100 } }));
        fs.writeFileSync(path.join(dir, p.runDir, 'results.json'), JSON.stringify({ clean: { accuracy: 0.8 } }));
      }
      fs.mkdirSync(path.join(dir, 'points'));
      fs.writeFileSync(path.join(dir, 'points', '1.evaluate-exit'), '0\n');
      const q = new Map(points.map((p) => [p.index, { jobId: p.jobId, state: 'RUNNING', node: 'n4' }]));
      const [a, b] = readSweepState(dir, readManifest(dir), q);
      assert.equal(pointText(a), 'evaluating on n4 80.0% · job 9_0');
      assert.equal(pointPhase(a), 'active');
      assert.equal(pointText(b), 'completed 80.0% · job 9_1', 'its evaluation is recorded: the job is only exiting');
      assert.equal(sweepSummary({ manifest: m, states: [a, b] }), 'slurm job 9 · 1 evaluating, 1 completed');
      // Without in-job evaluation (a plain sweep), a completed run is completed whatever the job says.
      const plain = readSweepState(dir, readManifest(dir).evaluate ? { ...m, evaluate: undefined } : m, q);
      assert.equal(pointText(plain[0]), 'completed 80.0% · job 9_0');
    } finally {
      rmDir(dir);
    }
  });

  it('a 100-point sweep: one refresh (manifest + 100 status files + labels) is timed and printed', () => {
    const dir = tmpDir('sweep100');
    try {
      const points = Array.from({ length: 100 }, (_, i) => ({ index: i, name: `p${i}`, group: `g${i >> 2}`, seed: i & 3, overrides: {}, runDir: `runs/p${i}`, config: `configs/p${i}.json`, jobId: `5_${i}` }));
      const m: SweepManifest = { schema: 1, kind: 'fast-advprop-sweep', name: 's', createdAt: new Date().toISOString(), executor: 'slurm', jobId: '5', points };
      fs.mkdirSync(dir, { recursive: true });
      writeManifest(dir, m);
      for (const p of points) {
        fs.mkdirSync(path.join(dir, p.runDir), { recursive: true });
        const state = p.index % 3 === 0 ? 'completed' : 'running';
        fs.writeFileSync(path.join(dir, p.runDir, 'status.json'), JSON.stringify({ schema: 1, state, pid: null, startedAt: null, updatedAt: new Date().toISOString(), progress: { epoch: 0, epochs: 5, step: 10, totalSteps: 100 } }));
        if (state === 'completed') fs.writeFileSync(path.join(dir, p.runDir, 'results.json'), JSON.stringify({ clean: { accuracy: 0.8 } }));
      }
      const q = new Map(points.map((p) => [p.index, { jobId: p.jobId, state: p.index % 3 === 0 ? 'COMPLETED' : 'RUNNING', node: 'n1' }]));
      const once = (): string[] => {
        const states = readSweepState(dir, readManifest(dir), q);
        return [sweepSummary({ manifest: m, states }), ...states.map(pointText)];
      };
      once();
      const n = 20;
      const t0 = process.hrtime.bigint();
      let out: string[] = [];
      for (let i = 0; i < n; i++) out = once();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
      assert.equal(out.length, 101);
      assert.equal(out[0], 'slurm job 5 · 34 completed, 66 RUNNING');
      console.log(`      one refresh of a 100-point sweep: ${ms.toFixed(2)} ms (mean of ${n})`);
    } finally {
      rmDir(dir);
    }
  });
});
