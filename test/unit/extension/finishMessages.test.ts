import * as assert from 'node:assert/strict';
import type { RunResults, RunStatus } from '../../../src/shared/runFormat';
import { evaluationFinished, trainingFinished } from '../../../src/extension/jobs/finishMessages';

const status = (s: Partial<RunStatus>): RunStatus => ({ schema: 1, state: 'running', pid: 1, startedAt: null, updatedAt: '', progress: { epoch: 0, epochs: 5, step: 0, totalSteps: 50 }, ...s });

describe('finish notifications (issue #16: nothing said "finished")', () => {
  it('names a completed run, its test accuracy, and offers Open Dashboard', () => {
    const m = trainingFinished('my-run', status({ state: 'completed' }), { clean: { accuracy: 0.8712, loss: 0.4 } } as RunResults);
    assert.equal(m.text, 'Fast AdvProp: run my-run completed: test accuracy 87.1 %.');
    assert.equal(m.action, 'Open Dashboard');
    assert.equal(m.severity, 'info');
  });

  it('says where a stopped run stopped and that Resume continues it', () => {
    const m = trainingFinished('r', status({ state: 'stopped', progress: { epoch: 1, epochs: 5, step: 17, totalSteps: 50 } }), undefined);
    assert.match(m.text, /run r stopped at step 17\/50; Resume/);
    assert.equal(m.action, 'Open Dashboard');
  });

  it('gives a failed run its error and Show Log', () => {
    const m = trainingFinished('r', status({ state: 'failed', error: { message: 'out of memory' } }), undefined, 'tail');
    assert.equal(m.text, 'Fast AdvProp: run r failed: out of memory');
    assert.equal(m.action, 'Show Log');
    assert.equal(m.severity, 'error');
    assert.match(trainingFinished('r', status({ state: 'failed' }), undefined, 'last lines').text, /failed: last lines$/);
  });

  it('ends an evaluation with its figures and Open Robustness Panel', () => {
    const m = evaluationFinished('r', { clean: { accuracy: 0.862, error: 13.8 }, summary: { mCE: null, meanCorruptionError: 31.25 } });
    assert.equal(m.text, 'Fast AdvProp: robustness of r evaluated: clean accuracy 86.2 %, mean CE 31.3 %.');
    assert.equal(m.action, 'Open Robustness Panel');
    assert.match(evaluationFinished('r', { clean: { accuracy: 0.5 }, summary: { mCE: 101.04 } }).text, /mCE 101\.0\.$/);
  });
});
