import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBatch } from '../data/augment';
import { trainView } from '../data/cropBox';
import { loadSharp, turboView } from '../data/decoders';
import { jpegAddon } from '../data/turboJpeg';
import { DEFAULT_STREAM_PREFETCH, openStreamedFolder } from '../data/streamedFolder';
import { StreamLoader, type LoadedImages } from '../data/streamLoader';
import type { Dataset, FileDataset } from '../data/types';
import { Rng } from '../util/rng';
import { writeJpegFolder } from './jpegFolder';

// The data path's rows of `bench`: how many training images per second the loader delivers, at
// 32 px from CIFAR-style uint8 arrays (pad-crop + flip on the main thread, as the in-memory
// datasets do) and at 224 px from ImageNet-sized JPEGs (≈500×375, random-resized crop + flip in
// the decode threads), per thread count and decoder. Compare with the training rows: a loader
// slower than the training step is what a run would wait for. Each row also counts the process's
// CPU time (all threads, libvips' included), so "per CPU-second" is the per-core rate even on a
// machine shared with other jobs. `jpeg-decode-sharp-1` is libvips decoding each whole file to RGB
// and nothing else, the ceiling of any loader that decodes whole files; each turbo and sharp row
// says what fraction of it it reaches. The turbo rows (our libjpeg-turbo addon) pass it, since
// they decode only the crop; their own ceiling is `jpeg-crop-turbo-1`, libjpeg-turbo decoding those
// crops and nothing else, and each turbo row says what fraction of it it reaches: a figure that
// holds while the machine's speed drifts, where the images/s do not (docs/datasets.md).

export interface LoaderBenchRow {
  key: string;
  source: 'arrays-32px' | 'jpeg-224px' | 'jpeg-decode' | 'jpeg-crop-decode';
  decoder: string;
  threads: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  perThread: number;
  /** CPU time of the whole process over the timed part (every thread). */
  cpuSeconds: number;
  /** images / cpuSeconds: the rate per busy core. */
  perCpuSecond: number;
  /** perCpuSecond over that of `jpeg-decode-sharp-1` (turbo and sharp rows, when it ran). */
  fractionOfDecode?: number;
  /** perCpuSecond over that of `jpeg-crop-turbo-1`, libjpeg-turbo's crop decode alone (turbo rows). */
  fractionOfCropDecode?: number;
}

/** Wall and CPU time of `fn`. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<{ seconds: number; cpuSeconds: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
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

async function arraysRow(quick: boolean): Promise<LoaderBenchRow> {
  const n = quick ? 2000 : 10000;
  const px = 32 * 32 * 3;
  const rng = new Rng(32);
  const ds: Dataset = {
    name: 'bench', images: Uint8Array.from({ length: n * px }, (_, i) => (i * 31) & 255), labels: new Int32Array(n), count: n,
    height: 32, width: 32, channels: 3, numClasses: 10, classNames: [], source: 'synthetic',
  };
  const batch = 128;
  const order = rng.permutation(n);
  let images = 0;
  const t = await timed(() => {
    for (let s = 0; s + batch <= n; s += batch) {
      makeBatch(ds, order.subarray(s, s + batch), { augment: true, rng, pad: 4, flip: true });
      images += batch;
    }
  });
  return { key: 'arrays-32px', source: 'arrays-32px', decoder: 'none (uint8 arrays)', threads: 1, images, ...t, imagesPerSecond: images / t.seconds, perThread: images / t.seconds, perCpuSecond: images / t.cpuSeconds };
}

/** libvips decoding each whole JPEG to RGB bytes, one at a time on one libvips thread: no crop, no resize, no copy into a batch. */
async function decodeRow(ds: FileDataset, images: number): Promise<LoaderBenchRow | undefined> {
  const sharp = loadSharp().mod;
  if (!sharp) return undefined;
  const bufs = Array.from({ length: Math.min(images, ds.count) }, (_, i) => readFileSync(ds.files[i]));
  const decode = async (): Promise<void> => {
    for (const b of bufs) await sharp(b, { sequentialRead: true }).raw().toBuffer();
  };
  await decode(); // warm-up
  const t = await timed(decode);
  const n = bufs.length;
  return { key: 'jpeg-decode-sharp-1', source: 'jpeg-decode', decoder: `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), decode only`, threads: 1, images: n, ...t, imagesPerSecond: n / t.seconds, perThread: n / t.seconds, perCpuSecond: n / t.cpuSeconds };
}

/** Images per batch in the 224 px rows: a training step's worth on a small machine. */
const JPEG_BATCH = 64;

/**
 * The loader as a training run drives it: batches of `batch` images over `idx` epoch after epoch
 * without a pause, `prefetch` of them decoded ahead, each handed back (recycled) once read, as the
 * trainer does after converting it to floats. `warm` batches are read first, then `count` under
 * timed(); as many batches are in flight when the timing starts as when it ends, so work done
 * before the start and after the end cancels out.
 */
async function readAsTraining(loader: StreamLoader, ds: FileDataset, idx: Int32Array, batch: number, prefetch: number, warm: number, count: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const perEpoch = Math.max(1, Math.floor(idx.length / batch));
  const inFlight: Promise<LoadedImages>[] = [];
  let next = 0;
  const read = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      while (inFlight.length <= prefetch) {
        const k = next % perEpoch;
        inFlight.push(loader.images(ds, idx.subarray(k * batch, (k + 1) * batch), 'train', Math.floor(next / perEpoch)));
        next++;
      }
      loader.recycle((await inFlight.shift()!).images);
    }
  };
  await read(warm);
  const t = await timed(() => read(count));
  // The batches still in flight are dropped when the caller closes the loader.
  for (const p of inFlight) p.catch(() => undefined);
  return t;
}

/**
 * libjpeg-turbo, through our addon's decode_only, decoding only each file's random-resized crop
 * (the boxes the timed turbo rows draw), from memory, one at a time on one thread: no file read,
 * resize, batch or hand-off. The ceiling of the turbo rows, measured in the same minute as them,
 * so their fraction of it holds however fast the machine runs that minute.
 */
async function cropDecodeRow(ds: FileDataset, images: number): Promise<LoaderBenchRow | undefined> {
  const { addon } = jpegAddon();
  if (!addon) return undefined;
  const bufs = Array.from({ length: Math.min(images, ds.count) }, (_, i) => readFileSync(ds.files[i]));
  const decode = (epoch: number): void => {
    bufs.forEach((b, i) => {
      // The box the loader's turbo decoder asks for: same seed (1), epoch and index as jpegRow's reads.
      const v = turboView(b, ds.height, (h, w) => trainView(h, w, 1, epoch, i, { crop: true, flip: true }));
      if (!v) return;
      const { denom, box } = v;
      try {
        addon.decode_only(b, denom, box.left, box.top, box.width, box.height);
      } catch {
        // left to sharp by the loader; not part of this ceiling
      }
    });
  };
  decode(0); // warm-up
  const t = await timed(() => decode(1));
  const n = bufs.length;
  return { key: 'jpeg-crop-turbo-1', source: 'jpeg-crop-decode', decoder: `libjpeg-turbo ${addon.version()} (our addon), random-resized crop only`, threads: 1, images: n, ...t, imagesPerSecond: n / t.seconds, perThread: n / t.seconds, perCpuSecond: n / t.cpuSeconds };
}

async function jpegRow(ds: FileDataset, threads: number, decoder: 'auto' | 'sharp' | 'js', images: number): Promise<LoaderBenchRow> {
  const prefetch = DEFAULT_STREAM_PREFETCH;
  const loader = await StreamLoader.open({ settings: { workers: threads, prefetch, decoder }, seed: 1, crop: true, flip: true });
  try {
    const batch = Math.min(JPEG_BATCH, images);
    const perEpoch = Math.max(1, Math.floor(images / batch));
    const idx = Int32Array.from({ length: perEpoch * batch }, (_, i) => i % ds.count);
    // Warm-up (threads, decoder, page cache, the batch buffers a run cycles through), then two epochs.
    const n = 2 * perEpoch * batch;
    const t = await readAsTraining(loader, ds, idx, batch, prefetch, Math.min(prefetch + 3, perEpoch), 2 * perEpoch);
    const name = loader.decoderName;
    return { key: `jpeg-224px-${name}-${threads}`, source: 'jpeg-224px', decoder: loader.decoder, threads, images: n, ...t, imagesPerSecond: n / t.seconds, perThread: n / t.seconds / threads, perCpuSecond: n / t.cpuSeconds };
  } finally {
    await loader.close();
  }
}

export async function benchLoader(opts: { quick: boolean; say?: (line: string) => void }): Promise<LoaderBenchRow[]> {
  const rows: LoaderBenchRow[] = [await arraysRow(opts.quick)];
  opts.say?.(`  loader ${rows[0].key}: ${rows[0].imagesPerSecond.toFixed(0)} images/s`);
  const count = opts.quick ? 64 : 512;
  const root = await jpegFolder(count);
  const { train } = await openStreamedFolder(root, { size: 224 });
  const ds = train as FileDataset;
  const cpu = (r: LoaderBenchRow): string => `${r.perCpuSecond.toFixed(0)} per CPU-second${r.fractionOfDecode === undefined ? '' : `, ${(100 * r.fractionOfDecode).toFixed(0)} % of decode-only`}`;
  // First, so that the turbo and sharp rows can be set against them.
  const decode = await decodeRow(ds, Math.min(ds.count, count));
  if (decode) opts.say?.(`  loader ${decode.key}: ${decode.imagesPerSecond.toFixed(0)} images/s (${cpu(decode)})`);
  const cropDecode = await cropDecodeRow(ds, Math.min(ds.count, count));
  if (cropDecode) opts.say?.(`  loader ${cropDecode.key}: ${cropDecode.imagesPerSecond.toFixed(0)} images/s (${cpu(cropDecode)})`);
  const add = async (threads: number, decoder: 'auto' | 'sharp' | 'js', images: number): Promise<LoaderBenchRow> => {
    const r = await jpegRow(ds, threads, decoder, images);
    if (decode && /^jpeg-224px-(turbo|sharp)-/.test(r.key)) r.fractionOfDecode = r.perCpuSecond / decode.perCpuSecond;
    if (cropDecode && r.key.startsWith('jpeg-224px-turbo-')) r.fractionOfCropDecode = r.perCpuSecond / cropDecode.perCpuSecond;
    rows.push(r);
    opts.say?.(`  loader ${r.key}: ${r.imagesPerSecond.toFixed(0)} images/s (${r.perThread.toFixed(0)} per thread, ${cpu(r)}${r.fractionOfCropDecode === undefined ? '' : `, ${(100 * r.fractionOfCropDecode).toFixed(0)} % of libjpeg-turbo's crop decode`})`);
    return r;
  };
  const cores = os.availableParallelism();
  const threadCounts = [...new Set([1, 2, Math.min(4, cores), cores].filter((t) => t <= Math.max(2, cores)))];
  const auto: LoaderBenchRow[] = [];
  for (const t of threadCounts) auto.push(await add(t, 'auto', Math.min(ds.count, count)));
  // The decoders "auto" passed over, for comparison: sharp on its own, and the pure-JS pair.
  if (auto[0]?.key.startsWith('jpeg-224px-turbo')) await add(1, 'sharp', Math.min(ds.count, count));
  if (loadSharp().mod) await add(1, 'js', Math.min(ds.count, opts.quick ? 8 : 64));
  if (decode) rows.push(decode);
  if (cropDecode) rows.push(cropDecode);
  return rows;
}
