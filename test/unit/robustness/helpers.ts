// Shared fixtures: a synthetic scene with smooth colour regions, edges and texture, so every
// corruption (blurs, noise, colour, JPEG) has something to change.

import { Rng } from '../../../src/engine/util/rng';
import type { Image } from '../../../src/engine/robustness/image';

/** `stripes` adds a fine texture band at the bottom; turn it off for a scene with no detail finer than ~5 px. */
export function testImage(h: number, w: number, channels: 1 | 3, seed = 7, stripes = true): Image {
  const rng = new Rng(seed);
  const data = new Float32Array(h * w * channels);
  const phase = [rng.next() * 6, rng.next() * 6, rng.next() * 6];
  const cy = h * (0.3 + 0.4 * rng.next());
  const cx = w * (0.3 + 0.4 * rng.next());
  const r = Math.min(h, w) * 0.25;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inDisk = (y - cy) ** 2 + (x - cx) ** 2 < r * r;
      for (let c = 0; c < channels; c++) {
        let v = 0.45 + 0.25 * Math.sin((x / w) * 5 + phase[c]) * Math.cos((y / h) * 4 + phase[(c + 1) % 3]);
        if (inDisk) v = c === 0 ? 0.85 : c === 1 ? 0.3 : 0.2;
        if (stripes && y > h * 0.75) v += 0.1 * Math.sin(x * 1.3 + c);
        data[(y * w + x) * channels + c] = Math.min(0.95, Math.max(0.05, v));
      }
    }
  }
  return { data, height: h, width: w, channels };
}

export function psnr(a: Float32Array, b: Float32Array): number {
  let mse = 0;
  for (let i = 0; i < a.length; i++) mse += (a[i] - b[i]) ** 2;
  mse /= a.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
