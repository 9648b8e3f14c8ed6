import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBatch } from '../data/augment';
import { openStreamedFolder } from '../data/streamedFolder';
import { StreamLoader } from '../data/streamLoader';
import type { Dataset, FileDataset } from '../data/types';
import { Rng } from '../util/rng';
import { writeJpegFolder } from './jpegFolder';

// The data path's rows of `bench`: how many training images per second the loader delivers, at
// 32 px from CIFAR-style uint8 arrays (pad-crop + flip on the main thread, as the in-memory
// datasets do) and at 224 px from ImageNet-sized JPEGs (≈500×375, random-resized crop + flip in
// the decode threads), per thread count and decoder. Compare with the training rows: a loader
// slower than the training step is what a run would wait for.

export interface LoaderBenchRow {
  key: string;
  source: 'arrays-32px' | 'jpeg-224px';
  decoder: string;
  threads: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  perThread: number;
}

/** The generated JPEGs are kept between bench runs (a few seconds to make with sharp, minutes without). */
export const BENCH_JPEG_DIR = path.join(os.tmpdir(), 'fast-advprop-bench-jpegs-v1');

async function jpegFolder(count: number): Promise<string> {
  const classes = 8;
  const per = Math.ceil(count / classes);
  const have = (): number => {
    try {
      return readdirSync(path.join(BENCH_JPEG_DIR, 'train')).reduce((a, c) => a + readdirSync(path.join(BENCH_JPEG_DIR, 'train', c)).length, 0);
    } catch {
      return 0;
    }
  };
  if (have() < per * classes || !existsSync(path.join(BENCH_JPEG_DIR, 'val'))) {
    rmSync(BENCH_JPEG_DIR, { recursive: true, force: true });
    await writeJpegFolder(BENCH_JPEG_DIR, { classes, perClass: per, valPerClass: 1, seed: 224 });
  }
  return BENCH_JPEG_DIR;
}

function arraysRow(quick: boolean): LoaderBenchRow {
  const n = quick ? 2000 : 10000;
  const px = 32 * 32 * 3;
  const rng = new Rng(32);
  const ds: Dataset = {
    name: 'bench', images: Uint8Array.from({ length: n * px }, (_, i) => (i * 31) & 255), labels: new Int32Array(n), count: n,
    height: 32, width: 32, channels: 3, numClasses: 10, classNames: [], source: 'synthetic',
  };
  const batch = 128;
  const order = rng.permutation(n);
  const t0 = performance.now();
  let images = 0;
  for (let s = 0; s + batch <= n; s += batch) {
    makeBatch(ds, order.subarray(s, s + batch), { augment: true, rng, pad: 4, flip: true });
    images += batch;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { key: 'arrays-32px', source: 'arrays-32px', decoder: 'none (uint8 arrays)', threads: 1, images, seconds, imagesPerSecond: images / seconds, perThread: images / seconds };
}

async function jpegRow(ds: FileDataset, threads: number, decoder: 'auto' | 'js', images: number): Promise<LoaderBenchRow> {
  const loader = await StreamLoader.open({ settings: { workers: threads, prefetch: 1, decoder }, seed: 1, crop: true, flip: true });
  try {
    const idx = Int32Array.from({ length: images }, (_, i) => i % ds.count);
    await loader.images(ds, idx.subarray(0, Math.min(images, 4 * threads)), 'train', 0); // warm-up: threads, decoder, page cache
    const t0 = performance.now();
    await loader.images(ds, idx, 'train', 1);
    const seconds = (performance.now() - t0) / 1000;
    const name = loader.decoderName;
    return { key: `jpeg-224px-${name}-${threads}`, source: 'jpeg-224px', decoder: loader.decoder, threads, images, seconds, imagesPerSecond: images / seconds, perThread: images / seconds / threads };
  } finally {
    await loader.close();
  }
}

export async function benchLoader(opts: { quick: boolean; say?: (line: string) => void }): Promise<LoaderBenchRow[]> {
  const rows: LoaderBenchRow[] = [arraysRow(opts.quick)];
  opts.say?.(`  loader ${rows[0].key}: ${rows[0].imagesPerSecond.toFixed(0)} images/s`);
  const count = opts.quick ? 64 : 512;
  const root = await jpegFolder(count);
  const { train } = await openStreamedFolder(root, { size: 224 });
  const ds = train as FileDataset;
  const cores = os.availableParallelism();
  const threadCounts = [...new Set([1, 2, Math.min(4, cores), cores].filter((t) => t <= Math.max(2, cores)))];
  for (const t of threadCounts) {
    const r = await jpegRow(ds, t, 'auto', Math.min(ds.count, count));
    rows.push(r);
    opts.say?.(`  loader ${r.key}: ${r.imagesPerSecond.toFixed(0)} images/s (${r.perThread.toFixed(0)} per thread)`);
  }
  if (rows[1]?.decoder.startsWith('sharp')) {
    const r = await jpegRow(ds, 1, 'js', Math.min(ds.count, opts.quick ? 8 : 64));
    rows.push(r);
    opts.say?.(`  loader ${r.key}: ${r.imagesPerSecond.toFixed(0)} images/s`);
  }
  return rows;
}
