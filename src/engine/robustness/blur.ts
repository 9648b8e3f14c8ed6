// Blur family: defocus (anti-aliased disk), glass (blur, local pixel shuffle, blur), motion
// (one-sided line at a random angle), zoom (mean of centre zooms), gaussian.

import type { Rng } from '../util/rng';
import { clip01, clippedZoom, cvGaussianKernel, filter2D, gaussianFilter, makeImage, gaussianFilterScipy, motionBlur as lineBlur, quantizeMagick8, type Image } from './image';
import { zoomFactors, type SeverityTable } from './params';

/** Hendrycks' disk(): a hard disk on a 17×17 (or wider) grid, softened by a tiny Gaussian. */
export function diskKernel(radius: number, aliasBlur: number): { kernel: Float32Array; size: number } {
  const half = radius <= 8 ? 8 : Math.ceil(radius);
  const size = 2 * half + 1;
  const disk = new Float32Array(size * size);
  let sum = 0;
  for (let y = -half; y <= half; y++) for (let x = -half; x <= half; x++) if (x * x + y * y <= radius * radius) sum += disk[(y + half) * size + x + half] = 1;
  for (let i = 0; i < disk.length; i++) disk[i] /= sum;
  const g = cvGaussianKernel(radius <= 8 ? 3 : 5, aliasBlur);
  const blurred = filter2D(disk, size, size, 1, outer(g), g.length, g.length, 'reflect101');
  // Trim the all-zero border so the image filter does not pay for empty taps.
  let extent = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (blurred[y * size + x] > 1e-12) extent = Math.max(extent, Math.abs(y - half), Math.abs(x - half));
  const tsize = 2 * extent + 1;
  const kernel = new Float32Array(tsize * tsize);
  for (let y = 0; y < tsize; y++) for (let x = 0; x < tsize; x++) kernel[y * tsize + x] = blurred[(y + half - extent) * size + x + half - extent];
  return { kernel, size: tsize };
}

function outer(v: Float32Array): Float32Array {
  const m = new Float32Array(v.length * v.length);
  for (let i = 0; i < v.length; i++) for (let j = 0; j < v.length; j++) m[i * v.length + j] = v[i] * v[j];
  return m;
}

export function defocusBlur(img: Image, s: number, p: SeverityTable): Image {
  const [radius, alias] = p.defocus_blur[s - 1];
  const { kernel, size } = diskKernel(radius, alias);
  const out = filter2D(img.data, img.height, img.width, img.channels, kernel, size, size, 'reflect101');
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

/**
 * Glass blur's local shuffle, as the code that generated CIFAR-10-C and ImageNet-C runs it:
 * `x[h, w], x[h', w'] = x[h', w'], x[h, w]` on numpy rows is not a swap. The right side is two
 * views; the first assignment copies x[h', w'] into x[h, w], and the second then copies x[h, w]
 * (already overwritten) back onto x[h', w']. So each step only copies the neighbour's pixel, and
 * pixels get duplicated rather than moved. We match that on purpose, so that images corrupted in
 * memory equal the released files; a real swap blurs a little less (no value is lost).
 */
export function glassShuffle(x: Float32Array, h: number, w: number, c: number, delta: number, iterations: number, rng: Rng): void {
  for (let it = 0; it < iterations; it++) {
    for (let yy = h - delta; yy > delta; yy--) {
      for (let xx = w - delta; xx > delta; xx--) {
        // numpy randint(-d, d, size=(2,)): dx then dy, each in [-d, d-1].
        const dx = rng.int(2 * delta) - delta;
        const dy = rng.int(2 * delta) - delta;
        const a = (yy * w + xx) * c;
        const b = ((yy + dy) * w + xx + dx) * c;
        for (let ch = 0; ch < c; ch++) x[a + ch] = x[b + ch];
      }
    }
  }
}

export function glassBlur(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [sigma, delta, iterations] = p.glass_blur[s - 1];
  const { height: h, width: w, channels: c } = img;
  // The reference blurs the 8-bit image in float64 and truncates back to 8 bits; pixels on a
  // level (flat areas) make that truncation hinge on the last bit, so it is done as scipy does.
  const levels = new Float64Array(img.data.length);
  for (let i = 0; i < levels.length; i++) {
    const v = img.data[i];
    const l = Math.round(v * 255);
    levels[i] = Math.abs(v * 255 - l) < 1e-4 ? l / 255 : v;
  }
  const blurred = gaussianFilterScipy(levels, h, w, c, sigma);
  const x = new Float32Array(blurred.length);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(Math.min(1, Math.max(0, blurred[i])) * 255) / 255;
  glassShuffle(x, h, w, c, delta, iterations, rng);
  return makeImage(h, w, c, clip01(gaussianFilter(x, h, w, c, sigma)));
}

export function motionBlur(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [radius, sigma] = p.motion_blur[s - 1];
  const angle = rng.uniform(-45, 45);
  return makeImage(img.height, img.width, img.channels, quantizeMagick8(lineBlur(img.data, img.height, img.width, img.channels, radius, sigma, angle)));
}

export function zoomBlur(img: Image, s: number, p: SeverityTable): Image {
  const [stop, step] = p.zoom_blur[s - 1];
  const factors = zoomFactors(stop, step);
  const { height: h, width: w, channels: c } = img;
  const acc = new Float32Array(img.data);
  for (const z of factors) {
    const zoomed = clippedZoom(img.data, h, w, c, z);
    for (let i = 0; i < acc.length; i++) acc[i] += zoomed[i];
  }
  for (let i = 0; i < acc.length; i++) acc[i] /= factors.length + 1;
  return makeImage(h, w, c, clip01(acc));
}

export function gaussianBlur(img: Image, s: number, p: SeverityTable): Image {
  return makeImage(img.height, img.width, img.channels, clip01(gaussianFilter(img.data, img.height, img.width, img.channels, p.gaussian_blur[s - 1])));
}
