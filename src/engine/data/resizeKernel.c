// The streaming loader's resize (resizeSimd.ts): the triangle-kernel, antialiased bilinear resample
// of resize.ts for 3-channel uint8 images, in wasm SIMD. libvips' own resize took about a quarter
// of each 224 px image's CPU time on the bench folder; this does the same arithmetic about twice
// as fast (docs/datasets.md has the figures). Weights come from JS (resize.ts' weights()): per
// output coordinate the first source index, the tap count and `span` floats. The vertical pass
// runs first, 16 bytes of a row at a time; the horizontal pass then does one f32x4 multiply-add
// per tap for the three channels of a pixel (the fourth lane reads the next pixel and is dropped,
// so `row` has one spare float at its end).
#include <wasm_simd128.h>

static unsigned char clamp8(int v) { return v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v; }

void resize_rgb(const unsigned char *src, int h, int w, unsigned char *out, int outH, int outW,
                const int *ys, const int *yc, const float *yw, int yspan,
                const int *xs, const int *xc, const float *xw, int xspan, float *row) {
  (void)h;
  const int rowLen = w * 3;
  for (int oy = 0; oy < outH; oy++) {
    const int s = ys[oy], n = yc[oy];
    const float *wy = yw + oy * yspan;
    int i = 0;
    for (; i + 16 <= rowLen; i += 16) {
      v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
      for (int k = 0; k < n; k++) {
        const v128_t b = wasm_v128_load(src + (s + k) * rowLen + i);
        const v128_t f = wasm_f32x4_splat(wy[k]);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(b), hi = wasm_u16x8_extend_high_u8x16(b);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_low_u16x8(lo)), f));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_high_u16x8(lo)), f));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_low_u16x8(hi)), f));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_convert_u32x4(wasm_u32x4_extend_high_u16x8(hi)), f));
      }
      wasm_v128_store(row + i, a0);
      wasm_v128_store(row + i + 4, a1);
      wasm_v128_store(row + i + 8, a2);
      wasm_v128_store(row + i + 12, a3);
    }
    for (; i < rowLen; i++) {
      float a = 0.f;
      for (int k = 0; k < n; k++) a += wy[k] * src[(s + k) * rowLen + i];
      row[i] = a;
    }
    row[rowLen] = 0.f;
    // Each pixel's four lanes land at its three floats and the next pixel's first, which the next
    // store overwrites; `orow` has one spare float for the last. Then one saturating conversion
    // pass turns the row into bytes, 16 at a time.
    float *orow = row + rowLen + 4;
    for (int ox = 0; ox < outW; ox++) {
      const float *wx = xw + ox * xspan;
      const float *p = row + xs[ox] * 3;
      v128_t acc = wasm_f32x4_splat(0.f);
      for (int k = 0, m = xc[ox]; k < m; k++, p += 3) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(p), wasm_f32x4_splat(wx[k])));
      wasm_v128_store(orow + ox * 3, acc);
    }
    unsigned char *o = out + oy * outW * 3;
    const int outLen = outW * 3;
    int j = 0;
    for (; j + 16 <= outLen; j += 16) {
      const v128_t i0 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_v128_load(orow + j)));
      const v128_t i1 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_v128_load(orow + j + 4)));
      const v128_t i2 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_v128_load(orow + j + 8)));
      const v128_t i3 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_v128_load(orow + j + 12)));
      wasm_v128_store(o + j, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i0, i1), wasm_i16x8_narrow_i32x4(i2, i3)));
    }
    for (; j < outLen; j++) {
      const float v = orow[j];
      const int r = (int)__builtin_nearbyintf(v);
      o[j] = clamp8(r);
    }
  }
}
