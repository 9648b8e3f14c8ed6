import * as assert from 'node:assert/strict';
import { readEventBytes } from '../../../src/shared/foreign/eventFileReader';
import type { ForeignRun } from '../../../src/shared/foreign/foreignRun';
import { readReferenceLog } from '../../../src/shared/foreign/referenceLog';
import { ScalarRunBuilder } from '../../../src/shared/foreign/referenceTags';
import { referenceEventFile } from './eventFixtures';

const f32 = (x: number): number => new Float32Array([x])[0];
const emptyRun = (): ForeignRun => ({ origin: 'PyTorch reference', epochs: [], extra: {}, warnings: [] });

describe('the reference run (imagenet.py): event scalars and log.txt', () => {
  it('maps Train/*, *_attack, *_adv, Test/* and LR onto clean / noise / adv / test per epoch, percent to fractions', () => {
    const bytes = referenceEventFile([0, 1].map((epoch) => ({
      epoch,
      scalars: {
        'Train/loss': 2 - epoch * 0.5, 'Train/acc': 40 + epoch, 'Train/lr': 0.1,
        'Train/loss_attack': 3 - epoch * 0.5, 'Train/loss_adv': 2.5, 'Train/acc_attack': 20 + epoch, 'Train/acc_adv': 30 + epoch,
        'Test/loss': 1.75, 'Test/acc': 50 + epoch, 'Train/grad_norm': 7,
      },
    })));
    const run = emptyRun();
    new ScalarRunBuilder(run).add(readEventBytes('e', bytes).scalars);
    assert.equal(run.epochs.length, 2);
    const e1 = run.epochs[1];
    assert.equal(e1.epoch, 1);
    assert.equal(e1.lr, f32(0.1));
    assert.deepEqual(e1.clean, { loss: 1.5, acc: 41 / 100 });
    assert.deepEqual(e1.noise, { loss: 2.5, acc: 21 / 100 });
    assert.deepEqual(e1.adv, { loss: 2.5, acc: 31 / 100 });
    assert.deepEqual(e1.test, { loss: 1.75, acc: 51 / 100 });
    assert.equal(e1.wallTime, 1_700_000_001.5);
    assert.deepEqual(run.extra['Train/grad_norm'].map((p) => [p.step, p.value]), [[0, 7], [1, 7]]);
  });

  it('a resumed run that writes an epoch again keeps the later values, epochs stay ordered', () => {
    const run = emptyRun();
    const b = new ScalarRunBuilder(run);
    b.add([{ tag: 'Test/acc', step: 2, wallTime: 3, value: 10 }, { tag: 'Test/acc', step: 0, wallTime: 1, value: 5 }]);
    b.add([{ tag: 'Test/acc', step: 2, wallTime: 9, value: 12 }, { tag: 'Test/acc', step: 1, wallTime: 8, value: 11 }]);
    assert.deepEqual(run.epochs.map((e) => [e.epoch, e.test?.acc]), [[0, 0.05], [1, 0.11], [2, 0.12]]);
  });

  // bearpaw's Logger: names and "%.6f" numbers, each followed by a tab, one line per epoch.
  const LOG = 'Learning Rate\tTrain Loss\tValid Loss\tTrain Acc.\tValid Acc.\t\n'
    + '0.100000\t6.512345\t5.876543\t1.234000\t3.456000\t\n'
    + '0.100000\t5.012345\t4.776543\t10.500000\t15.250000\t\n';

  it('log.txt rows are epochs 0, 1, … with LR, train and valid loss/accuracy', () => {
    const run = emptyRun();
    readReferenceLog('/r/log.txt', LOG, run);
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(run.epochs, [
      { epoch: 0, lr: 0.1, clean: { loss: 6.512345, acc: 0.01234 }, test: { loss: 5.876543, acc: 0.03456 } },
      { epoch: 1, lr: 0.1, clean: { loss: 5.012345, acc: 0.105 }, test: { loss: 4.776543, acc: 0.1525 } },
    ]);
  });

  it('log.txt: a row still being written is left for later; a bad row is skipped with a warning', () => {
    const run = emptyRun();
    readReferenceLog('/r/log.txt', LOG + '0.010000\t4.1', run);
    assert.equal(run.epochs.length, 2);
    const bad = emptyRun();
    readReferenceLog('/r/log.txt', LOG.replace('5.012345', 'oops'), bad);
    assert.equal(bad.epochs.length, 1);
    assert.deepEqual(bad.warnings, ['/r/log.txt: line 3 skipped (expected 5 numbers, got "0.100000 oops 4.776543 10.500000 15.250000")']);
  });

  it('a file that is not the Logger\'s log.txt is refused in one line naming it', () => {
    assert.throws(() => readReferenceLog('/r/log.txt', 'epoch 1 loss 0.3\n', emptyRun()), {
      message: '/r/log.txt: not the reference\'s log.txt (its header must name Learning Rate, Train Loss, Valid Loss, Train Acc., Valid Acc.; found "epoch 1 loss 0.3")',
    });
  });
});
