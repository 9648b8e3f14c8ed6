import * as assert from 'node:assert/strict';
import type { RunStatus } from '../../../src/shared/runFormat';
import { groupRuns, runContextValue, runDescription, runGroupOf, runLabel, runTooltip } from '../../../src/extension/runGroups';
import type { RunSnapshot } from '../../../src/extension/runSnapshot';

function run(name: string, state: RunStatus['state'] | undefined, o: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    runDir: `/runs/${name}`, name, metrics: [], alive: false, crashed: false, createdMs: 0,
    status: state && { schema: 1, state, pid: null, startedAt: null, updatedAt: '', progress: { epoch: 1, epochs: 4, step: 45, totalSteps: 100 } },
    ...o,
  };
}

const config = (method: string, extra: Record<string, unknown> = {}) =>
  ({ config: { method, split: '4:1', attack: { steps: 1 }, model: { arch: 'resnet8', width: 4 }, dataset: { name: 'x' } }, ...extra }) as never;

describe('Runs view grouping', () => {
  it('a crashed run whose lock is stale says why in its tooltip; a run with a verified owner shows its pid', () => {
    const stale = run('a', 'running', { crashed: true, staleOwner: 'stale lock of process 42: it was taken before the machine restarted' });
    assert.match(runTooltip(stale), /^State: Crashed$/m);
    assert.match(runTooltip(stale), /^Not running: stale lock of process 42: it was taken before the machine restarted\.$/m);
    const live = run('b', 'running', { alive: true });
    live.status!.pid = 42;
    assert.match(runTooltip(live), /^State: Running \(pid 42\)$/m);
    assert.doesNotMatch(runTooltip(live), /Not running/);
  });

  it('puts each run in the group its state and process say', () => {
    assert.equal(runGroupOf(run('a', 'running', { alive: true })), 'running');
    assert.equal(runGroupOf(run('a', 'running', { alive: false, crashed: true })), 'crashed');
    assert.equal(runGroupOf(run('a', 'queued')), 'queued');
    assert.equal(runGroupOf(run('a', 'completed')), 'completed');
    assert.equal(runGroupOf(run('a', 'stopped')), 'stopped');
    assert.equal(runGroupOf(run('a', 'failed')), 'failed');
    assert.equal(runGroupOf(run('a', undefined, { alive: true })), 'running', 'just spawned, no status yet');
    assert.equal(runGroupOf(run('a', undefined, { statusProblem: 'unreadable' })), 'unknown');
  });

  it('orders groups Running, Queued, Completed, Stopped, Failed, Crashed and omits empty ones', () => {
    const groups = groupRuns([
      run('f', 'failed'), run('c1', 'completed', { createdMs: 1 }), run('c2', 'completed', { createdMs: 2 }),
      run('r', 'running', { alive: true }), run('q2', 'queued', { createdMs: 2 }), run('q1', 'queued', { createdMs: 1 }), run('x', 'running'),
    ]);
    assert.deepEqual(groups.map((g) => g.label), ['Running', 'Queued', 'Completed', 'Failed', 'Crashed']);
    assert.deepEqual(groups.find((g) => g.group === 'completed')!.runs.map((r) => r.name), ['c2', 'c1'], 'newest first');
    assert.deepEqual(groups.find((g) => g.group === 'queued')!.runs.map((r) => r.name), ['q1', 'q2'], 'queue order');
  });

  it('describes a running run by method, p_adv and progress', () => {
    assert.equal(runDescription(run('a', 'running', { alive: true, config: config('fast-advprop') })), '45% · fast-advprop · p_adv 0.20');
    assert.equal(
      runDescription(run('a', 'running', { alive: true, config: config('fast-advprop', { batch: { clean: 48, adv: 16 } }) })),
      '45% · fast-advprop · p_adv 0.25', 'the engine\'s batch record wins over the split',
    );
  });

  it('describes a finished run by best accuracy, mCE and a leak flag', () => {
    const s = run('a', 'completed', {
      config: config('vanilla'),
      metrics: [
        { v: 1, kind: 'epoch', t: '', epoch: 1, step: 1, test: { loss: 1, acc: 0.8 }, train: { loss: 1, acc: 1 }, seconds: 1 },
        { v: 1, kind: 'epoch', t: '', epoch: 2, step: 2, test: { loss: 1, acc: 0.75 }, train: { loss: 1, acc: 1 }, seconds: 1 },
      ],
      robustness: { summary: { mCE: 78.14, meanCorruptionError: 20 } },
    });
    assert.equal(runDescription(s), '80.0% · mCE 78.1 · vanilla');
    s.status!.leak = { flagged: true, clean: 0.5, adv: 0.9, step: 2, message: '' };
    assert.equal(runDescription(s), '80.0% · mCE 78.1 · ⚠ leak · vanilla');
    assert.equal(runContextValue(s), 'run.completed.evaluated');
  });

  it('labels a generated name by method and time, keeps the full name and date in the tooltip, and drops the method the label already has', () => {
    const s = run('fast-advprop-20261207-015812', 'completed', { config: config('fast-advprop'), results: { clean: { accuracy: 0.871 } } as never });
    assert.equal(runLabel(s), 'FastAP 01:58');
    assert.equal(runDescription(s), '87.1% · p_adv 0.20');
    assert.match(runTooltip(s), /^fast-advprop-20261207-015812\n\/runs\/fast-advprop-20261207-015812\nStarted: 2026-12-07 01:58:12$/m);
    assert.equal(runLabel(run('vanilla-20261207-015812-2', 'completed')), 'Vanilla 01:58 (2)', 'a second run in the same second stays apart');
    assert.equal(runLabel(run('my-sweep-a', 'completed')), 'my-sweep-a', 'a name the user chose is kept');
    const sweep = run('sweep-20261207-015812', 'completed', { config: config('fast-advprop'), results: { clean: { accuracy: 0.871 } } as never });
    assert.equal(runLabel(sweep), 'sweep 01:58', 'a workspace config\'s run keeps its config name');
    assert.equal(runDescription(sweep), '87.1% · fast-advprop · p_adv 0.20', 'and names the method in the description');
  });

  it('says why a run without a readable status is listed', () => {
    assert.match(runDescription(run('a', undefined, { statusProblem: 'unreadable' })), /status unreadable/);
    assert.equal(runContextValue(run('a', 'stopped')), 'run.stopped');
  });
});
