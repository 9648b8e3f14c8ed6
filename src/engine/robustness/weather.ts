// Weather family: snow, frost (procedural texture instead of the reference photos), fog (plasma
// fractal), brightness, and the extra spatter.

import type { Rng } from '../util/rng';
import { borderIndex, clip01, clippedZoom, filter2D, gaussianFilter, gaussianFilterScipy, hsvToRgb, makeImage, motionBlur, quantizeMagick8, rgbToHsv, viaRgb, type Image } from './image';
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
  layer = quantizeMagick8(motionBlur(layer, h, w, 1, blurRadius, blurSigma, rng.uniform(-135, -45)));
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

/**
 * cv2.distanceTransform(src, DIST_L2, 5): the two-pass 5×5 chamfer with OpenCV's weights 1, 1.4
 * and 2.1969 in 16-bit fixed point, distance from each marked pixel to the nearest unmarked one
 * (`far[i]` true), outside the image counting as far.
 */
function chamferL2Mask5(far: Uint8Array, h: number, w: number): Float32Array {
  const HV = Math.round(65536), DIAG = Math.round(1.4 * 65536), LONG = Math.round(2.1969 * 65536);
  const MAX = 0xffffffff - LONG;
  const W = w + 4;
  const t = new Float64Array((h + 4) * W).fill(MAX);
  const at = (y: number, x: number): number => (y + 2) * W + x + 2;
  const fwd: [number, number, number][] = [[-2, -1, LONG], [-2, 1, LONG], [-1, -2, LONG], [-1, -1, DIAG], [-1, 0, HV], [-1, 1, DIAG], [-1, 2, LONG], [0, -1, HV]];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!far[y * w + x]) { t[at(y, x)] = 0; continue; }
    let t0 = Infinity;
    for (const [dy, dx, c] of fwd) t0 = Math.min(t0, t[at(y + dy, x + dx)] + c);
    t[at(y, x)] = Math.min(t0, MAX);
  }
  const out = new Float32Array(h * w);
  for (let y = h - 1; y >= 0; y--) for (let x = w - 1; x >= 0; x--) {
    let t0 = t[at(y, x)];
    if (t0 > HV) {
      for (const [dy, dx, c] of fwd) t0 = Math.min(t0, t[at(y - dy, x - dx)] + c);
      t[at(y, x)] = t0;
    }
    out[y * w + x] = t0 / 65536;
  }
  return out;
}

/** cv2.blur(src, (3, 3)): 3×3 mean with REFLECT_101 borders, in float64 (as OpenCV sums float input). */
function boxBlur3(src: Float32Array, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += src[borderIndex(y + dy, h, 'reflect101') * w + borderIndex(x + dx, w, 'reflect101')];
    out[y * w + x] = sum * (1 / 9);
  }
  return out;
}

/** cv2.equalizeHist on 8-bit levels. */
function equalizeHist(v: Float32Array): Float32Array {
  const hist = new Uint32Array(256);
  for (const x of v) hist[x]++;
  let first = 0;
  while (!hist[first]) first++;
  if (hist[first] === v.length) return new Float32Array(v);
  const scale = Math.fround(255 / (v.length - hist[first]));
  const lut = new Float32Array(256);
  let sum = 0;
  for (let i = first + 1; i < 256; i++) {
    sum += hist[i];
    lut[i] = Math.min(255, Math.round(Math.fround(sum * scale)));
  }
  return v.map((x) => lut[x]);
}

/**
 * cv2.Canny(l8, 50, 150): 3×3 Sobel (replicated borders), |gx| + |gy|, non-maximum suppression
 * along the gradient's sector, then hysteresis: every candidate above 50 joined (8-connected) to
 * one above 150 is an edge.
 */
function canny(l8: Float32Array, h: number, w: number, low = 50, high = 150): Uint8Array {
  const at = (y: number, x: number): number => l8[borderIndex(y, h, 'nearest') * w + borderIndex(x, w, 'nearest')];
  const gx = new Int32Array(h * w), gy = new Int32Array(h * w), mag = new Int32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    gx[i] = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
    gy[i] = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
    mag[i] = Math.abs(gx[i]) + Math.abs(gy[i]);
  }
  const m = (y: number, x: number): number => (y < 0 || y >= h || x < 0 || x >= w ? 0 : mag[y * w + x]);
  const TG22 = Math.floor(0.4142135623730950488 * 32768 + 0.5);
  // 0 candidate, 1 not an edge, 2 edge
  const map = new Uint8Array(h * w).fill(1);
  const stack: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    const v = mag[i];
    if (v <= low) continue;
    const ax = Math.abs(gx[i]), ay = Math.abs(gy[i]) * 32768;
    const tg22x = ax * TG22;
    let keep: boolean;
    if (ay < tg22x) keep = v > m(y, x - 1) && v >= m(y, x + 1);
    else if (ay > tg22x + ax * 65536) keep = v > m(y - 1, x) && v >= m(y + 1, x);
    else {
      const sgn = (gx[i] < 0) !== (gy[i] < 0) ? -1 : 1;
      keep = v > m(y - 1, x - sgn) && v > m(y + 1, x + sgn);
    }
    if (!keep) continue;
    map[i] = 0;
    if (v > high) {
      map[i] = 2;
      stack.push(i);
    }
  }
  while (stack.length) {
    const i = stack.pop() as number;
    const y = Math.floor(i / w), x = i % w;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
      const j = yy * w + xx;
      if (map[j] === 0) {
        map[j] = 2;
        stack.push(j);
      }
    }
  }
  return map.map((v) => (v === 2 ? 1 : 0));
}

export function spatter(img: Image, s: number, p: SeverityTable, rng: Rng): Image {
  const [loc, scale, sigma, thresh, intensity, mode] = p.spatter[s - 1];
  return viaRgb(img, (rgb) => {
    const { height: h, width: w } = rgb;
    const n = h * w;
    const noise = new Float64Array(n);
    for (let i = 0; i < n; i++) noise[i] = rng.normal(loc, scale);
    // float64 in scipy's order: the water branch truncates this layer to 8 bits.
    const liquid = gaussianFilterScipy(noise, h, w, 1, sigma);
    for (let i = 0; i < n; i++) if (liquid[i] < thresh) liquid[i] = 0;
    const out = new Float32Array(rgb.data);
    if (mode === 0) {
      // Water, step for step as the reference's OpenCV calls: distance to the liquid's Canny
      // edges (capped at 20), blurred, equalised, embossed, blurred, times the 8-bit liquid,
      // scaled to `intensity` at its peak, in pale turquoise.
      // np.uint8 wraps, not saturates: liquid above 1 comes out as 256 less (the reference's
      // behaviour, kept so the water matches the released files).
      const l8 = Float32Array.from(liquid, (v) => Math.trunc(v * 255) & 255);
      const edge = canny(l8, h, w);
      const capped = chamferL2Mask5(edge.map((e) => 1 - e), h, w).map((v) => Math.min(v, 20));
      let dist: Float32Array = Float32Array.from(boxBlur3(capped, h, w), (v) => Math.floor(Math.fround(v)));
      dist = equalizeHist(dist);
      const ker = Float32Array.of(-2, -1, 0, -1, 1, 1, 0, 1, 2);
      dist = filter2D(dist, h, w, 1, ker, 3, 3, 'reflect101').map((v) => Math.min(255, Math.max(0, Math.round(v))));
      dist = Float32Array.from(boxBlur3(dist, h, w), (v) => Math.round(v));
      const m = new Float32Array(n);
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, (m[i] = l8[i] * dist[i]));
      if (max > 0) {
        const color = [175 / 255, 238 / 255, 238 / 255];
        for (let i = 0; i < n; i++) for (let ch = 0; ch < 3; ch++) out[3 * i + ch] += (m[i] / max) * intensity * color[ch];
      }
    } else {
      // Mud: opaque brown blotches where the liquid layer is thick.
      let m = Float32Array.from(liquid, (v) => (v > thresh ? 1 : 0));
      m = gaussianFilter(m, h, w, 1, intensity).map((v) => (v < 0.8 ? 0 : v));
      const color = [63 / 255, 42 / 255, 20 / 255];
      for (let i = 0; i < n; i++) for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = out[3 * i + ch] * (1 - m[i]) + color[ch] * m[i];
    }
    return makeImage(h, w, 3, clip01(out));
  });
}
