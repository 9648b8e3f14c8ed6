import * as assert from 'node:assert/strict';
import type { MetricsRecord, RunStatus } from '../../../src/shared/runFormat';
import type { RunSnapshot } from '../../../src/extension/runSnapshot';
import { formatEta, statusBarView } from '../../../src/extension/statusText';

function snap(status: Partial<RunStatus> | undefined, metrics: MetricsRecord[] = []): RunSnapshot {
  return {
    runDir: '/runs/r', name: 'r', metrics, alive: true, crashed: false, createdMs: 0,
    status: status && { schema: 1, state: 'running', pid: 1, startedAt: null, updatedAt: '', progress: { epoch: 0, epochs: 0, step: 0, totalSteps: 0 }, ...status },
  };
}

const step = (acc: number): MetricsRecord => ({
  v: 1, kind: 'step', t: '', step: 1, epoch: 1, lr: 0.1, loss: 1, clean: { loss: 1, acc, images: 16 }, imagesPerSecond: 10, passes: { clean: 1, attack: 0, adv: 0 },
});
const epoch = (acc: number, e = 1): MetricsRecord => ({
  v: 1, kind: 'epoch', t: '', epoch: e, step: 10, test: { loss: 1, acc }, train: { loss: 1, acc: 0.5 }, seconds: 1,
});

describe('status bar text', () => {
  it('formats ETAs in s, m and h m', () => {
    assert.equal(formatEta(42), '42s');
    assert.equal(formatEta(180), '3m');
    assert.equal(formatEta(3600 + 12 * 60), '1h 12m');
    assert.equal(formatEta(undefined), undefined);
    assert.equal(formatEta(-1), undefined);
    assert.equal(formatEta(Number.NaN), undefined);
  });

  it('labels every number: run, epoch, progress, which accuracy, ETA (issue #16: an unlabelled 53.4% read as progress)', () => {
    const v = statusBarView(snap({ progress: { epoch: 1, epochs: 6, step: 120, totalSteps: 900, etaSeconds: 180 } }, [epoch(0.831, 0)]), 0, 0);
    assert.equal(v.text, '$(sync~spin) r · epoch 2/6 · 13% · test acc 83.1% · ETA 3m');
    assert.equal(v.warning, false);
    assert.match(v.tooltip, /^Fast AdvProp run r$/m);
    assert.match(v.tooltip, /step 120 of 900 \(13% of the training done\)/);
    assert.match(v.tooltip, /test acc: 83\.1% clean test accuracy after epoch 1/);
    const train = statusBarView(snap({ progress: { epoch: 0, epochs: 5, step: 24, totalSteps: 50 } }, [step(0.534)]), 0, 0);
    assert.equal(train.text, '$(sync~spin) r · epoch 1/5 · 48% · train acc 53.4%');
  });

  it('shortens a long generated run name in the bar but keeps it whole in the tooltip', () => {
    const long = { ...snap({}), name: 'fast-advprop-20261207-015812-and-more' };
    const v = statusBarView(long, 0, 0);
    assert.match(v.text, /^\$\(sync~spin\) fast-advprop-20261207-015812-an… · /);
    assert.match(v.tooltip, /fast-advprop-20261207-015812-and-more/);
  });

  it('counts epochs from 1 as the engine prints them, and never past the last', () => {
    assert.match(statusBarView(snap({ progress: { epoch: 0, epochs: 6, step: 1, totalSteps: 900 } }), 0, 0).text, /epoch 1\/6/);
    assert.match(statusBarView(snap({ progress: { epoch: 6, epochs: 6, step: 900, totalSteps: 900 } }), 0, 0).text, /epoch 6\/6/);
  });

  it('prefers the last test accuracy over a later train interval, and falls back to train accuracy', () => {
    assert.match(statusBarView(snap({}, [epoch(0.7), step(0.9)]), 0, 0).text, /· test acc 70\.0%$/);
    const v = statusBarView(snap({}, [step(0.25)]), 0, 0);
    assert.match(v.text, / train acc 25\.0%/);
    assert.match(v.tooltip, /train accuracy/);
  });

  it('says starting before any status, counts other live and queued runs, flags a leak', () => {
    assert.equal(statusBarView(snap(undefined), 0, 0).text, '$(sync~spin) r · starting');
    const v = statusBarView(snap({ leak: { flagged: true, clean: 0.5, adv: 0.9, step: 3, message: 'adv 90% > clean 50%' } }), 2, 1);
    assert.match(v.text, /⚠ leak · \+2 more · 1 queued$/);
    assert.equal(v.warning, true);
    assert.match(v.tooltip, /adv 90% > clean 50%/);
  });

  it('has an idle text for queued-only and nothing-running', () => {
    assert.equal(statusBarView(undefined, 0, 2).text, '$(clock) Fast AdvProp: 2 queued');
    assert.equal(statusBarView(undefined, 0, 0).text, '$(beaker) Fast AdvProp');
  });
});
