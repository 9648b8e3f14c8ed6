import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeIdx, parseIdx, readIdxFile } from '../../../src/engine/data/idx';
import { loadDataset } from '../../../src/engine/data/load';
import { classCounts } from '../../../src/engine/data/subset';

function fixture(n: number, h: number, w: number, classes: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37 + 11) % 256;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = (i * 7) % classes;
  return { images, labels };
}

function writeIdxDir(dir: string, gz: { train: boolean; test: boolean }): { train: ReturnType<typeof fixture>; test: ReturnType<typeof fixture> } {
  const train = fixture(30, 5, 4, 3);
  const test = fixture(9, 5, 4, 3);
  const ext = (g: boolean): string => (g ? '.gz' : '');
  writeFileSync(path.join(dir, `train-images-idx3-ubyte${ext(gz.train)}`), encodeIdx([30, 5, 4], train.images, gz.train));
  writeFileSync(path.join(dir, `train-labels-idx1-ubyte${ext(gz.train)}`), encodeIdx([30], train.labels, gz.train));
  writeFileSync(path.join(dir, `t10k-images-idx3-ubyte${ext(gz.test)}`), encodeIdx([9, 5, 4], test.images, gz.test));
  writeFileSync(path.join(dir, `t10k-labels-idx1-ubyte${ext(gz.test)}`), encodeIdx([9], test.labels, gz.test));
  return { train, test };
}

describe('data: IDX reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fap-idx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips raw and gzipped files (gzip detected by magic, not name)', async () => {
    const { train, test } = writeIdxDir(dir, { train: false, test: true });
    const { train: tr, test: te } = await loadDataset({ name: 'idx', path: dir });
    assert.equal(tr.count, 30);
    assert.equal(te.count, 9);
    assert.equal(tr.height, 5);
    assert.equal(tr.width, 4);
    assert.equal(tr.channels, 1);
    assert.equal(tr.numClasses, 3);
    assert.deepEqual(tr.classNames, ['0', '1', '2']);
    assert.deepEqual(Array.from(tr.images), Array.from(train.images));
    assert.deepEqual(Array.from(tr.labels), Array.from(train.labels));
    assert.deepEqual(Array.from(te.images), Array.from(test.images));
    assert.deepEqual(Array.from(te.labels), Array.from(test.labels));
    assert.equal(tr.source, dir);

    // A gzip stream under a name without .gz still decodes.
    const gzAsRaw = path.join(dir, 'odd-name');
    writeFileSync(gzAsRaw, encodeIdx([30], train.labels, true));
    assert.deepEqual(Array.from((await readIdxFile(gzAsRaw, 1)).data), Array.from(train.labels));
  });

  it('applies class-balanced limits', async () => {
    writeIdxDir(dir, { train: true, test: true });
    const { train, test } = await loadDataset({ name: 'idx', path: dir, trainLimit: 7, testLimit: 6 });
    assert.equal(train.count, 7);
    assert.deepEqual(classCounts(train), [3, 2, 2]);
    assert.deepEqual(classCounts(test), [2, 2, 2]);
  });

  it('a missing file names the path and the fix', async () => {
    writeIdxDir(dir, { train: true, test: true });
    rmSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
    await assert.rejects(loadDataset({ name: 'idx', path: dir }), (e: Error) => {
      assert.ok(e.message.includes(path.join(dir, 't10k-labels-idx1-ubyte')), e.message);
      assert.match(e.message, /not found; put the MNIST-format file there/);
      return true;
    });
  });

  it('a symbolic link loop says so instead of "not found"', async () => {
    writeIdxDir(dir, { train: true, test: true });
    const p = path.join(dir, 't10k-labels-idx1-ubyte');
    rmSync(`${p}.gz`);
    symlinkSync(p, p);
    await assert.rejects(loadDataset({ name: 'idx', path: dir }), (e: Error) => {
      assert.equal(e.message, `${p}: cannot be read: a symbolic link loop (ELOOP)`);
      return true;
    });
  });

  it('a truncated raw file names the path', async () => {
    writeIdxDir(dir, { train: false, test: false });
    const p = path.join(dir, 'train-images-idx3-ubyte');
    const full = encodeIdx([30, 5, 4], fixture(30, 5, 4, 3).images);
    writeFileSync(p, full.subarray(0, full.length - 10));
    await assert.rejects(loadDataset({ name: 'idx', path: dir }), (e: Error) => e.message.startsWith(`${p}: truncated`) && /download the file again/.test(e.message));
  });

  it('a truncated gzip stream names the path', async () => {
    writeIdxDir(dir, { train: true, test: true });
    const p = path.join(dir, 'train-images-idx3-ubyte.gz');
    const full = encodeIdx([30, 5, 4], fixture(30, 5, 4, 3).images, true);
    writeFileSync(p, full.subarray(0, full.length - 20));
    await assert.rejects(loadDataset({ name: 'idx', path: dir }), (e: Error) => e.message.startsWith(`${p}: the gzip stream is damaged`));
  });

  it('wrong magic and swapped files are rejected', () => {
    const bad = Buffer.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]);
    assert.throws(() => parseIdx(bad, '/x/labels'), /^Error: \/x\/labels: wrong magic number \(0x12340801\)/);
    const floats = Buffer.from([0, 0, 0x0d, 0x01, 0, 0, 0, 0]);
    assert.throws(() => parseIdx(floats, '/x/f'), /\/x\/f: IDX element type 0x0d is not supported/);
    const labels = encodeIdx([3], new Uint8Array([1, 2, 3]));
    assert.throws(() => parseIdx(labels, '/x/images', 3), /\/x\/images: expected a 3-dimensional IDX file .* swapped/);
    const trailing = Buffer.concat([labels, Buffer.from([9])]);
    assert.throws(() => parseIdx(trailing, '/x/t'), /\/x\/t: 1 unexpected trailing bytes/);
  });

  it('label and image counts must agree', async () => {
    writeIdxDir(dir, { train: true, test: true });
    writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), encodeIdx([29], new Uint8Array(29), true));
    await assert.rejects(loadDataset({ name: 'idx', path: dir }), /train-labels-idx1-ubyte\.gz: has 29 labels but .* has 30 images/);
  });
});
