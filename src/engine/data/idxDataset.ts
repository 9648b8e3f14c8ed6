import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { READ_LIMITS, folderProblem, readBoundedText } from '../util/boundedRead';
import { readIdxFile } from './idx';
import { FASHION_MNIST_CLASSES, type Dataset, type DatasetPair } from './types';

async function readSplit(dir: string, prefix: 'train' | 't10k'): Promise<{ images: Uint8Array; labels: Int32Array; h: number; w: number }> {
  const img = await readIdxFile(path.join(dir, `${prefix}-images-idx3-ubyte`), 3);
  const lab = await readIdxFile(path.join(dir, `${prefix}-labels-idx1-ubyte`), 1);
  const [n, h, w] = img.dims;
  if (lab.dims[0] !== n) {
    throw new Error(`${lab.path}: has ${lab.dims[0]} labels but ${img.path} has ${n} images; use matching images and labels files`);
  }
  if (n === 0 || h === 0 || w === 0) throw new Error(`${img.path}: empty image set (${n}×${h}×${w}); use a non-empty IDX file`);
  return { images: img.data, labels: Int32Array.from(lab.data), h, w };
}

async function classNamesFor(dir: string, numClasses: number, given?: string[]): Promise<string[]> {
  if (given) {
    if (given.length < numClasses) {
      throw new Error(`dataset.classNames: lists ${given.length} names but the labels use ${numClasses} classes; give one name per class`);
    }
    return given.slice(0, numClasses);
  }
  const listFile = path.join(dir, 'classes.txt');
  if (existsSync(listFile)) {
    const names = readBoundedText(listFile, READ_LIMITS.config, 'classes.txt').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length >= numClasses) return names.slice(0, numClasses);
  }
  // Fashion-MNIST and MNIST share the file format; the folder name is the only hint which one it is.
  if (/fashion/i.test(dir) && numClasses === FASHION_MNIST_CLASSES.length) return [...FASHION_MNIST_CLASSES];
  return Array.from({ length: numClasses }, (_, i) => String(i));
}

/** Loads an MNIST-format folder (train-* and t10k-* IDX files, raw or gzipped). */
export async function loadIdxFolder(dir: string, name: string, source: string, classNames?: string[]): Promise<DatasetPair> {
  const bad = folderProblem(dir);
  if (bad) throw new Error(`${dir}: ${bad}; set dataset.path to a folder holding the MNIST-format IDX files`);
  const tr = await readSplit(dir, 'train');
  const te = await readSplit(dir, 't10k');
  if (tr.h !== te.h || tr.w !== te.w) {
    throw new Error(`${dir}: train images are ${tr.h}×${tr.w} but test images are ${te.h}×${te.w}; use train and test files of the same dataset`);
  }
  let maxLabel = 0;
  for (const y of tr.labels) maxLabel = Math.max(maxLabel, y);
  for (const y of te.labels) maxLabel = Math.max(maxLabel, y);
  const numClasses = maxLabel + 1;
  const names = await classNamesFor(dir, numClasses, classNames);
  const make = (s: typeof tr): Dataset => ({
    name, images: s.images, labels: s.labels, count: s.labels.length, height: s.h, width: s.w, channels: 1,
    numClasses, classNames: names, source,
  });
  return { train: make(tr), test: make(te) };
}
