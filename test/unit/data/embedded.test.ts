import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { embeddedDatasetCandidates, findEmbeddedDataset } from '../../../src/engine/data/embedded';
import { loadDataset } from '../../../src/engine/data/load';
import { classCounts } from '../../../src/engine/data/subset';
import { FASHION_MNIST_CLASSES } from '../../../src/engine/data/types';

describe('data: embedded Fashion-MNIST subset', () => {
  it('loads 10,000 train / 2,000 test images, balanced over 10 classes', async () => {
    const { train, test } = await loadDataset({ name: 'fashion-mnist-subset' });
    assert.equal(train.count, 10000);
    assert.equal(test.count, 2000);
    assert.equal(train.images.length, 10000 * 28 * 28);
    assert.equal(test.images.length, 2000 * 28 * 28);
    assert.deepEqual(classCounts(train), new Array(10).fill(1000));
    assert.deepEqual(classCounts(test), new Array(10).fill(200));
    assert.equal(train.channels, 1);
    assert.equal(train.source, 'embedded');
    assert.deepEqual(train.classNames, FASHION_MNIST_CLASSES);
    // Real images, not zeros: Fashion-MNIST's mean pixel is about 73.
    let sum = 0;
    for (const v of train.images) sum += v;
    const mean = sum / train.images.length;
    assert.ok(mean > 60 && mean < 90, `mean pixel ${mean}`);
  });

  it('is also the default when the section is missing', async () => {
    const { test } = await loadDataset(undefined);
    assert.equal(test.count, 2000);
  });

  it('matches the sha256 sums recorded in PROVENANCE.md', () => {
    const dir = findEmbeddedDataset();
    const prov = readFileSync(path.join(dir, 'PROVENANCE.md'), 'utf8');
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      const sum = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
      assert.ok(prov.includes(`| ${f} | ${sum} |`), f);
    }
    assert.match(readFileSync(path.join(dir, 'LICENSE'), 'utf8'), /Zalando SE[\s\S]*Permission is hereby granted/);
  });

  it('finds the folder from dist/ and out/src/engine/data/, and honours FAST_ADVPROP_DATA_DIR', () => {
    const root = path.resolve(__dirname, '../../../..');
    const fromDist = embeddedDatasetCandidates({}, path.join(root, 'dist'));
    const fromOut = embeddedDatasetCandidates({}, path.join(root, 'out/src/engine/data'));
    const want = path.join(root, 'media/datasets/fashion-mnist-subset');
    assert.ok(fromDist.includes(want));
    assert.ok(fromOut.includes(want));
    assert.equal(findEmbeddedDataset({ FAST_ADVPROP_DATA_DIR: path.join(root, 'media/datasets') }, '/nowhere'), want);
    assert.throws(() => findEmbeddedDataset({}, '/nowhere/a/b/c'), /FAST_ADVPROP_DATA_DIR/);
  });

  it('agrees with the full Debian Fashion-MNIST (first images of each class)', async function () {
    const full = '/usr/share/datasets/fashion-mnist';
    if (!existsSync(path.join(full, 'train-images-idx3-ubyte.gz'))) this.skip();
    const { train: big, test: bigTest } = await loadDataset({ name: 'idx', path: full });
    assert.equal(big.count, 60000);
    assert.equal(bigTest.count, 10000);
    assert.deepEqual(big.classNames, FASHION_MNIST_CLASSES);
    const { train: small } = await loadDataset({ name: 'fashion-mnist-subset' });
    // Selection rule: first 1,000 of each class in file order, so the k-th image of class c
    // in the subset is the k-th image of class c in the full set.
    const nth = (ds: typeof big, c: number, k: number): number[] => {
      let seen = 0;
      for (let i = 0; i < ds.count; i++) {
        if (ds.labels[i] === c && seen++ === k) return Array.from(ds.images.subarray(i * 784, (i + 1) * 784));
      }
      throw new Error(`class ${c} has fewer than ${k + 1} images`);
    };
    for (let c = 0; c < 10; c++) {
      for (const k of [0, 999]) assert.deepEqual(nth(small, c, k), nth(big, c, k), `class ${c} image ${k}`);
    }
  });
});
