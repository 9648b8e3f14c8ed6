// Noise family: gaussian, shot (Poisson), impulse (salt & pepper), speckle. Per-element noise,
// so grey and colour images are handled alike.

import type { Rng } from '../util/rng';
import { clip01, makeImage, type Image } from './image';
import type { SeverityTable } from './params';

export function gaussianNoise(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const sigma = p.gaussian_noise[s - 1];
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] + rng.normal(0, sigma);
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

export function shotNoise(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const lam = p.shot_noise[s - 1];
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = poisson(Math.max(0, img.data[i]) * lam, rng) / lam;
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

export function impulseNoise(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const amount = p.impulse_noise[s - 1];
  const out = new Float32Array(img.data);
  // skimage 's&p': each element independently flipped with probability `amount`, half to 1, half to 0.
  for (let i = 0; i < out.length; i++) if (rng.next() < amount) out[i] = rng.next() < 0.5 ? 1 : 0;
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

export function speckleNoise(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const sigma = p.speckle_noise[s - 1];
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] * (1 + rng.normal(0, sigma));
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

/** Poisson sample: Knuth for small λ, Hörmann's PTRS (what numpy uses) for λ ≥ 10. */
export function poisson(lam: number, rng: Rng): number {
  if (lam <= 0) return 0;
  if (lam < 10) {
    const limit = Math.exp(-lam);
    let k = 0;
    let prod = rng.next();
    while (prod > limit) {
      k++;
      prod *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - logGamma(k + 1)) return k;
  }
}

const LANCZOS = [676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let acc = 0.99999999999980993;
  for (let i = 0; i < LANCZOS.length; i++) acc += LANCZOS[i] / (z + i + 1);
  const t = z + LANCZOS.length - 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(acc);
}
