// Weather family: snow, frost (procedural texture instead of the reference photos), fog (plasma
// fractal), brightness, and the extra spatter.

import type { Rng } from '../util/rng';
import { borderIndex, clip01, clippedZoom, filter2D, gaussianFilter, hsvToRgb, makeImage, motionBlur, rgbToHsv, viaRgb, type Image } from './image';
import type { SeverityTable } from './params';

/** Diamond-square height map (Hendrycks' plasma_fractal), side `mapsize` (a power of two), in [0, 1]. */
export function plasmaFractal(mapsize: number, wibbleDecay: number, rng: Rng): Float64Array {
  if (mapsize < 2 || (mapsize & (mapsize - 1)) !== 0) throw new Error(`plasma fractal size must be a power of two ≥ 2 (got ${mapsize})`);
  const n = mapsize;
  const m = new Float64Array(n * n);
  let step = n;
  let wibble = 100;
  const at = (y: number, x: number): number => m[(((y % n) + n) % n) * n + (((x % n) + n) % n)];
  const wibbled = (v: number): number => v / 4 + wibble * rng.uniform(-wibble, wibble);
  while (step >= 2) {
    const half = step >> 1;
    for (let y = 0; y < n; y += step) {
      for (let x = 0; x < n; x += step) {
        m[(y + half) * n + x + half] = wibbled(at(y, x) + at(y + step, x) + at(y, x + step) + at(y + step, x + step));
      }
    }
    // Each new diamond point averages its two square centres and two corners, wrapping at the
    // edges. All points on the square rows are drawn before those on the centre rows, as the
    // reference fills one array and then the other, so the same draws give the same map.
    for (let y = 0; y < n; y += step) {
      for (let x = 0; x < n; x += step) m[y * n + x + half] = wibbled(at(y + half, x + half) + at(y - half, x + half) + at(y, x) + at(y, x + step));
    }
    for (let y = 0; y < n; y += step) {
      for (let x = 0; x < n; x += step) m[(y + half) * n + x] = wibbled(at(y + half, x + half) + at(y + half, x - half) + at(y, x) + at(y + step, x));
    }
    step = half;
    wibble /= wibbleDecay;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of m) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < m.length; i++) m[i] = hi > lo ? (m[i] - lo) / (hi - lo) : 0;
  return m;
}

function nextPow2(v: number): number {
  let p = 2;
  while (p < v) p *= 2;
  return p;
}

export function fog(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [amount, decay] = p.fog[s - 1];
  const { height: h, width: w, channels: c } = img;
  const size = nextPow2(Math.max(h, w));
  const plasma = plasmaFractal(size, decay, rng);
  let maxVal = 0;
  for (const v of img.data) maxVal = Math.max(maxVal, v);
  const out = new Float32Array(img.data.length);
  const scale = maxVal / (maxVal + amount);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const i = (y * w + x) * c + ch;
    out[i] = (img.data[i] + amount * plasma[y * size + x]) * scale;
  }
  return makeImage(h, w, c, clip01(out));
}

export function brightness(img: Image, s: number, p: SeverityTable): Image {
  const add = p.brightness[s - 1];
  const out = new Float32Array(img.data);
  if (img.channels === 1) {
    // For grey pixels HSV value is the pixel itself.
    for (let i = 0; i < out.length; i++) out[i] = Math.min(1, out[i] + add);
  } else {
    rgbToHsv(out);
    for (let i = 2; i < out.length; i += 3) out[i] = Math.min(1, Math.max(0, out[i] + add));
    hsvToRgb(out);
  }
  return makeImage(img.height, img.width, img.channels, clip01(out));
}

export function snow(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [loc, scale, zoom, thresh, blurRadius, blurSigma, blend] = p.snow[s - 1];
  const { height: h, width: w, channels: c } = img;
  const n = h * w;
  let layer: Float32Array = new Float32Array(n);
  for (let i = 0; i < n; i++) layer[i] = rng.normal(loc, scale);
  layer = clippedZoom(layer, h, w, 1, zoom);
  for (let i = 0; i < n; i++) {
    const v = layer[i] < thresh ? 0 : Math.min(1, Math.max(0, layer[i]));
    // The reference round-trips the layer through an 8-bit image (truncating) before blurring it.
    layer[i] = Math.floor(v * 255) / 255;
  }
  layer = motionBlur(layer, h, w, 1, blurRadius, blurSigma, rng.uniform(-135, -45));
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = y * w + x;
      const d = img.data;
      const gray = c === 3 ? 0.299 * d[3 * px] + 0.587 * d[3 * px + 1] + 0.114 * d[3 * px + 2] : d[px];
      // Snow adds the layer and its 180° rotation, so flakes fall from both corners.
      const flakes = layer[px] + layer[(h - 1 - y) * w + (w - 1 - x)];
      for (let ch = 0; ch < c; ch++) {
        const v = d[px * c + ch];
        const whitened = blend * v + (1 - blend) * Math.max(v, gray * 1.5 + 0.5);
        out[px * c + ch] = whitened + flakes;
      }
    }
  }
  return makeImage(h, w, c, clip01(out));
}

/**
 * Stand-in for the frost photographs: a faint cloudy base (plasma fractal) with branching
 * ice needles drawn on it, lightly blurred and tinted towards blue-white. Deterministic from rng.
 */
export function frostTexture(h: number, w: number, rng: Rng): Float32Array {
  const size = nextPow2(Math.max(h, w));
  const base = plasmaFractal(size, 2, rng);
  const t = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) t[y * w + x] = 0.3 + 0.3 * base[y * size + x];
  const side = Math.max(h, w);
  const seeds = Math.max(3, Math.round((h * w) / 60));
  const stroke = (y0: number, x0: number, angle: number, length: number, bright: number, depth: number): void => {
    let y = y0;
    let x = x0;
    for (let k = 0; k < length; k++) {
      angle += rng.normal(0, 0.15);
      y += Math.sin(angle);
      x += Math.cos(angle);
      const iy = Math.round(y);
      const ix = Math.round(x);
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) return;
      const i = iy * w + ix;
      t[i] = Math.max(t[i], bright * (1 - (0.5 * k) / length));
      if (depth < 2 && rng.next() < 0.12) stroke(y, x, angle + (rng.next() < 0.5 ? 1 : -1) * (Math.PI / 3), length * 0.4, bright * 0.9, depth + 1);
    }
  };
  for (let i = 0; i < seeds; i++) stroke(rng.next() * h, rng.next() * w, rng.next() * 2 * Math.PI, side * (0.1 + 0.25 * rng.next()), 0.7 + 0.3 * rng.next(), 0);
  return clip01(gaussianFilter(t, h, w, 1, Math.max(0.4, side / 200)));
}

/** Our frost "photograph": the procedural texture tinted blue-white, RGB in [0, 1]. */
export function frostLayer(h: number, w: number, rng: Rng): Float32Array {
  const tex = frostTexture(h, w, rng);
  const tint = [0.83, 0.92, 1];
  const out = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = tex[i] * tint[ch];
  return out;
}

/** The reference's blend: clip(imageWeight · x + frostWeight · frost), both on one scale. */
export function frostBlend(rgb: Image, layer: Float32Array, s: number, p: SeverityTable): Image {
  const [imgWeight, frostWeight] = p.frost[s - 1];
  const out = new Float32Array(rgb.data.length);
  for (let i = 0; i < out.length; i++) out[i] = imgWeight * rgb.data[i] + frostWeight * layer[i];
  return makeImage(rgb.height, rgb.width, 3, clip01(out));
}

export function frost(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  return viaRgb(img, (rgb) => frostBlend(rgb, frostLayer(rgb.height, rgb.width, rng), s, p));
}

/** Two-pass chamfer distance (1, √2) to the nearest marked pixel; stands in for cv2.distanceTransform. */
function distanceTo(mask: Uint8Array, h: number, w: number): Float32Array {
  const d = new Float32Array(h * w).fill(1e9);
  for (let i = 0; i < d.length; i++) if (mask[i]) d[i] = 0;
  const r2 = Math.SQRT2;
  const relax = (y: number, x: number, dy: number, dx: number, cost: number): void => {
    const yy = y + dy;
    const xx = x + dx;
    if (yy < 0 || yy >= h || xx < 0 || xx >= w) return;
    const v = d[yy * w + xx] + cost;
    if (v < d[y * w + x]) d[y * w + x] = v;
  };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    relax(y, x, 0, -1, 1); relax(y, x, -1, 0, 1); relax(y, x, -1, -1, r2); relax(y, x, -1, 1, r2);
  }
  for (let y = h - 1; y >= 0; y--) for (let x = w - 1; x >= 0; x--) {
    relax(y, x, 0, 1, 1); relax(y, x, 1, 0, 1); relax(y, x, 1, 1, r2); relax(y, x, 1, -1, r2);
  }
  return d;
}

function boxBlur3(src: Float32Array, h: number, w: number): Float32Array {
  return filter2D(src, h, w, 1, new Float32Array(9).fill(1 / 9), 3, 3, 'reflect101');
}

function equalizeHist(v: Float32Array): Float32Array {
  const hist = new Uint32Array(256);
  for (const x of v) hist[x]++;
  let cdfMin = 0;
  for (let i = 0; i < 256; i++) if (hist[i]) { cdfMin = hist[i]; break; }
  if (cdfMin === v.length) return new Float32Array(v);
  const lut = new Float32Array(256);
  let cdf = 0;
  for (let i = 0; i < 256; i++) {
    cdf += hist[i];
    lut[i] = Math.round(((cdf - cdfMin) * 255) / (v.length - cdfMin));
  }
  return v.map((x) => lut[x]);
}

/** Edge map of an 8-bit plane: Sobel |gx|+|gy| with Canny's 50/150 hysteresis, one step deep. */
function edges(l8: Float32Array, h: number, w: number): Uint8Array {
  const mag = new Float32Array(h * w);
  const at = (y: number, x: number): number => l8[borderIndex(y, h, 'reflect101') * w + borderIndex(x, w, 'reflect101')];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
    const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
    mag[y * w + x] = Math.abs(gx) + Math.abs(gy);
  }
  const e = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const m = mag[y * w + x];
    if (m >= 150) e[y * w + x] = 1;
    else if (m >= 50) {
      for (let dy = -1; dy <= 1 && !e[y * w + x]; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < h && xx >= 0 && xx < w && mag[yy * w + xx] >= 150) { e[y * w + x] = 1; break; }
      }
    }
  }
  return e;
}

export function spatter(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [loc, scale, sigma, thresh, intensity, mode] = p.spatter[s - 1];
  return viaRgb(img, (rgb) => {
    const { height: h, width: w } = rgb;
    const n = h * w;
    const noise = new Float32Array(n);
    for (let i = 0; i < n; i++) noise[i] = rng.normal(loc, scale);
    const liquid = gaussianFilter(noise, h, w, 1, sigma);
    for (let i = 0; i < n; i++) if (liquid[i] < thresh) liquid[i] = 0;
    const out = new Float32Array(rgb.data);
    if (mode === 0) {
      // Water: shade the liquid by distance to its own edges, embossed, in pale turquoise.
      const l8 = liquid.map((v) => Math.min(255, Math.max(0, Math.floor(v * 255))));
      const edge = edges(l8, h, w);
      let dist: Float32Array = distanceTo(edge, h, w).map((v) => Math.min(v, 20));
      dist = boxBlur3(dist, h, w).map((v) => Math.floor(v));
      dist = equalizeHist(dist);
      const ker = Float32Array.of(-2, -1, 0, -1, 1, 1, 0, 1, 2);
      dist = filter2D(dist, h, w, 1, ker, 3, 3, 'reflect101').map((v) => Math.min(255, Math.max(0, Math.round(v))));
      dist = boxBlur3(dist, h, w);
      const m = new Float32Array(n);
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, (m[i] = liquid[i] * dist[i]));
      if (max > 0) {
        const color = [175 / 255, 238 / 255, 238 / 255];
        for (let i = 0; i < n; i++) for (let ch = 0; ch < 3; ch++) out[3 * i + ch] += (m[i] / max) * intensity * color[ch];
      }
    } else {
      // Mud: opaque brown blotches where the liquid layer is thick.
      let m = liquid.map((v) => (v > thresh ? 1 : 0));
      m = gaussianFilter(m, h, w, 1, intensity).map((v) => (v < 0.8 ? 0 : v));
      const color = [63 / 255, 42 / 255, 20 / 255];
      for (let i = 0; i < n; i++) for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = out[3 * i + ch] * (1 - m[i]) + color[ch] * m[i];
    }
    return makeImage(h, w, 3, clip01(out));
  });
}
