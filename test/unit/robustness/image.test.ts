import * as assert from 'node:assert/strict';
import { borderIndex, filter2D, gaussianKernel1D, separable, type Border } from '../../../src/engine/robustness/image';

/** Straightforward per-pixel reference the optimised filters must match. */
function naive2D(src: Float32Array, h: number, w: number, c: number, k: Float32Array, kh: number, kw: number, mode: Border): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      s += k[i * kw + j] * src[(borderIndex(y + i - (kh >> 1), h, mode) * w + borderIndex(x + j - (kw >> 1), w, mode)) * c + ch];
    }
    out[(y * w + x) * c + ch] = s;
  }
  return out;
}

describe('robustness: image filters', () => {
  it('border modes follow scipy reflect, OpenCV reflect101, nearest and wrap', () => {
    const idx = (mode: Border): number[] => [-3, -2, -1, 0, 3, 4, 5, 6].map((i) => borderIndex(i, 4, mode));
    assert.deepEqual(idx('reflect'), [2, 1, 0, 0, 3, 3, 2, 1]);
    assert.deepEqual(idx('reflect101'), [3, 2, 1, 0, 3, 2, 1, 0]);
    assert.deepEqual(idx('nearest'), [0, 0, 0, 0, 3, 3, 3, 3]);
    assert.deepEqual(idx('wrap'), [1, 2, 3, 0, 3, 0, 1, 2]);
  });

  it('filter2D and the separable Gaussian match a naive filter, including kernels wider than the image', () => {
    const [h, w, c] = [9, 13, 3];
    const src = Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i * 1.7));
    const k5 = Float32Array.from({ length: 25 }, (_, i) => ((i * 37) % 11) / 11 - 0.3);
    for (const mode of ['nearest', 'reflect', 'reflect101'] as const) {
      const a = filter2D(src, h, w, c, k5, 5, 5, mode);
      const b = naive2D(src, h, w, c, k5, 5, 5, mode);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${mode} filter2D at ${i}`));
      for (const sigma of [0.7, 2, 30]) {
        const g = gaussianKernel1D(sigma, 3);
        const outer = new Float32Array(g.length * g.length).map((_, i) => g[Math.floor(i / g.length)] * g[i % g.length]);
        const s = separable(src, h, w, c, g, mode);
        const r = naive2D(src, h, w, c, outer, g.length, g.length, mode);
        s.forEach((v, i) => assert.ok(Math.abs(v - r[i]) < 1e-4, `${mode} σ=${sigma} at ${i}: ${v} vs ${r[i]}`));
      }
    }
  });
});
