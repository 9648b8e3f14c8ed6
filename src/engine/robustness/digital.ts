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

export function resizeBox(src: Float32Array, h: number, w: number, c: number, nh: number, nw: number): Float32Array {
  const ty = boxTaps(h, nh);
  const tx = boxTaps(w, nw);
  const out = new Float32Array(nh * nw * c);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (const yy of ty[y]) for (const xx of tx[x]) sum += src[(yy * w + xx) * c + ch];
        out[(y * nw + x) * c + ch] = sum / (ty[y].length * tx[x].length);
      }
    }
  }
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

  // Random affine: jitter three points around the centre, warp with the inverse map (as warpAffine does).
  const cx = Math.floor(w / 2);
  const cy = Math.floor(h / 2);
  const sq = Math.floor(Math.min(h, w) / 3);
  const pts1 = [[cx + sq, cy + sq], [cx + sq, cy - sq], [cx - sq, cy - sq]];
  const pts2 = pts1.map(([x, y]) => [x + rng.uniform(-affine, affine), y + rng.uniform(-affine, affine)]);
  const [a, b, tx, d, e, ty] = affineFrom3(pts1, pts2);
  const det = a * e - b * d;
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  const warped = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = ia * (x - tx) + ib * (y - ty);
      const sy = id * (x - tx) + ie * (y - ty);
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
