// Separable resampling with a triangle (bilinear) kernel whose support widens when shrinking, as
// PIL's Image.resize(BILINEAR) does. Plain bilinear sampling would alias badly when a folder of
// large photos is shrunk to 32×32; widening the kernel averages every source pixel instead.

/** Per output coordinate: the first source index, the number of taps and `span` normalised weights. */
export interface AxisWeights { start: Int32Array; count: Int32Array; w: Float32Array; span: number }

/**
 * weights(), kept per (source size, output size): a loader's crops repeat sizes, and rebuilding the
 * arrays per image was garbage on the decode threads' hot path. Callers only read them.
 */
const cache = new Map<number, AxisWeights>();
export function cachedWeights(inSize: number, outSize: number): AxisWeights {
  const key = inSize * 65536 + outSize;
  let w = cache.get(key);
  if (!w) {
    if (cache.size >= 4096) cache.clear();
    w = weights(inSize, outSize);
    cache.set(key, w);
  }
  return w;
}

export function weights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const span = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float32Array(outSize * span);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const v = Math.max(0, 1 - Math.abs((i - center + 0.5) / filterScale));
      w[o * span + (i - lo)] = v;
      total += v;
    }
    if (total > 0) for (let i = 0; i < hi - lo; i++) w[o * span + i] /= total;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, w, span };
}

/** Resizes one HWC uint8 image. */
export function resizeHWC(src: Uint8Array, h: number, w: number, c: number, outH: number, outW: number): Uint8Array {
  if (h === outH && w === outW) return src.slice();
  const wx = cachedWeights(w, outW);
  const tmp = new Float32Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const s = wx.start[ox];
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < wx.count[ox]; k++) acc += wx.w[ox * wx.span + k] * src[(y * w + s + k) * c + ch];
        tmp[(y * outW + ox) * c + ch] = acc;
      }
    }
  }
  const wy = cachedWeights(h, outH);
  const out = new Uint8Array(outH * outW * c);
  for (let oy = 0; oy < outH; oy++) {
    const s = wy.start[oy];
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < wy.count[oy]; k++) acc += wy.w[oy * wy.span + k] * tmp[((s + k) * outW + x) * c + ch];
        out[(oy * outW + x) * c + ch] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}
