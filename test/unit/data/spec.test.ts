import * as assert from 'node:assert/strict';
import { validateDatasetSpec } from '../../../src/engine/data/spec';
import { loadDataset } from '../../../src/engine/data/load';

describe('data: dataset spec validation', () => {
  it('accepts the documented forms', () => {
    assert.deepEqual(validateDatasetSpec({ name: 'fashion-mnist-subset' }), { name: 'fashion-mnist-subset' });
    assert.deepEqual(validateDatasetSpec(undefined), { name: 'fashion-mnist-subset' });
    assert.deepEqual(validateDatasetSpec({ name: 'image-folder', path: 'x', size: 32, trainLimit: 10 }), { name: 'image-folder', path: 'x', size: 32, trainLimit: 10 });
  });
  it('names the field and the fix', () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'mnist' }, /dataset\.name: unknown dataset "mnist"; use one of "fashion-mnist-subset", "idx"/],
      [{ name: 'idx' }, /dataset\.path: required for dataset "idx"; set it to a folder holding train-images-idx3-ubyte/],
      [{ name: 'cifar10', path: '' }, /dataset\.path: required for dataset "cifar10"/],
      [{ name: 'idx', path: 'x', trainLimit: 0 }, /dataset\.trainLimit: expected a positive integer/],
      [{ name: 'idx', path: 'x', testLimit: 2.5 }, /dataset\.testLimit: expected a positive integer/],
      [{ name: 'image-folder', path: 'x', size: 2 }, /dataset\.size: expected an integer side length/],
      [{ name: 'cifar10', path: 'x', size: 32 }, /dataset\.size: not a field of dataset "cifar10"; remove it/],
      [{ name: 'cifar100', path: 'x', labels: 'medium' }, /dataset\.labels: expected "fine" \(100 classes\) or "coarse"/],
      [{ name: 'cifar10', path: 'x', labels: 'fine' }, /dataset\.labels: not a field of dataset "cifar10"/],
      [{ name: 'idx', path: 'x', classNames: [1] }, /dataset\.classNames: expected a non-empty array of strings/],
      ['fashion', /dataset: expected an object/],
      [{ name: 'fashion-mnist-subset', path: '/d' }, /dataset\.path: the embedded "fashion-mnist-subset" takes no path; .*"name": "idx"/],
    ];
    for (const [spec, re] of cases) assert.throws(() => validateDatasetSpec(spec), re, JSON.stringify(spec));
  });
  it('loadDataset validates before touching the disk', async () => {
    await assert.rejects(loadDataset({ name: 'idx', path: '/does/not/exist', trainLimit: -1 }), /dataset\.trainLimit/);
    await assert.rejects(loadDataset({ name: 'idx', path: '/does/not/exist' }), /\/does\/not\/exist: folder not found/);
  });
});
