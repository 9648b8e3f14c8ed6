// Corruption suite entry points. Every corruption takes an HWC image in [0, 1] (grey or RGB),
// returns a new image of the same shape clipped to [0, 1], and draws randomness only from the
// Rng it is given, so a (seed, image index) pair always gives the same corrupted image.

import { Rng } from '../util/rng';
import {
  ALL_CORRUPTIONS, CORRUPTION_FAMILIES, CORRUPTIONS, EXTRA_CORRUPTIONS, familyOf, isCorruptionName,
  type CorruptionFamily, type CorruptionName,
} from '../../shared/robustness';
import { defocusBlur, gaussianBlur, glassBlur, motionBlur, zoomBlur } from './blur';
import { contrast, elasticTransform, jpegCompression, jpegRoundTrip, pixelate, saturate } from './digital';
import type { Image } from './image';
import { gaussianNoise, impulseNoise, shotNoise, speckleNoise } from './noise';
import { paramsFor, type SeverityTable } from './params';
import { brightness, fog, frost, snow, spatter } from './weather';

export { ALL_CORRUPTIONS, CORRUPTION_FAMILIES, CORRUPTIONS, EXTRA_CORRUPTIONS, familyOf, isCorruptionName };
export type { CorruptionFamily, CorruptionName, Image };

type Fn = (img: Image, severity: number, p: SeverityTable, rng: Rng) => Image;

const TABLE: Record<CorruptionName, Fn> = {
  gaussian_noise: gaussianNoise,
  shot_noise: shotNoise,
  impulse_noise: impulseNoise,
  speckle_noise: speckleNoise,
  defocus_blur: defocusBlur,
  glass_blur: glassBlur,
  motion_blur: motionBlur,
  zoom_blur: zoomBlur,
  gaussian_blur: gaussianBlur,
  snow,
  frost,
  fog,
  brightness,
  spatter,
  contrast,
  elastic_transform: elasticTransform,
  pixelate,
  jpeg_compression: jpegCompression,
  saturate,
};

/** Corruptions whose output does not depend on the rng. */
export const DETERMINISTIC_CORRUPTIONS: readonly CorruptionName[] = [
  'defocus_blur', 'zoom_blur', 'gaussian_blur', 'brightness', 'contrast', 'pixelate', 'jpeg_compression', 'saturate',
];

export function assertCorruptionName(name: string): asserts name is CorruptionName {
  if (!isCorruptionName(name)) throw new Error(`unknown corruption "${name}"; valid names: ${ALL_CORRUPTIONS.join(', ')}`);
}

export function assertSeverity(severity: number): void {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new Error(`corruption severity must be an integer from 1 to 5 (got ${severity})`);
}

function assertImage(img: Image): void {
  const { height: h, width: w, channels: c, data } = img;
  if (!(Number.isInteger(h) && h > 0 && Number.isInteger(w) && w > 0)) throw new Error(`image size must be positive integers (got ${h}×${w})`);
  if (c !== 1 && c !== 3) throw new Error(`image channels must be 1 or 3 (got ${c})`);
  if (data.length !== h * w * c) throw new Error(`image data has ${data.length} values, expected ${h}×${w}×${c} = ${h * w * c}`);
}

export function corrupt(name: string, severity: number, image: Image, rng: Rng): Image {
  assertCorruptionName(name);
  assertSeverity(severity);
  assertImage(image);
  return TABLE[name](image, severity, paramsFor(image.height, image.width), rng);
}

/**
 * Corrupt n HWC images stored back to back. Image i draws from Rng.derive(seed, name/severity/i+indexOffset),
 * so the result for one image does not depend on how the set was cut into batches.
 */
export function corruptBatch(name: string, severity: number, data: Float32Array, n: number, h: number, w: number, c: number, seed: number, indexOffset = 0): Float32Array {
  assertCorruptionName(name);
  assertSeverity(severity);
  if (c !== 1 && c !== 3) throw new Error(`image channels must be 1 or 3 (got ${c})`);
  const size = h * w * c;
  if (data.length < n * size) throw new Error(`batch holds ${data.length} values, expected ${n}×${h}×${w}×${c} = ${n * size}`);
  const out = new Float32Array(n * size);
  const p = paramsFor(h, w);
  if (name === 'jpeg_compression') {
    // Deterministic: no per-image stream to derive.
    const imgs: Image[] = [];
    for (let i = 0; i < n; i++) imgs.push({ data: data.subarray(i * size, (i + 1) * size), height: h, width: w, channels: c });
    jpegRoundTrip(imgs, p.jpeg_compression[severity - 1]).forEach((img, i) => out.set(img.data, i * size));
    return out;
  }
  for (let i = 0; i < n; i++) {
    const img: Image = { data: data.subarray(i * size, (i + 1) * size), height: h, width: w, channels: c };
    const rng = Rng.derive(seed, `${name}/${severity}/${i + indexOffset}`);
    out.set(TABLE[name](img, severity, p, rng).data, i * size);
  }
  return out;
}
