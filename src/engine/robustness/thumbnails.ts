// Thumbnail strip for robustness.json: one test image, clean and under each evaluated corruption ×
// severity, as small PNG data URIs the Robustness panel shows under "Samples". Small images are
// upscaled (nearest neighbour) so a 28 px digit is visible; the whole strip stays within a budget
// so the record remains a small file.

import { PNG } from 'pngjs';
import type { RobustnessThumbnail } from '../../shared/robustness';
import { corruptBatch } from './index';

/** Upscale until the longer side reaches this many pixels (28 -> 56; 32 -> 32). */
export const THUMBNAIL_TARGET_PX = 56;
/** Total data-URI characters the strip may take before it falls back to native size. */
export const THUMBNAIL_BUDGET_CHARS = 280_000;

export interface ThumbnailOptions {
  /** One image, HWC, values in [0, 1] (more values are ignored). */
  image: Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
  corruptions: readonly string[];
  severities: readonly number[];
  /** The evaluation's seed and the image's index in the test set, so the noise matches what was scored. */
  seed: number;
  index?: number;
  /** Integer nearest-neighbour scale; default: reach THUMBNAIL_TARGET_PX. */
  scale?: number;
  budgetChars?: number;
}

export function defaultScale(height: number, width: number): number {
  return Math.max(1, Math.floor(THUMBNAIL_TARGET_PX / Math.max(height, width)));
}

/** One HWC [0, 1] image as a PNG data URI (grey for 1 channel, RGB for 3), upscaled by `scale`. */
export function pngDataUri(image: Float32Array, height: number, width: number, channels: 1 | 3, scale = 1): string {
  const s = Math.max(1, Math.floor(scale));
  const W = width * s;
  const H = height * s;
  const png = new PNG({ width: W, height: H });
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / s);
    for (let x = 0; x < W; x++) {
      const src = (sy * width + Math.floor(x / s)) * channels;
      const o = (y * W + x) * 4;
      for (let k = 0; k < 3; k++) {
        const v = image[src + (channels === 3 ? k : 0)];
        png.data[o + k] = Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
      }
      png.data[o + 3] = 255;
    }
  }
  const buf = PNG.sync.write(png, { colorType: channels === 3 ? 2 : 0, inputColorType: 6, inputHasAlpha: true, deflateLevel: 9 });
  return `data:image/png;base64,${buf.toString('base64')}`;
}

function strip(o: ThumbnailOptions, scale: number): RobustnessThumbnail[] {
  const { height: h, width: w, channels: c } = o;
  const size = h * w * c;
  if (o.image.length < size) throw new Error(`thumbnail image holds ${o.image.length} values, expected ${h}×${w}×${c} = ${size}`);
  const img = o.image.subarray(0, size);
  const out: RobustnessThumbnail[] = [{ corruption: 'clean', severity: 0, src: pngDataUri(img, h, w, c, scale) }];
  for (const name of o.corruptions) {
    for (const sev of o.severities) {
      const bad = corruptBatch(name, sev, img, 1, h, w, c, o.seed, o.index ?? 0);
      out.push({ corruption: name, severity: sev, src: pngDataUri(bad, h, w, c, scale) });
    }
  }
  return out;
}

const chars = (t: readonly RobustnessThumbnail[]): number => t.reduce((a, x) => a + x.src.length, 0);

/**
 * The clean image first (corruption "clean", severity 0), then one per (corruption, severity) in
 * the order given. Over budget at the upscaled size it retries at native size; still over, it
 * keeps the clean image and as many cells as fit (the panel shows what is there).
 */
export function thumbnailStrip(o: ThumbnailOptions): RobustnessThumbnail[] {
  const budget = o.budgetChars ?? THUMBNAIL_BUDGET_CHARS;
  const scale = o.scale ?? defaultScale(o.height, o.width);
  let t = strip(o, scale);
  if (chars(t) > budget && scale > 1) t = strip(o, 1);
  if (chars(t) <= budget) return t;
  const kept: RobustnessThumbnail[] = [];
  let total = 0;
  for (const x of t) {
    if (kept.length > 0 && total + x.src.length > budget) break;
    kept.push(x);
    total += x.src.length;
  }
  return kept;
}
