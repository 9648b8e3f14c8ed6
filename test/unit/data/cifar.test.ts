import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadDataset } from '../../../src/engine/data/load';

const PLANE = 1024;
const RECORD = 1 + 3 * PLANE;

/** A CIFAR-10 binary record whose pixel (y, x) channel ch holds a value derived from (seed, y, x, ch). */
function records(labels: number[], seed: number): Buffer {
  const buf = Buffer.alloc(labels.length * RECORD);
  labels.forEach((y, r) => {
    buf[r * RECORD] = y;
    for (let ch = 0; ch < 3; ch++) for (let p = 0; p < PLANE; p++) buf[r * RECORD + 1 + ch * PLANE + p] = (seed + r * 13 + ch * 50 + p) % 256;
  });
  return buf;
}

describe('data: CIFAR-10 binary', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fap-cifar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeAll(into: string): void {
    mkdirSync(into, { recursive: true });
    for (let b = 1; b <= 5; b++) writeFileSync(path.join(into, `data_batch_${b}.bin`), records([b % 10, (b + 3) % 10], b));
    writeFileSync(path.join(into, 'test_batch.bin'), records([9, 0, 4], 100));
  }

  it('reads planar records into HWC images, in batch order', async () => {
    writeAll(dir);
    writeFileSync(path.join(dir, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const { train, test } = await loadDataset({ name: 'cifar10', path: dir });
    assert.equal(train.count, 10);
    assert.equal(test.count, 3);
    assert.equal(train.channels, 3);
    assert.equal(train.height, 32);
    assert.deepEqual(Array.from(train.labels), [1, 4, 2, 5, 3, 6, 4, 7, 5, 8]);
    assert.deepEqual(Array.from(test.labels), [9, 0, 4]);
    assert.deepEqual(train.classNames, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    // Test image 1, pixel (y=2, x=5), channel ch = planar byte ch*1024 + 2*32 + 5.
    const p = 2 * 32 + 5;
    for (let ch = 0; ch < 3; ch++) assert.equal(test.images[1 * 3072 + p * 3 + ch], (100 + 13 + ch * 50 + p) % 256);
  });

  it('accepts the parent folder of cifar-10-batches-bin and defaults the class names', async () => {
    writeAll(path.join(dir, 'cifar-10-batches-bin'));
    const { train } = await loadDataset({ name: 'cifar10', path: dir });
    assert.equal(train.classNames[0], 'airplane');
    assert.equal(train.source, path.join(dir, 'cifar-10-batches-bin'));
  });

  it('names missing and truncated files', async () => {
    writeAll(dir);
    rmSync(path.join(dir, 'data_batch_3.bin'));
    await assert.rejects(loadDataset({ name: 'cifar10', path: dir }), (e: Error) => e.message.startsWith(`${path.join(dir, 'data_batch_3.bin')}: not found`));
    writeAll(dir);
    writeFileSync(path.join(dir, 'test_batch.bin'), records([1, 2], 0).subarray(0, RECORD + 100));
    await assert.rejects(loadDataset({ name: 'cifar10', path: dir }), (e: Error) => e.message.startsWith(`${path.join(dir, 'test_batch.bin')}: ${RECORD + 100} bytes is not a whole number`));
  });
});
