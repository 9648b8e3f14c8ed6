import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { READ_LIMITS, folderProblem, readBounded, readBoundedText } from '../util/boundedRead';
import { CIFAR10_CLASSES, type Dataset, type DatasetPair } from './types';

// CIFAR-10 binary version: each record is 1 label byte + 3072 pixel bytes stored channel-planar
// (1024 R, then 1024 G, then 1024 B, rows top to bottom). We convert to HWC to match every other
// loader and the NHWC tensors the engine builds.

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

/** Decodes CIFAR-10 binary records into HWC images and labels; `file` only labels the errors. */
export function parseCifarBatch(buf: Uint8Array, file: string): { images: Uint8Array; labels: Int32Array } {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new Error(`${file}: ${buf.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (truncated or not the binary version); download cifar-10-binary.tar.gz again`);
  }
  const n = buf.length / RECORD;
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * RECORD;
    const y = buf[base];
    if (y > 9) throw new Error(`${file}: record ${r} has label ${y}, outside 0..9; this is not a CIFAR-10 binary file (CIFAR-100 uses a different layout)`);
    labels[r] = y;
    const dst = r * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = buf[base + 1 + p];
      images[dst + 3 * p + 1] = buf[base + 1 + PLANE + p];
      images[dst + 3 * p + 2] = buf[base + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels };
}

/** The tarball unpacks to cifar-10-batches-bin/, so accept the parent folder too. */
function resolveDir(dir: string): string {
  if (!existsSync(path.join(dir, TEST_FILE)) && existsSync(path.join(dir, 'cifar-10-batches-bin', TEST_FILE))) {
    return path.join(dir, 'cifar-10-batches-bin');
  }
  return dir;
}

async function readBatches(dir: string, files: string[]): Promise<{ images: Uint8Array; labels: Int32Array }> {
  const parts = [];
  for (const f of files) parts.push(parseCifarBatch(readBounded(path.join(dir, f), READ_LIMITS.cifarBatch, 'a CIFAR-10 batch'), path.join(dir, f)));
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3 * PLANE);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return { images, labels };
}

export async function loadCifar10(dirIn: string, name = 'cifar10'): Promise<DatasetPair> {
  const bad = folderProblem(dirIn);
  if (bad) throw new Error(`${dirIn}: ${bad}; set dataset.path to the unpacked cifar-10-batches-bin folder`);
  const dir = resolveDir(dirIn);
  const missing = [...TRAIN_FILES, TEST_FILE].filter((f) => !existsSync(path.join(dir, f))).map((f) => path.join(dir, f));
  if (missing.length) {
    throw new Error(`${missing.join(', ')}: not found; dataset "cifar10" needs data_batch_1.bin … data_batch_5.bin and test_batch.bin from cifar-10-binary.tar.gz in dataset.path`);
  }
  let classNames = [...CIFAR10_CLASSES];
  const meta = path.join(dir, 'batches.meta.txt');
  if (existsSync(meta)) {
    const names = readBoundedText(meta, READ_LIMITS.config, 'batches.meta.txt').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length >= 10) classNames = names.slice(0, 10);
  }
  const make = (s: { images: Uint8Array; labels: Int32Array }): Dataset => ({
    name, images: s.images, labels: s.labels, count: s.labels.length, height: SIDE, width: SIDE, channels: 3,
    numClasses: 10, classNames, source: dir,
  });
  return { train: make(await readBatches(dir, TRAIN_FILES)), test: make(await readBatches(dir, [TEST_FILE])) };
}
