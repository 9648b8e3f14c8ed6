import * as assert from 'node:assert/strict';
import { detectForeignRun } from '../../../src/shared/foreign/detect';
import type { ForeignRun } from '../../../src/shared/foreign/foreignRun';
import { readTimmArgs, readTimmSummary } from '../../../src/shared/foreign/timmRun';

const emptyRun = (): ForeignRun => ({ origin: 'timm', epochs: [], extra: {}, warnings: [] });

describe('timm runs and telling foreign folders apart', () => {
  // csv.DictWriter ends rows with \r\n; newer timm adds columns (here eval_loss_ema).
  const CSV = 'epoch,train_loss,eval_loss,eval_top1,eval_top5,lr,eval_loss_ema\r\n'
    + '0,6.912345671463013,6.80123,0.25,1.125,0.0001,6.9\r\n'
    + '1,6.5,6.25,1.5,5.75,0.2,6.4\r\n';

  it('summary.csv rows map to epochs (top-1/top-5 percent → fractions); extra columns become series', () => {
    const run = emptyRun();
    readTimmSummary('/t/summary.csv', CSV, run);
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(run.epochs, [
      { epoch: 0, clean: { loss: 6.912345671463013 }, test: { loss: 6.80123, acc: 0.0025, top5: 0.01125 }, lr: 0.0001 },
      { epoch: 1, clean: { loss: 6.5 }, test: { loss: 6.25, acc: 0.015, top5: 0.0575 }, lr: 0.2 },
    ]);
    assert.deepEqual(run.extra, { eval_loss_ema: [{ step: 0, value: 6.9 }, { step: 1, value: 6.4 }] });
  });

  it('summary.csv: a row being written waits, a short row is skipped with a warning, no epoch column is refused', () => {
    const torn = emptyRun();
    readTimmSummary('/t/summary.csv', CSV + '2,6.1,6.0', torn);
    assert.equal(torn.epochs.length, 2);
    const bad = emptyRun();
    readTimmSummary('/t/summary.csv', CSV.replace('1,6.5,6.25,1.5,5.75,0.2,6.4', '1,6.5'), bad);
    assert.deepEqual(bad.warnings, ['/t/summary.csv: line 3 skipped (expected 7 fields with an integer epoch)']);
    assert.throws(() => readTimmSummary('/t/summary.csv', 'a,b\n1,2\n', emptyRun()), { message: '/t/summary.csv: not timm\'s summary.csv (no "epoch" column in the header "a,b")' });
  });

  it('args.yaml (yaml.safe_dump, sorted keys) gives model, epochs, batch size and LR; nesting and nulls are ignored', () => {
    const yaml = 'aa: rand-m9-mstd0.5\nbatch_size: 256\nepochs: 300\nlr: null\nlr_base: 0.1\nmean:\n- 0.485\n- 0.456\nmodel: resnet50\nsmoothing: 0.1\nwarmup_lr: 1.0e-05\n';
    assert.deepEqual(readTimmArgs(yaml), { model: 'resnet50', epochs: 300, batchSize: 256 });
    assert.deepEqual(readTimmArgs("model: 'vit_base_patch16_224'\nlr: 5.0e-04\n"), { model: 'vit_base_patch16_224', lr: 0.0005 });
  });

  it('the detector names the writer from file names alone', () => {
    const ref = detectForeignRun(['checkpoint.pth.tar', 'log.txt', 'events.out.tfevents.1700000100.gpu7', 'events.out.tfevents.1700000000.gpu7', 'model_best.pth.tar', 'eval_imagenet_c.txt', 'log.eps']);
    assert.equal(ref?.origin, 'PyTorch reference');
    assert.deepEqual(ref?.eventFiles, ['events.out.tfevents.1700000000.gpu7', 'events.out.tfevents.1700000100.gpu7']);
    assert.equal(ref?.referenceLog, 'log.txt');
    assert.deepEqual(ref?.logCandidates, ['eval_imagenet_c.txt']);
    assert.equal(detectForeignRun(['summary.csv', 'args.yaml', 'last.pth.tar'])?.origin, 'timm');
    assert.equal(detectForeignRun(['events.out.tfevents.1.host', 'notes.md'])?.origin, 'TensorBoard');
    assert.equal(detectForeignRun(['eval_imagenet_c.txt'])?.origin, 'PyTorch reference');
    assert.equal(detectForeignRun(['config.json', 'metrics.jsonl', 'status.json', 'events.out.tfevents.1.h']), undefined, 'one of our runs');
    assert.equal(detectForeignRun(['README.md', 'data.csv']), undefined);
  });
});
