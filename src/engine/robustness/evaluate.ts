// Corruption-robustness evaluation: clean accuracy, then each corruption × severity (corrupted in
// memory, or read from released CIFAR-10-C files), optionally PGD accuracy; summarised into a
// robustness.json record. The model is hidden behind callbacks so this file needs no TF.js.
// The test images come whole or a chunk at a time (a streamed folder too large to hold); every
// metric is a count of correct predictions summed over chunks, and a corrupted image depends only
// on (seed, corruption, severity, image index), so the chunk size never changes a number.

import { join } from 'node:path';
import { mkdirForWrite, writeFileAtomic } from '../run/atomic';
import { CORRUPTIONS, ROBUSTNESS_SCHEMA, type RobustnessRecord, type SeverityErrors } from '../../shared/robustness';
import { openCifar10C, type Cifar10C } from './cifar10c';
import { assertCorruptionName, assertSeverity, corruptBatch, familyOf } from './index';
import { summarize, type ErrorTable } from './metrics';
import { THUMBNAIL_BUDGET_CHARS, defaultScale, pngDataUri, thumbnailStrip } from './thumbnails';

export const ROBUSTNESS_FILE = 'robustness.json';

/** One chunk of the test split: its labels, and its images `offset … offset + count − 1` as HWC floats in [0, 1], made on demand so that a chunk can stay uint8. */
export interface TestChunk {
  labels: Int32Array;
  images(offset: number, count: number): Float32Array;
}

/** A test split read a chunk at a time, so only a bounded number of its images is ever held. */
export interface TestChunks {
  /** Images in the split (`limit` may take fewer). */
  count: number;
  /** Images per read, at most; rounded down to whole batches (but at least one batch). */
  chunk: number;
  /** Images `start … start + count − 1` of the split. */
  read(start: number, count: number): Promise<TestChunk>;
}

export interface EvaluateRobustnessOptions {
  /** Clean test images, HWC, values in [0, 1], back to back (or give `chunks`). */
  images?: Float32Array;
  labels?: Int32Array;
  /** The test split read chunk by chunk instead of `images` + `labels`. */
  chunks?: TestChunks;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Predicted class per image; the caller owns the model and any [-1, 1] rescaling. */
  predict: (batch: Float32Array, n: number) => Promise<Int32Array>;
  corruptions?: readonly string[];
  severities?: readonly number[];
  batchSize?: number;
  /** Only the first `limit` test images (and, with released files, the first `limit` per severity). */
  limit?: number;
  seed?: number;
  /** Returns predictions on PGD-attacked images of the batch. */
  pgd?: (batch: Float32Array, labels: Int32Array, n: number) => Promise<Int32Array>;
  pgdSettings?: { steps: number; epsilon: number };
  baselineErrors?: ErrorTable;
  /** Folder with released CIFAR-10-C .npy files; used instead of in-memory corruption. */
  npyDir?: string;
  run?: RobustnessRecord['run'];
  onProgress?: (done: number, total: number, label: string) => void;
  signal?: AbortSignal;
  /** Add a thumbnail strip (test image `index`, default 0, clean and per cell) to the record. */
  thumbnails?: boolean | { index?: number };
}

interface Plan {
  corruptions: string[];
  severities: number[];
  n: number;
  batch: number;
  source: TestChunks;
}

function validate(opts: EvaluateRobustnessOptions): Plan {
  const corruptions = [...(opts.corruptions ?? CORRUPTIONS)];
  for (const c of corruptions) assertCorruptionName(c);
  const severities = [...(opts.severities ?? [1, 2, 3, 4, 5])];
  for (const s of severities) assertSeverity(s);
  const { height: h, width: w, channels: c } = opts;
  if (c !== 1 && c !== 3) throw new Error(`channels must be 1 or 3 (got ${c})`);
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) throw new Error(`image size must be positive integers (got ${h}×${w})`);
  const size = h * w * c;
  const batch = opts.batchSize ?? 100;
  if (!Number.isInteger(batch) || batch <= 0) throw new Error(`batchSize must be a positive integer (got ${batch})`);
  let source: TestChunks;
  if (opts.chunks) {
    if (opts.images || opts.labels) throw new Error('give the test images either whole (images + labels) or as chunks, not both');
    const { count, chunk } = opts.chunks;
    if (!Number.isInteger(count) || count < 0) throw new Error(`chunks.count must be a whole number of images (got ${count})`);
    if (!Number.isInteger(chunk) || chunk <= 0) throw new Error(`chunks.chunk must be a positive number of images (got ${chunk})`);
    source = opts.chunks;
  } else {
    const { images, labels } = opts;
    if (!images || !labels) throw new Error('give the test images: images + labels, or chunks');
    if (images.length % size !== 0) throw new Error(`images hold ${images.length} values, not a whole number of ${h}×${w}×${c} images`);
    const total = images.length / size;
    if (labels.length !== total) throw new Error(`${total} test images but ${labels.length} labels`);
    // Already in memory: one chunk, read as views.
    source = {
      count: total,
      chunk: Math.max(1, total),
      read: async (start, count) => ({
        labels: labels.subarray(start, start + count),
        images: (offset, k) => images.subarray((start + offset) * size, (start + offset + k) * size),
      }),
    };
  }
  const n = Math.min(source.count, opts.limit ?? source.count);
  if (n <= 0) throw new Error('the test set is empty; nothing to evaluate');
  if (opts.npyDir !== undefined && (h !== 32 || w !== 32 || c !== 3)) {
    throw new Error(`released CIFAR-10-C files hold 32×32×3 images, but the model takes ${h}×${w}×${c}; evaluate in memory instead (leave the CIFAR-10-C folder unset)`);
  }
  return { corruptions, severities, n, batch, source };
}

/**
 * Images per chunk: whole batches, so that every batch the model sees starts where it would if the
 * split were one chunk (a model's output may depend on what it is batched with, in the last bit).
 */
function chunkImages(chunk: number, batch: number, n: number): number {
  if (chunk >= n) return n;
  return Math.min(n, Math.max(batch, Math.floor(chunk / batch) * batch));
}

/** Correct predictions among images `0 … count − 1` of a range, asked batch by batch. */
async function correctIn(
  predictRange: (offset: number, count: number) => Promise<Int32Array>,
  labels: Int32Array,
  count: number,
  batch: number,
  signal?: AbortSignal,
): Promise<number> {
  let correct = 0;
  for (let offset = 0; offset < count; offset += batch) {
    if (signal?.aborted) throw new Error('robustness evaluation was cancelled');
    const k = Math.min(batch, count - offset);
    const pred = await predictRange(offset, k);
    if (pred.length < k) throw new Error(`predict returned ${pred.length} classes for a batch of ${k}`);
    for (let i = 0; i < k; i++) if (pred[i] === labels[offset + i]) correct++;
  }
  return correct;
}

export async function evaluateRobustness(opts: EvaluateRobustnessOptions): Promise<RobustnessRecord> {
  const { corruptions, severities, n, batch, source } = validate(opts);
  const { height: h, width: w, channels: c } = opts;
  const size = h * w * c;
  const seed = opts.seed ?? 0;
  let released: Cifar10C | undefined;
  if (opts.npyDir !== undefined) released = openCifar10C(opts.npyDir, corruptions);
  try {
    const nc = released ? Math.min(n, released.perSeverity) : n;
    const chunk = chunkImages(source.chunk, batch, n);
    const chunks = Math.ceil(n / chunk);
    const cells = 1 + corruptions.length * severities.length + (opts.pgd ? 1 : 0);
    const total = chunks * cells;
    let done = 0;
    const step = (label: string, start: number, count: number): void =>
      opts.onProgress?.(++done, total, chunks === 1 ? label : `${label} (images ${start + 1}–${start + count} of ${n})`);
    const thumbIndex = Math.min(n - 1, Math.max(0, (typeof opts.thumbnails === 'object' ? opts.thumbnails.index : undefined) ?? 0));
    let thumbImage: Float32Array | undefined;

    const read = (k: number): Promise<TestChunk> => {
      const start = k * chunk;
      const count = Math.min(chunk, n - start);
      return source.read(start, count).then((got) => {
        if (got.labels.length !== count) throw new Error(`the test images ${start + 1}–${start + count} came with ${got.labels.length} labels`);
        return got;
      });
    };
    let cleanCorrect = 0;
    const cellCorrect = new Map<string, number>();
    const cellKey = (name: string, s: number): string => `${name}/${s}`;
    let pgdCorrect = 0;

    opts.onProgress?.(0, total, 'clean');
    // One chunk is decoded ahead while the current one is evaluated: two held at most.
    let next: Promise<TestChunk> | undefined = read(0);
    for (let k = 0; k < chunks; k++) {
      const cur: TestChunk = await next!;
      next = k + 1 < chunks ? read(k + 1) : undefined;
      // Awaited (and thrown) in the next round; a failure in this one must not leave it unhandled.
      next?.catch(() => undefined);
      const start = k * chunk;
      const count = Math.min(chunk, n - start);
      const clean = (offset: number, m: number): Float32Array => {
        const x = cur.images(offset, m);
        if (x.length !== m * size) throw new Error(`test image ${start + offset + 1} came as ${x.length / m} values, expected ${h}×${w}×${c}`);
        return x;
      };
      if (opts.thumbnails && thumbIndex >= start && thumbIndex < start + count) thumbImage = clean(thumbIndex - start, 1).slice();

      cleanCorrect += await correctIn((o, m) => opts.predict(clean(o, m), m), cur.labels, count, batch, opts.signal);
      step('clean', start, count);

      for (const name of corruptions) {
        for (const s of severities) {
          let correct: number;
          if (released) {
            const r = released;
            const m = Math.max(0, Math.min(count, nc - start));
            correct = await correctIn((o, b) => opts.predict(r.load(name, s, start + o, b), b), r.labels.subarray(start, start + m), m, batch, opts.signal);
          } else {
            const get = (o: number, m: number): Float32Array => corruptBatch(name, s, clean(o, m), m, h, w, c, seed, start + o);
            correct = await correctIn((o, m) => opts.predict(get(o, m), m), cur.labels, count, batch, opts.signal);
          }
          cellCorrect.set(cellKey(name, s), (cellCorrect.get(cellKey(name, s)) ?? 0) + correct);
          step(`${name} ${s}`, start, count);
        }
      }

      if (opts.pgd) {
        const pgd = opts.pgd;
        pgdCorrect += await correctIn((o, m) => pgd(clean(o, m), cur.labels.subarray(o, o + m), m), cur.labels, count, batch, opts.signal);
        step('pgd', start, count);
      }
    }

    const cleanAcc = cleanCorrect / n;
    const errors: ErrorTable = {};
    const corruptionRecords: RobustnessRecord['corruptions'] = {};
    for (const name of corruptions) {
      assertCorruptionName(name);
      const row: SeverityErrors = [null, null, null, null, null];
      for (const s of severities) row[s - 1] = 1 - (cellCorrect.get(cellKey(name, s)) ?? 0) / nc;
      errors[name] = row;
      corruptionRecords[name] = { family: familyOf(name), errors: row };
    }

    const record: RobustnessRecord = {
      schema: ROBUSTNESS_SCHEMA,
      createdAt: new Date().toISOString(),
      source: released ? 'cifar10-c-npy' : 'in-memory',
      images: released ? nc : n,
      seed,
      clean: { accuracy: cleanAcc, error: 1 - cleanAcc },
      corruptions: corruptionRecords,
      summary: summarize(errors, 1 - cleanAcc, opts.baselineErrors),
    };
    if (opts.run) record.run = opts.run;
    if (opts.thumbnails && thumbImage) {
      const index = thumbIndex;
      if (released) {
        // The released files' own corrupted copies of the image (32×32×3, no upscaling needed).
        const r = released;
        const thumbs = [{ corruption: 'clean', severity: 0, src: pngDataUri(thumbImage, h, w, c, defaultScale(h, w)) }];
        for (const name of corruptions) for (const s of severities) thumbs.push({ corruption: name, severity: s, src: pngDataUri(r.load(name, s, index, 1), h, w, c, defaultScale(h, w)) });
        let total = 0;
        record.thumbnails = thumbs.filter((t, i) => (total += t.src.length) <= THUMBNAIL_BUDGET_CHARS || i === 0);
      } else {
        record.thumbnails = thumbnailStrip({ image: thumbImage, height: h, width: w, channels: c, corruptions, severities, seed, index });
      }
    }
    if (opts.pgd) record.pgd = { steps: opts.pgdSettings?.steps ?? 0, epsilon: opts.pgdSettings?.epsilon ?? 0, accuracy: pgdCorrect / n };
    return record;

  } finally {
    released?.close();
  }
}

/**
 * Writes robustness.json so a reader never sees half a file, through the run folder's atomic writer
 * (temp file, all bytes even on short writes, fsync, rename; on failure the temp file goes and the
 * old file stays). A failed write throws a FileWriteError naming the file.
 */
export async function writeRobustnessFile(runDir: string, record: RobustnessRecord): Promise<string> {
  mkdirForWrite(runDir);
  const target = join(runDir, ROBUSTNESS_FILE);
  writeFileAtomic(target, JSON.stringify(record, null, 2) + '\n');
  return target;
}
