// Small image toolkit the corruptions share: HWC float planes, separable Gaussian, 2-D filters,
// bilinear sampling, colour conversions. Boundary modes follow the library each reference step
// used (skimage 'nearest', scipy 'reflect', OpenCV REFLECT_101) so edges behave alike.

export interface Image {
  data: Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

export type Border = 'nearest' | 'reflect' | 'reflect101' | 'wrap';

export function borderIndex(i: number, n: number, mode: Border): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  switch (mode) {
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    case 'reflect': {
      // scipy 'reflect' (d c b a | a b c d | d c b a): period 2n.
      const p = 2 * n;
      let k = ((i % p) + p) % p;
      if (k >= n) k = p - 1 - k;
      return k;
    }
    case 'reflect101': {
      // OpenCV default (d c b | a b c d | c b a): period 2n-2.
      const p = 2 * n - 2;
      let k = ((i % p) + p) % p;
      if (k >= n) k = p - k;
      return k;
    }
  }
}

export function makeImage(height: number, width: number, channels: 1 | 3, data?: Float32Array): Image {
  return { data: data ?? new Float32Array(height * width * channels), height, width, channels };
}

export function cloneImage(img: Image): Image {
  return { data: new Float32Array(img.data), height: img.height, width: img.width, channels: img.channels };
}

export function clip01(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    // NaN must not leak into a model input; treat it as black.
    a[i] = v > 1 ? 1 : v >= 0 ? v : 0;
  }
  return a;
}

/**
 * ImageMagick's 8-bit result of a float value, as the reference reads its motion blur back from a
 * PNG: the Q16 build rounds to 1/65535 and the 8-bit PNG then keeps the level below. Emulating
 * both steps gave the reference's level for all 3072 values of the parity image.
 */
export function quantizeMagick8(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = Math.floor(Math.round(Math.min(1, Math.max(0, a[i])) * 65535) / 257) / 255;
  return a;
}

/** skimage/scipy kernel: radius = int(truncate·σ + 0.5). */
export function gaussianKernel1D(sigma: number, truncate = 4): Float32Array {
  if (!(sigma > 0)) return Float32Array.of(1);
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** OpenCV getGaussianKernel(ksize, sigma) for sigma > 0. */
export function cvGaussianKernel(ksize: number, sigma: number): Float32Array {
  const k = new Float32Array(ksize);
  const c = (ksize - 1) / 2;
  let sum = 0;
  for (let i = 0; i < ksize; i++) sum += k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < ksize; i++) k[i] /= sum;
  return k;
}

/**
 * For each of n positions, the input positions and weights a 1-D kernel reads once the border is
 * folded in. Folding keeps huge kernels (elastic's σ ≈ 170 px on 224 px) at n taps per position.
 */
function foldedTaps(n: number, kernel: Float32Array, mode: Border): { idx: Int32Array; wt: Float32Array }[] {
  const r = (kernel.length - 1) >> 1;
  const acc = new Float64Array(n);
  const out: { idx: Int32Array; wt: Float32Array }[] = [];
  for (let i = 0; i < n; i++) {
    const touched: number[] = [];
    for (let k = -r; k <= r; k++) {
      const j = borderIndex(i + k, n, mode);
      if (acc[j] === 0) touched.push(j);
      acc[j] += kernel[k + r];
    }
    const idx = new Int32Array(touched.length);
    const wt = new Float32Array(touched.length);
    touched.forEach((j, t) => {
      idx[t] = j;
      wt[t] = acc[j];
      acc[j] = 0;
    });
    out.push({ idx, wt });
  }
  return out;
}

/** Separable filter on an interleaved h×w×c array (same kernel along both axes). */
export function separable(src: Float32Array, h: number, w: number, c: number, kernel: Float32Array, mode: Border): Float32Array {
  if (kernel.length === 1) return new Float32Array(src);
  const tx = foldedTaps(w, kernel, mode);
  const ty = h === w ? tx : foldedTaps(h, kernel, mode);
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const { idx, wt } = tx[x];
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let t = 0; t < idx.length; t++) s += wt[t] * src[(row + idx[t]) * c + ch];
        tmp[(row + x) * c + ch] = s;
      }
    }
  }
  const stride = w * c;
  for (let y = 0; y < h; y++) {
    const { idx, wt } = ty[y];
    const o = y * stride;
    for (let t = 0; t < idx.length; t++) {
      const base = idx[t] * stride;
      const k = wt[t];
      for (let i = 0; i < stride; i++) out[o + i] += k * tmp[base + i];
    }
  }
  return out;
}

export function gaussianFilter(src: Float32Array, h: number, w: number, c: number, sigma: number, mode: Border = 'nearest', truncate = 4): Float32Array {
  return separable(src, h, w, c, gaussianKernel1D(sigma, truncate), mode);
}

/** numpy's pairwise sum for up to 128 values: eight running sums, combined as a tree. */
function numpySum(a: Float64Array): number {
  if (a.length < 8) {
    let s = 0;
    for (const v of a) s += v;
    return s;
  }
  const r = Array.from(a.subarray(0, 8));
  let i = 8;
  for (; i + 8 <= a.length; i += 8) for (let k = 0; k < 8; k++) r[k] += a[i + k];
  let s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < a.length; i++) s += a[i];
  return s;
}

/**
 * scipy.ndimage.gaussian_filter over the two image axes in float64, in scipy's order of operations
 * (rows axis first; symmetric kernels summed outermost pair first), mode 'nearest'. Where the
 * reference truncates a blurred 8-bit image to 8 bits again (glass blur), a value that lands
 * exactly on a level must fall on the same side of it as in scipy, which float32 or another
 * summation order does not promise.
 */
export function gaussianFilterScipy(src: Float64Array, h: number, w: number, c: number, sigma: number, truncate = 4): Float64Array {
  const r = Math.floor(truncate * sigma + 0.5);
  if (!(sigma > 1e-15) || r === 0) return new Float64Array(src);
  const phi = new Float64Array(2 * r + 1);
  const a = -0.5 / (sigma * sigma);
  for (let i = -r; i <= r; i++) phi[i + r] = Math.exp(a * (i * i));
  const sum = numpySum(phi);
  for (let i = 0; i < phi.length; i++) phi[i] /= sum;
  const pass = (x: Float64Array, n: number, stride: number, lines: (emit: (base: number) => void) => void): Float64Array => {
    const out = new Float64Array(x.length);
    // Clamped neighbour offsets per position, so the loop below is plain index arithmetic.
    const lo: Int32Array[] = [], hi: Int32Array[] = [];
    for (let i = 0; i < n; i++) {
      lo.push(Int32Array.from({ length: r }, (_, k) => Math.max(0, i - r + k) * stride));
      hi.push(Int32Array.from({ length: r }, (_, k) => Math.min(n - 1, i + r - k) * stride));
    }
    lines((base) => {
      for (let i = 0; i < n; i++) {
        const a = lo[i], b = hi[i];
        let acc = x[base + i * stride] * phi[r];
        for (let k = 0; k < r; k++) acc += (x[base + a[k]] + x[base + b[k]]) * phi[k];
        out[base + i * stride] = acc;
      }
    });
    return out;
  };
  const ys = pass(src, h, w * c, (emit) => { for (let k = 0; k < w * c; k++) emit(k); });
  return pass(ys, w, c, (emit) => { for (let y = 0; y < h; y++) for (let ch = 0; ch < c; ch++) emit(y * w * c + ch); });
}

/** Correlation with a kh×kw kernel (centre at (kh>>1, kw>>1)), per channel. */
export function filter2D(src: Float32Array, h: number, w: number, c: number, kernel: Float32Array, kh: number, kw: number, mode: Border = 'reflect101'): Float32Array {
  const out = new Float32Array(src.length);
  const cy = kh >> 1;
  const cx = kw >> 1;
  // Border handling is resolved once per offset, so the inner loop is plain index arithmetic.
  const colMaps = new Map<number, Int32Array>();
  const colMap = (dx: number): Int32Array => {
    let m = colMaps.get(dx);
    if (!m) {
      m = new Int32Array(w);
      for (let x = 0; x < w; x++) m[x] = borderIndex(x + dx, w, mode) * c;
      colMaps.set(dx, m);
    }
    return m;
  };
  const taps: { dy: number; cols: Int32Array; wt: number }[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) if (kernel[i * kw + j] !== 0) taps.push({ dy: i - cy, cols: colMap(j - cx), wt: kernel[i * kw + j] });
  for (let y = 0; y < h; y++) {
    const o = y * w * c;
    for (const { dy, cols, wt } of taps) {
      const base = borderIndex(y + dy, h, mode) * w * c;
      for (let x = 0; x < w; x++) {
        const si = base + cols[x];
        const oi = o + x * c;
        for (let ch = 0; ch < c; ch++) out[oi + ch] += wt * src[si + ch];
      }
    }
  }
  return out;
}

/** Bilinear sample of channel ch at fractional (y, x). */
export function bilinear(src: Float32Array, h: number, w: number, c: number, ch: number, y: number, x: number, mode: Border): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const ya = borderIndex(y0, h, mode);
  const yb = borderIndex(y0 + 1, h, mode);
  const xa = borderIndex(x0, w, mode);
  const xb = borderIndex(x0 + 1, w, mode);
  const a = src[(ya * w + xa) * c + ch];
  const b = src[(ya * w + xb) * c + ch];
  const d = src[(yb * w + xa) * c + ch];
  const e = src[(yb * w + xb) * c + ch];
  return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
}

/**
 * Hendrycks' clipped_zoom: crop the centre 1/zoom of the image, scale it back up with linear
 * interpolation (scipy zoom, order 1) and trim to the original size. Done per axis so
 * non-square images work.
 */
export function clippedZoom(src: Float32Array, h: number, w: number, c: number, zoom: number): Float32Array {
  const axisMap = (n: number): Float32Array => {
    const crop = Math.ceil(n / zoom);
    const top = Math.floor((n - crop) / 2);
    // scipy sizes the zoomed crop with Python's round(), which sends halves to even (26 × 1.25 → 32).
    const exact = crop * zoom;
    let zoomed = Math.round(exact);
    if (zoomed - exact === 0.5 && zoomed % 2 !== 0) zoomed--;
    const trim = Math.floor((zoomed - n) / 2);
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) m[i] = zoomed > 1 ? top + ((i + trim) * (crop - 1)) / (zoomed - 1) : top;
    return m;
  };
  const my = axisMap(h);
  const mx = axisMap(w);
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = bilinear(src, h, w, c, ch, my[y], mx[x], 'nearest');
    }
  }
  return out;
}

/**
 * ImageMagick-style motion blur: a one-sided line of Gaussian-weighted taps, width 2·⌈radius⌉+1,
 * along `angleDeg`, each tap rounded to a whole-pixel offset; edges repeat.
 */
export function motionBlur(src: Float32Array, h: number, w: number, c: number, radius: number, sigma: number, angleDeg: number): Float32Array {
  const width = 2 * Math.ceil(radius) + 1;
  const a = (angleDeg * Math.PI) / 180;
  const taps: [number, number, number][] = [];
  let sum = 0;
  for (let i = 0; i < width; i++) {
    const wt = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += wt;
    taps.push([Math.round(i * Math.sin(a)), Math.round(i * Math.cos(a)), wt]);
  }
  for (const t of taps) t[2] /= sum;
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (const [dy, dx, wt] of taps) s += wt * src[(borderIndex(y + dy, h, 'nearest') * w + borderIndex(x + dx, w, 'nearest')) * c + ch];
        out[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}

export function toRgb(img: Image): Image {
  if (img.channels === 3) return img;
  const n = img.height * img.width;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = img.data[i];
  return makeImage(img.height, img.width, 3, out);
}

export function luminance(rgb: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return out;
}

/** Run a colour-only operation on any image: grey goes to RGB and comes back as luminance. */
export function viaRgb(img: Image, fn: (rgb: Image) => Image): Image {
  if (img.channels === 3) return fn(img);
  const out = fn(toRgb(img));
  return makeImage(img.height, img.width, 1, luminance(out.data, img.height * img.width));
}

/** skimage rgb2hsv semantics (grey pixels get hue 0, saturation 0), in place on 3-channel data. */
export function rgbToHsv(d: Float32Array): void {
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    const v = Math.max(r, g, b);
    const delta = v - Math.min(r, g, b);
    const s = v === 0 ? 0 : delta / v;
    let hh = 0;
    if (delta > 0) {
      if (r === v) hh = (g - b) / delta;
      else if (g === v) hh = 2 + (b - r) / delta;
      else hh = 4 + (r - g) / delta;
      hh = (hh / 6) % 1;
      if (hh < 0) hh += 1;
    }
    d[i] = hh;
    d[i + 1] = s;
    d[i + 2] = v;
  }
}

export function hsvToRgb(d: Float32Array): void {
  for (let i = 0; i < d.length; i += 3) {
    const hh = d[i], s = d[i + 1], v = d[i + 2];
    const h6 = hh * 6;
    const k = Math.floor(h6) % 6;
    const f = h6 - Math.floor(h6);
    const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
    const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][k];
    d[i] = rgb[0];
    d[i + 1] = rgb[1];
    d[i + 2] = rgb[2];
  }
}
