// Digital family: contrast, elastic transform, pixelate, JPEG, and the extra saturate.

import type { Rng } from '../util/rng';
import { bilinear, clip01, gaussianFilter, hsvToRgb, makeImage, rgbToHsv, viaRgb, type Image } from './image';
import { jpegRoundTripU8 } from './jpeg';
import type { SeverityTable } from './params';

export function contrast(img: Image, s: number, p: SeverityTable): Image {
  const k = p.contrast[s - 1];
  const { height: h, width: w, channels: c } = img;
  const means = new Float64Array(c);
  for (let i = 0; i < img.data.length; i++) means[i % c] += img.data[i];
  for (let ch = 0; ch < c; ch++) means[ch] /= h * w;
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (img.data[i] - means[i % c]) * k + means[i % c];
  return makeImage(h, w, c, clip01(out));
}

export function saturate(img: Image, s: number, p: SeverityTable): Image {
  const [mult, add] = p.saturate[s - 1];
  return viaRgb(img, (rgb) => {
    const d = new Float32Array(rgb.data);
    rgbToHsv(d);
    for (let i = 1; i < d.length; i += 3) d[i] = Math.min(1, Math.max(0, d[i] * mult + add));
    hsvToRgb(d);
    return makeImage(rgb.height, rgb.width, 3, clip01(d));
  });
}

/**
 * PIL's BOX resampling along one axis (Image.resize(..., BOX)): output pixel j averages the input
 * pixels whose centres lie in (centre − support, centre + support]; enlarging picks one pixel.
 */
function boxTaps(n: number, m: number): number[][] {
  const scale = n / m;
  const filterScale = Math.max(scale, 1);
  const support = 0.5 * filterScale;
  const taps: number[][] = [];
  for (let j = 0; j < m; j++) {
    const center = (j + 0.5) * scale;
    const lo = Math.max(Math.floor(center - support + 0.5), 0);
    const hi = Math.min(Math.floor(center + support + 0.5), n);
    const t: number[] = [];
    for (let k = lo; k < hi; k++) {
      const x = (k - center + 0.5) / filterScale;
      if (x > -0.5 && x <= 0.5) t.push(k);
    }
    if (t.length === 0) t.push(Math.min(n - 1, Math.floor(center)));
    taps.push(t);
  }
  return taps;
}

/**
 * PIL's Image.resize(..., BOX) of an 8-bit image, one axis at a time (horizontal, then vertical)
 * and each pass rounded back to 8 bits in PIL's fixed point (22 fraction bits, half up), as the
 * reference's two resizes of a PIL image do.
 */
export function resizeBox(src: Float32Array, h: number, w: number, c: number, nh: number, nw: number): Float32Array {
  const PREC = 2 ** 22;
  const pass = (data: Float64Array, n: number, m: number, stride: number, count: number, taps: number[][]): Float64Array => {
    // data holds `count` lines of n samples along the axis, `stride` apart; returns m samples per line.
    const out = new Float64Array((data.length / n) * m);
    const flat = taps.map((t) => Int32Array.from(t, (k) => k * stride));
    const weight = taps.map((t) => Math.floor(0.5 + PREC / t.length));
    for (let line = 0; line < count; line++) {
      const outer = Math.floor(line / stride) * stride, inner = line % stride;
      const base = outer * n + inner;
      const obase = outer * m + inner;
      for (let j = 0; j < m; j++) {
        const t = flat[j];
        let acc = 0;
        for (let q = 0; q < t.length; q++) acc += data[base + t[q]];
        // Every tap of a BOX filter has the same weight, so one multiply does.
        out[obase + j * stride] = Math.min(255, Math.max(0, Math.floor((acc * weight[j] + PREC / 2) / PREC)));
      }
    }
    return out;
  };
  let px: Float64Array = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, src[i])) * 255);
  if (nw !== w) px = pass(px, w, nw, c, h * c, boxTaps(w, nw));
  if (nh !== h) px = pass(px, h, nh, nw * c, nw * c, boxTaps(h, nh));
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) out[i] = px[i] / 255;
  return out;
}

export function pixelate(img: Image, s: number, p: SeverityTable): Image {
  const k = p.pixelate[s - 1];
  const { height: h, width: w, channels: c } = img;
  const nh = Math.max(1, Math.floor(h * k));
  const nw = Math.max(1, Math.floor(w * k));
  const small = resizeBox(img.data, h, w, c, nh, nw);
  return makeImage(h, w, c, clip01(resizeBox(small, nh, nw, c, h, w)));
}

/**
 * JPEG round trip as the reference's PIL save / open does it (see jpeg.ts): 4:2:0 chroma, quality
 * tables and libjpeg-turbo's integer transforms, so pixels match the released CIFAR-10-C files.
 * Grey images are coded as one component, as PIL codes an "L" image.
 */
export function jpegRoundTrip(images: readonly Image[], quality: number): Image[] {
  return images.map((img) => {
    const { height: h, width: w, channels: c } = img;
    const px = new Uint8Array(img.data.length);
    for (let i = 0; i < px.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, img.data[i])) * 255);
    const back = jpegRoundTripU8(px, w, h, c, quality);
    return makeImage(h, w, c, Float32Array.from(back, (v) => v / 255));
  });
}

export function jpegCompression(img: Image, s: number, p: SeverityTable): Image {
  return jpegRoundTrip([img], p.jpeg_compression[s - 1])[0];
}

/** Solve the 2×3 affine M with M·[p;1] = q for three point pairs (cv2.getAffineTransform). */
export function affineFrom3(src: number[][], dst: number[][]): number[] {
  // Rows: [x y 1] · [a b c]ᵀ = x', and the same for y'. Cramer's rule on the 3×3 system.
  const [[x0, y0], [x1, y1], [x2, y2]] = src;
  const det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
  if (Math.abs(det) < 1e-12) throw new Error('affine points are collinear');
  const solve = (r0: number, r1: number, r2: number): [number, number, number] => [
    (r0 * (y1 - y2) - y0 * (r1 - r2) + (r1 * y2 - r2 * y1)) / det,
    (x0 * (r1 - r2) - r0 * (x1 - x2) + (x1 * r2 - x2 * r1)) / det,
    (x0 * (y1 * r2 - y2 * r1) - y0 * (x1 * r2 - x2 * r1) + r0 * (x1 * y2 - x2 * y1)) / det,
  ];
  return [...solve(dst[0][0], dst[1][0], dst[2][0]), ...solve(dst[0][1], dst[1][1], dst[2][1])];
}

export function elasticTransform(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const side = Math.min(img.height, img.width) * p.elasticScale;
  const [alpha, sigma, affine] = p.elastic_transform[s - 1].map((v) => v * side);
  return elasticWarp(img, alpha, sigma, affine, rng);
}

/** Random affine jitter of ±`affine` px, then a smooth displacement field (σ `sigma` px) scaled by `alpha`. */
export function elasticWarp(img: Image, alpha: number, sigma: number, affine: number, rng: Rng): Image {
  const { height: h, width: w, channels: c } = img;

  // Random affine: jitter three points around the centre (float32, as the reference's points are)
  // and warp as cv2.warpAffine does: sample positions rounded to 1/32 px in its fixed point
  // (AB_BITS 10, INTER_BITS 5), bilinear weights for that grid, REFLECT_101 borders.
  const cx = Math.floor(w / 2);
  const cy = Math.floor(h / 2);
  const sq = Math.floor(Math.min(h, w) / 3);
  const pts1 = [[cx + sq, cy + sq], [cx + sq, cy - sq], [cx - sq, cy - sq]];
  const pts2 = pts1.map(([x, y]) => [Math.fround(x + Math.fround(rng.uniform(-affine, affine))), Math.fround(y + Math.fround(rng.uniform(-affine, affine)))]);
  const [a, b, tx, d, e, ty] = affineFrom3(pts1, pts2);
  // cv2.invertAffineTransform
  const det = a * e - b * d;
  const D = det !== 0 ? 1 / det : 0;
  const ia = e * D, ib = -b * D, id = -d * D, ie = a * D;
  const itx = -ia * tx - ib * ty, ity = -id * tx - ie * ty;
  const warped = new Float32Array(img.data.length);
  const cvRound = (v: number): number => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r; // lrint: ties to even
  };
  for (let y = 0; y < h; y++) {
    const X0 = cvRound((ib * y + itx) * 1024) + 16;
    const Y0 = cvRound((ie * y + ity) * 1024) + 16;
    for (let x = 0; x < w; x++) {
      const X = (X0 + cvRound(ia * x * 1024)) >> 5;
      const Y = (Y0 + cvRound(id * x * 1024)) >> 5;
      const sx = (X >> 5) + (X & 31) / 32;
      const sy = (Y >> 5) + (Y & 31) / 32;
      for (let ch = 0; ch < c; ch++) warped[(y * w + x) * c + ch] = bilinear(img.data, h, w, c, ch, sy, sx, 'reflect101');
    }
  }

  // Smooth random displacement field.
  const field = (): Float32Array => {
    const f = new Float32Array(h * w);
    for (let i = 0; i < f.length; i++) f[i] = rng.uniform(-1, 1);
    const g = gaussianFilter(f, h, w, 1, sigma, 'reflect', 3);
    for (let i = 0; i < g.length; i++) g[i] *= alpha;
    return g;
  };
  const dx = field();
  const dy = field();
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      for (let ch = 0; ch < c; ch++) out[i * c + ch] = bilinear(warped, h, w, c, ch, y + dy[i], x + dx[i], 'reflect');
    }
  }
  return makeImage(h, w, c, clip01(out));
}
