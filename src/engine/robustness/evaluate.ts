// Corruption-robustness evaluation: clean accuracy, then each corruption × severity (corrupted in
// memory, or read from released CIFAR-10-C files), optionally PGD accuracy; summarised into a
// robustness.json record. The model is hidden behind callbacks so this file needs no TF.js.

import { join } from 'node:path';
import { mkdirForWrite, writeFileAtomic } from '../run/atomic';
import { CORRUPTIONS, ROBUSTNESS_SCHEMA, type RobustnessRecord, type SeverityErrors } from '../../shared/robustness';
import { openCifar10C, type Cifar10C } from './cifar10c';
import { assertCorruptionName, assertSeverity, corruptBatch, familyOf } from './index';
import { summarize, type ErrorTable } from './metrics';
import { THUMBNAIL_BUDGET_CHARS, defaultScale, pngDataUri, thumbnailStrip } from './thumbnails';

export const ROBUSTNESS_FILE = 'robustness.json';

export interface EvaluateRobustnessOptions {
  /** Clean test images, HWC, values in [0, 1], back to back. */
  images: Float32Array;
  labels: Int32Array;
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

function validate(opts: EvaluateRobustnessOptions): { corruptions: string[]; severities: number[]; n: number; batch: number } {
  const corruptions = [...(opts.corruptions ?? CORRUPTIONS)];
  for (const c of corruptions) assertCorruptionName(c);
  const severities = [...(opts.severities ?? [1, 2, 3, 4, 5])];
  for (const s of severities) assertSeverity(s);
  const { height: h, width: w, channels: c } = opts;
  if (c !== 1 && c !== 3) throw new Error(`channels must be 1 or 3 (got ${c})`);
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) throw new Error(`image size must be positive integers (got ${h}×${w})`);
  const size = h * w * c;
  if (opts.images.length % size !== 0) throw new Error(`images hold ${opts.images.length} values, not a whole number of ${h}×${w}×${c} images`);
  const total = opts.images.length / size;
  if (opts.labels.length !== total) throw new Error(`${total} test images but ${opts.labels.length} labels`);
  const n = Math.min(total, opts.limit ?? total);
  if (n <= 0) throw new Error('the test set is empty; nothing to evaluate');
  const batch = opts.batchSize ?? 100;
  if (!Number.isInteger(batch) || batch <= 0) throw new Error(`batchSize must be a positive integer (got ${batch})`);
  if (opts.npyDir !== undefined && (h !== 32 || w !== 32 || c !== 3)) {
    throw new Error(`released CIFAR-10-C files hold 32×32×3 images, but the model takes ${h}×${w}×${c}; evaluate in memory instead (leave the CIFAR-10-C folder unset)`);
  }
  return { corruptions, severities, n, batch };
}

/** Fraction of the first n labels matched by `predictRange`, asked batch by batch. */
async function accuracyOf(
  predictRange: (start: number, count: number) => Promise<Int32Array>,
  labels: Int32Array,
  n: number,
  batch: number,
  signal?: AbortSignal,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < n; start += batch) {
    if (signal?.aborted) throw new Error('robustness evaluation was cancelled');
    const count = Math.min(batch, n - start);
    const pred = await predictRange(start, count);
    if (pred.length < count) throw new Error(`predict returned ${pred.length} classes for a batch of ${count}`);
    for (let i = 0; i < count; i++) if (pred[i] === labels[start + i]) correct++;
  }
  return correct / n;
}

export async function evaluateRobustness(opts: EvaluateRobustnessOptions): Promise<RobustnessRecord> {
  const { corruptions, severities, n, batch } = validate(opts);
  const { height: h, width: w, channels: c } = opts;
  const size = h * w * c;
  const seed = opts.seed ?? 0;
  let released: Cifar10C | undefined;
  if (opts.npyDir !== undefined) released = openCifar10C(opts.npyDir, corruptions);
  try {
    const nc = released ? Math.min(n, released.perSeverity) : n;
    const total = 1 + corruptions.length * severities.length + (opts.pgd ? 1 : 0);
    let done = 0;
    const step = (label: string): void => opts.onProgress?.(++done, total, label);
    const clean = (start: number, count: number): Float32Array => opts.images.subarray(start * size, (start + count) * size);

    opts.onProgress?.(0, total, 'clean');
    const cleanAcc = await accuracyOf((start, count) => opts.predict(clean(start, count), count), opts.labels, n, batch, opts.signal);
    step('clean');

    const errors: ErrorTable = {};
    const corruptionRecords: RobustnessRecord['corruptions'] = {};
    for (const name of corruptions) {
      assertCorruptionName(name);
      const row: SeverityErrors = [null, null, null, null, null];
      for (const s of severities) {
        let acc: number;
        if (released) {
          const r = released;
          acc = await accuracyOf((start, count) => opts.predict(r.load(name, s, start, count), count), r.labels, nc, batch, opts.signal);
        } else {
          const get = (start: number, count: number): Float32Array => corruptBatch(name, s, clean(start, count), count, h, w, c, seed, start);
          acc = await accuracyOf((start, count) => opts.predict(get(start, count), count), opts.labels, n, batch, opts.signal);
        }
        row[s - 1] = 1 - acc;
        step(`${name} ${s}`);
      }
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
    if (opts.thumbnails) {
      const index = Math.min(n - 1, Math.max(0, (typeof opts.thumbnails === 'object' ? opts.thumbnails.index : undefined) ?? 0));
      if (released) {
        // The released files' own corrupted copies of the image (32×32×3, no upscaling needed).
        const r = released;
        const thumbs = [{ corruption: 'clean', severity: 0, src: pngDataUri(clean(index, 1), h, w, c, defaultScale(h, w)) }];
        for (const name of corruptions) for (const s of severities) thumbs.push({ corruption: name, severity: s, src: pngDataUri(r.load(name, s, index, 1), h, w, c, defaultScale(h, w)) });
        let total = 0;
        record.thumbnails = thumbs.filter((t, i) => (total += t.src.length) <= THUMBNAIL_BUDGET_CHARS || i === 0);
      } else {
        record.thumbnails = thumbnailStrip({ image: clean(index, 1), height: h, width: w, channels: c, corruptions, severities, seed, index });
      }
    }

    if (opts.pgd) {
      const pgd = opts.pgd;
      const acc = await accuracyOf((start, count) => pgd(clean(start, count), opts.labels.subarray(start, start + count), count), opts.labels, n, batch, opts.signal);
      record.pgd = { steps: opts.pgdSettings?.steps ?? 0, epsilon: opts.pgdSettings?.epsilon ?? 0, accuracy: acc };
      step('pgd');
    }
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
