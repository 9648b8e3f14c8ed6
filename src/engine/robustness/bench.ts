// Throughput of the in-memory corruption suite (for `npm run bench`). `images` is the total
// number of corruptions applied, spread evenly over the 19 corruptions × 5 severities.

import { Rng } from '../util/rng';
import { ALL_CORRUPTIONS, corruptBatch } from './index';

export interface CorruptionBenchOptions {
  images?: number;
  size?: number;
  channels?: 1 | 3;
  seed?: number;
}

export interface CorruptionBenchResult {
  imagesPerSecond: number;
  seconds: number;
  images: number;
  size: number;
  channels: 1 | 3;
  perCorruption: Record<string, { images: number; seconds: number; imagesPerSecond: number }>;
}

export function benchCorruptions(opts: CorruptionBenchOptions = {}): CorruptionBenchResult {
  const images = opts.images ?? 2000;
  const size = opts.size ?? 32;
  const channels = opts.channels ?? 3;
  const cells = ALL_CORRUPTIONS.length * 5;
  const perCell = Math.max(1, Math.ceil(images / cells));
  // A smooth random scene: flat noise would make blurs and JPEG unrepresentatively cheap or dear.
  const rng = new Rng(opts.seed ?? 1);
  const one = size * size * channels;
  const data = new Float32Array(perCell * one);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.3 * Math.sin(i * 0.013 + rng.next()) * Math.cos((i % (size * channels)) * 0.05);
  const perCorruption: CorruptionBenchResult['perCorruption'] = {};
  let total = 0;
  let count = 0;
  for (const name of ALL_CORRUPTIONS) {
    const t0 = process.hrtime.bigint();
    for (let s = 1; s <= 5; s++) corruptBatch(name, s, data, perCell, size, size, channels, opts.seed ?? 1);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const n = perCell * 5;
    perCorruption[name] = { images: n, seconds, imagesPerSecond: seconds > 0 ? n / seconds : Infinity };
    total += seconds;
    count += n;
  }
  return { imagesPerSecond: total > 0 ? count / total : Infinity, seconds: total, images: count, size, channels, perCorruption };
}
