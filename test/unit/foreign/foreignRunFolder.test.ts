import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventFileFollower, ForeignRunFollower, readForeignRunFolder } from '../../../src/extension/foreign/foreignRunFolder';
import { concat, eventBytes, referenceEventFile } from './eventFixtures';

const IMAGENET_C = path.join(__dirname, '../../../../test/fixtures/foreign/eval_imagenet_c.txt');
const LOG = 'Learning Rate\tTrain Loss\tValid Loss\tTrain Acc.\tValid Acc.\t\n0.100000\t6.500000\t5.900000\t1.200000\t3.400000\t\n';

const epochScalars = (epoch: number): Record<string, number> => ({
  'Train/loss': 3 - epoch / 4, 'Train/acc': 10 + epoch, 'Train/lr': 0.5, 'Train/loss_attack': 4, 'Train/acc_attack': 5 + epoch,
  'Train/loss_adv': 3.5, 'Train/acc_adv': 8 + epoch, 'Test/loss': 2.5, 'Test/acc': 20 + epoch,
});

/** Name, size and mtime of everything in a folder: reading must leave all three alone. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((n) => {
    const st = fs.statSync(path.join(dir, n));
    return `${n}:${st.size}:${st.mtimeMs}`;
  });
}

describe('reading a foreign run folder from disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a reference folder: epochs with all streams from the event file, ImageNet-C from its log, and nothing written', () => {
    fs.writeFileSync(path.join(dir, 'events.out.tfevents.1700000000.gpu1'), referenceEventFile([0, 1, 2].map((epoch) => ({ epoch, scalars: epochScalars(epoch) }))));
    fs.writeFileSync(path.join(dir, 'log.txt'), LOG);
    fs.copyFileSync(IMAGENET_C, path.join(dir, 'eval_imagenet_c.txt'));
    fs.writeFileSync(path.join(dir, 'checkpoint.pth.tar'), '');
    const before = snapshot(dir);
    const run = readForeignRunFolder(dir);
    assert.deepEqual(snapshot(dir), before);
    assert.ok(run);
    assert.equal(run.origin, 'PyTorch reference');
    assert.deepEqual(run.warnings, []);
    assert.deepEqual(run.epochs.map((e) => [e.epoch, e.clean?.acc, e.noise?.acc, e.adv?.acc, e.test?.acc]), [
      [0, 0.1, 0.05, 0.08, 0.2], [1, 0.11, 0.06, 0.09, 0.21], [2, 0.12, 0.07, 0.1, 0.22],
    ]);
    assert.equal(Object.keys(run.imagenetC?.corruptions ?? {}).length, 19);
    assert.ok(run.imagenetC?.summary.meanError19);
  });

  it('without an event file, log.txt gives the epochs; a timm folder reads summary.csv and args.yaml', () => {
    fs.writeFileSync(path.join(dir, 'log.txt'), LOG);
    fs.writeFileSync(path.join(dir, 'model_best.pth.tar'), '');
    assert.deepEqual(readForeignRunFolder(dir)?.epochs, [{ epoch: 0, lr: 0.1, clean: { loss: 6.5, acc: 0.012 }, test: { loss: 5.9, acc: 0.034 } }]);
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'timm-'));
    try {
      fs.writeFileSync(path.join(t, 'summary.csv'), 'epoch,train_loss,eval_loss,eval_top1,eval_top5,lr\r\n0,6.9,6.8,0.5,2.5,0.001\r\n');
      fs.writeFileSync(path.join(t, 'args.yaml'), 'batch_size: 128\nepochs: 90\nlr: 0.4\nmodel: resnet50\n');
      const run = readForeignRunFolder(t);
      assert.equal(run?.origin, 'timm');
      assert.deepEqual(run?.description, { model: 'resnet50', epochs: 90, batchSize: 128, lr: 0.4 });
      assert.deepEqual(run?.epochs[0].test, { loss: 6.8, acc: 0.005, top5: 0.025 });
    } finally {
      fs.rmSync(t, { recursive: true, force: true });
    }
  });

  it('follows a growing event file: a half-written record shows up once its bytes land', () => {
    const file = path.join(dir, 'events.out.tfevents.1700000000.gpu1');
    fs.writeFileSync(file, referenceEventFile([{ epoch: 0, scalars: epochScalars(0) }]));
    const f = new ForeignRunFollower(dir);
    assert.equal(f.poll()?.epochs.length, 1);
    const next = eventBytes({ wall_time: 5, step: 1, values: [{ tag: 'Test/acc', simple_value: 42 }] });
    fs.appendFileSync(file, next.subarray(0, 10));
    assert.equal(f.poll()?.epochs.length, 1);
    fs.appendFileSync(file, next.subarray(10));
    const run = f.poll();
    assert.deepEqual(run?.epochs.map((e) => e.test?.acc), [0.2, 0.42]);
  });

  it('a corrupted CRC is one warning naming the file and offset, however often the folder is polled', () => {
    const file = path.join(dir, 'events.out.tfevents.1700000000.gpu1');
    const good = eventBytes({ step: 0, values: [{ tag: 'Test/acc', simple_value: 30 }] });
    const bad = eventBytes({ step: 1, values: [{ tag: 'Test/acc', simple_value: 31 }] });
    bad[bad.length - 1] ^= 1;
    fs.writeFileSync(file, concat([good, bad]));
    const f = new ForeignRunFollower(dir);
    f.poll();
    fs.appendFileSync(file, eventBytes({ step: 2, values: [{ tag: 'Test/acc', simple_value: 32 }] }));
    const run = f.poll();
    assert.deepEqual(run?.warnings, [`${file}: corrupt record at byte ${good.length} (data CRC mismatch); read stops there`]);
    assert.deepEqual(run?.epochs.map((e) => e.test?.acc), [0.3]);
  });

  it('an event file replaced by a shorter one is read again from its start', () => {
    const file = path.join(dir, 'events.out.tfevents.1700000000.gpu1');
    fs.writeFileSync(file, referenceEventFile([0, 1].map((epoch) => ({ epoch, scalars: epochScalars(epoch) }))));
    const f = new ForeignRunFollower(dir);
    assert.equal(f.poll()?.epochs.length, 2);
    fs.writeFileSync(file, referenceEventFile([{ epoch: 0, scalars: { 'Test/acc': 99 } }]));
    assert.deepEqual(f.poll()?.epochs.map((e) => [e.epoch, e.test?.acc, e.clean]), [[0, 0.99, undefined]]);
  });

  it('a log.txt that is a FIFO is a one-line warning naming it, and does not block', function () {
    fs.writeFileSync(path.join(dir, 'events.out.tfevents.1700000000.gpu1'), referenceEventFile([{ epoch: 0, scalars: epochScalars(0) }]));
    const fifo = path.join(dir, 'log.txt');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return this.skip();
    const run = readForeignRunFolder(dir);
    assert.equal(run?.epochs.length, 1);
    assert.deepEqual(run?.warnings, [`${fifo}: it is not a regular file (a FIFO)`]);
  });

  it('a 20 MB event file growing by 1 MB appends is read once: only new bytes per poll, bounded held-back bytes, every value', function () {
    const file = path.join(dir, 'events.out.tfevents.1700000000.big');
    const tags = ['Train/loss', 'Train/acc', 'Train/loss_attack', 'Train/acc_attack', 'Train/loss_adv', 'Train/acc_adv', 'Test/loss', 'Test/acc'];
    const parts: Uint8Array[] = [];
    let size = 0;
    let steps = 0;
    let biggest = 0;
    while (size < 20 * 1024 * 1024) {
      const rec = eventBytes({ wall_time: 1.7e9 + steps, step: steps, values: tags.map((tag, i) => ({ tag, simple_value: (steps % 1000) + i / 8 })) });
      parts.push(rec);
      size += rec.length;
      biggest = Math.max(biggest, rec.length);
      steps++;
    }
    const bytes = concat(parts);
    fs.writeFileSync(file, '');
    const follower = new EventFileFollower(file);
    const MB = 1024 * 1024;
    let read = 0;
    let scalars = 0;
    let last;
    let worstHeld = 0;
    const t0 = process.hrtime.bigint();
    for (let at = 0; at < bytes.length; at += MB) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + MB));
      fs.appendFileSync(file, piece);
      const got = follower.poll();
      assert.equal(got.error, undefined);
      assert.equal(got.bytes, piece.length, 'a poll reads only what was appended');
      read += got.bytes;
      scalars += got.scalars.length;
      if (got.scalars.length) last = got.scalars[got.scalars.length - 1];
      worstHeld = Math.max(worstHeld, follower.position - follower.wholeRecordBytes);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(read, bytes.length);
    assert.equal(follower.wholeRecordBytes, bytes.length);
    assert.equal(scalars, steps * tags.length);
    assert.deepEqual(last, { tag: 'Test/acc', step: steps - 1, wallTime: 1.7e9 + steps - 1, value: ((steps - 1) % 1000) + 7 / 8 });
    assert.ok(worstHeld < biggest, `held back ${worstHeld} bytes, more than one record (${biggest})`);
    assert.equal(follower.poll().bytes, 0, 'nothing new, nothing read');
    this.test!.title += ` [${(bytes.length / MB).toFixed(1)} MB, ${steps} records: ${ms.toFixed(0)} ms]`;
  });
});

describe('reading a large event file in one poll', () => {
  it('a file of several read chunks is read whole in one poll', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-'));
    try {
      const file = path.join(dir, 'events.out.tfevents.1.h');
      const recs = [];
      for (let s = 0; s < 50000; s++) recs.push(eventBytes({ step: s, values: [{ tag: 'Train/loss', simple_value: s }, { tag: 'Test/loss', simple_value: -s }] }));
      const bytes = concat(recs);
      assert.ok(bytes.length > 2.5 * 1024 * 1024);
      fs.writeFileSync(file, bytes);
      const got = new EventFileFollower(file).poll();
      assert.equal(got.error, undefined);
      assert.equal(got.bytes, bytes.length);
      assert.equal(got.scalars.length, 100000);
      assert.deepEqual(got.scalars[99999], { tag: 'Test/loss', step: 49999, wallTime: 0, value: -49999 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
