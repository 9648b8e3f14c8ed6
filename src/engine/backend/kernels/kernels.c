// Hand-written wasm SIMD kernels for training ResNets on TensorFlow.js' wasm backend.
//
// This module imports the wasm backend's own linear memory, so every argument is a byte offset of a
// tensor the backend already holds: no copies in or out. It must never use memory of its own (no
// static data, no stack frames): scripts/build-kernels.mjs checks the output for both.
//
// Layouts are tfjs': activations NHWC, filters [KH, KW, Ci, Co].
//
// Compiled twice (scripts/build-kernels.mjs): the exact module multiplies and adds separately (two
// roundings, the same values on every machine); with RELAXED defined every multiply-add is wasm
// relaxed SIMD's f32x4.relaxed_madd, which V8 runs as one fused FMA instruction where the CPU has
// one (one rounding: results differ from the exact module in the last bits, and may differ
// between CPUs with and without FMA). fastKernels.ts picks RELAXED where the runtime validates it.
//
// VL is the number of float lanes of `v`: 4 in wasm. The native build (native/, an N-API addon) also
// compiles this file with VL 8 (AVX2) and 16 (AVX-512) through its own wasm_simd128.h; each lane
// only ever meets the same lane of other vectors, so any VL computes the same values in the same order.
#include <wasm_simd128.h>
#ifndef VL
#define VL 4
#endif

#define EXPORT(name) __attribute__((export_name(#name)))
typedef float f32;
typedef v128_t v;

static inline v splat(const f32 *p) { return wasm_v128_load32_splat(p); }
static inline v ld(const f32 *p) { return wasm_v128_load(p); }
static inline void st(f32 *p, v a) { wasm_v128_store(p, a); }
#ifdef RELAXED
typedef float f32x4 __attribute__((vector_size(sizeof(v)))); // VL floats
// a·b + acc, fused where the hardware can (clang ≥ 16 has only the builtin, no wasm_simd128.h name).
static inline v mad(v acc, v a, v b) { return (v)__builtin_wasm_relaxed_madd_f32x4((f32x4)a, (f32x4)b, (f32x4)acc); }
#else
static inline v mad(v acc, v a, v b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
#endif

// The multiply-add rate this module's `mad` reaches with nothing else in the way: 12 independent
// chains c = c·x + y (enough to hide the mul/add/FMA latency on 2 ports), no memory traffic. The
// product depends on the chain, so the compiler cannot hoist it out of the loop. Runs
// `iters` × 12 × VL multiply-adds (24·VL·iters FLOPs); the result only keeps the work from being dropped.
EXPORT(peak_mad)
float peak_mad(int iters, float x, float y) {
  const v a = wasm_f32x4_splat(x), b = wasm_f32x4_splat(y);
  v c0 = wasm_f32x4_splat(1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (int i = 0; i < iters; i++) {
    c0 = mad(b, c0, a); c1 = mad(b, c1, a); c2 = mad(b, c2, a); c3 = mad(b, c3, a);
    c4 = mad(b, c4, a); c5 = mad(b, c5, a); c6 = mad(b, c6, a); c7 = mad(b, c7, a);
    c8 = mad(b, c8, a); c9 = mad(b, c9, a); c10 = mad(b, c10, a); c11 = mad(b, c11, a);
  }
  const v s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)),
                             wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c4, c5), wasm_f32x4_add(c6, c7)),
                                            wasm_f32x4_add(wasm_f32x4_add(c8, c9), wasm_f32x4_add(c10, c11))));
  return wasm_f32x4_extract_lane(s, 0);
}

// y = conv2d(x, w): y[n,oh,ow,co] = Σ x[n, oh·sh − top + kh, ow·sw − left + kw, ci] · w[kh,kw,ci,co],
// reading 0 outside x. Co % (2·VL) == 0. `zeros` points at ≥ Ci zero floats: a tap that falls in the
// padding reads from there instead of branching in the inner loop.
// Register block: 4 output pixels × 2·VL output channels (8 accumulators).
EXPORT(conv2d)
void conv2d(const f32 *x, const f32 *w, f32 *y, const f32 *zeros,
            int N, int H, int W, int Ci, int KH, int KW, int Co,
            int OH, int OW, int sh, int sw, int top, int left) {
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      f32 *yrow = y + ((long)(n * OH + oh) * OW) * Co;
      for (int ow0 = 0; ow0 < OW; ow0 += 4) {
        const int np = OW - ow0 < 4 ? OW - ow0 : 4;
        for (int co = 0; co < Co; co += 2 * VL) {
          v a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
          for (int kh = 0; kh < KH; kh++) {
            const int ih = oh * sh - top + kh;
            if (ih < 0 || ih >= H) continue;
            const f32 *xrow = x + ((long)(n * H + ih) * W) * Ci;
            for (int kw = 0; kw < KW; kw++) {
              const f32 *p[4];
              for (int q = 0; q < 4; q++) {
                const int iw = (ow0 + (q < np ? q : 0)) * sw - left + kw;
                p[q] = iw >= 0 && iw < W ? xrow + (long)iw * Ci : zeros;
              }
              const f32 *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
              const f32 *wp = w + ((long)(kh * KW + kw) * Ci) * Co + co;
              for (int ci = 0; ci < Ci; ci++, wp += Co) {
                const v w0 = ld(wp), w1 = ld(wp + VL);
                v s = splat(p0 + ci); a00 = mad(a00, s, w0); a01 = mad(a01, s, w1);
                s = splat(p1 + ci); a10 = mad(a10, s, w0); a11 = mad(a11, s, w1);
                s = splat(p2 + ci); a20 = mad(a20, s, w0); a21 = mad(a21, s, w1);
                s = splat(p3 + ci); a30 = mad(a30, s, w0); a31 = mad(a31, s, w1);
              }
            }
          }
          f32 *yp = yrow + (long)ow0 * Co + co;
          st(yp, a00); st(yp + VL, a01);
          if (np > 1) { st(yp + Co, a10); st(yp + Co + VL, a11); }
          if (np > 2) { st(yp + 2 * Co, a20); st(yp + 2 * Co + VL, a21); }
          if (np > 3) { st(yp + 3 * Co, a30); st(yp + 3 * Co + VL, a31); }
        }
      }
    }
  }
}

// dw = ∂L/∂w of y = conv2d(x, w) given dy: dw[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, ih, iw, ci] · dy[n,oh,ow,co]
// over the taps inside x. Co % (2·VL) == 0. Accumulates in dw (zeroed here) one image row band at a
// time, so x and dy rows stay in cache while every tap, ci block and co block passes over them.
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32 *x, const f32 *dy, f32 *dw,
                        int N, int H, int W, int Ci, int KH, int KW, int Co,
                        int OH, int OW, int sh, int sw, int top, int left) {
  const long total = (long)KH * KW * Ci * Co;
  for (long i = 0; i < total; i += VL) st(dw + i, wasm_f32x4_splat(0));
  const int R = 4; // output rows per band
  for (int n = 0; n < N; n++) {
    for (int oh0 = 0; oh0 < OH; oh0 += R) {
      const int oh1 = oh0 + R < OH ? oh0 + R : OH;
      for (int kh = 0; kh < KH; kh++) {
        for (int kw = 0; kw < KW; kw++) {
          // ow range whose iw = ow·sw − left + kw lies inside x
          int lo = 0, hi = OW;
          while (lo < hi && lo * sw - left + kw < 0) lo++;
          while (hi > lo && (hi - 1) * sw - left + kw >= W) hi--;
          if (lo >= hi) continue;
          int ci = 0;
          for (; ci + 4 <= Ci; ci += 4) {
            for (int co = 0; co < Co; co += 2 * VL) {
              f32 *d = dw + ((long)(kh * KW + kw) * Ci + ci) * Co + co;
              v a00 = ld(d), a01 = ld(d + VL), a10 = ld(d + Co), a11 = ld(d + Co + VL);
              v a20 = ld(d + 2 * Co), a21 = ld(d + 2 * Co + VL), a30 = ld(d + 3 * Co), a31 = ld(d + 3 * Co + VL);
              for (int oh = oh0; oh < oh1; oh++) {
                const int ih = oh * sh - top + kh;
                if (ih < 0 || ih >= H) continue;
                const f32 *xp = x + ((long)(n * H + ih) * W + lo * sw - left + kw) * Ci + ci;
                const f32 *gp = dy + ((long)(n * OH + oh) * OW + lo) * Co + co;
                const long xs = (long)sw * Ci;
                for (int ow = lo; ow < hi; ow++, xp += xs, gp += Co) {
                  const v g0 = ld(gp), g1 = ld(gp + VL);
                  v s = splat(xp); a00 = mad(a00, s, g0); a01 = mad(a01, s, g1);
                  s = splat(xp + 1); a10 = mad(a10, s, g0); a11 = mad(a11, s, g1);
                  s = splat(xp + 2); a20 = mad(a20, s, g0); a21 = mad(a21, s, g1);
                  s = splat(xp + 3); a30 = mad(a30, s, g0); a31 = mad(a31, s, g1);
                }
              }
              st(d, a00); st(d + VL, a01); st(d + Co, a10); st(d + Co + VL, a11);
              st(d + 2 * Co, a20); st(d + 2 * Co + VL, a21); st(d + 3 * Co, a30); st(d + 3 * Co + VL, a31);
            }
          }
          for (; ci < Ci; ci++) { // Ci % 4 tail (the 3-channel stem)
            for (int co = 0; co < Co; co += 2 * VL) {
              f32 *d = dw + ((long)(kh * KW + kw) * Ci + ci) * Co + co;
              v a0 = ld(d), a1 = ld(d + VL);
              for (int oh = oh0; oh < oh1; oh++) {
                const int ih = oh * sh - top + kh;
                if (ih < 0 || ih >= H) continue;
                const f32 *xp = x + ((long)(n * H + ih) * W + lo * sw - left + kw) * Ci + ci;
                const f32 *gp = dy + ((long)(n * OH + oh) * OW + lo) * Co + co;
                for (int ow = lo; ow < hi; ow++, xp += (long)sw * Ci, gp += Co) {
                  const v s = splat(xp);
                  a0 = mad(a0, s, ld(gp)); a1 = mad(a1, s, ld(gp + VL));
                }
              }
              st(d, a0); st(d + VL, a1);
            }
          }
        }
      }
    }
  }
}

// dx = ∂L/∂x of y = conv2d(x, w) given dy (the transposed convolution):
// dx[n,ih,iw,ci] = Σ dy[n,oh,ow,co] · w[kh,kw,ci,co] over oh·sh − top + kh = ih, ow·sw − left + kw = iw.
// Ci % (2·VL) == 0. `wt` is scratch for KH·KW·Co·Ci floats (w with its last two axes swapped, so that a
// block of 2·VL input channels is two contiguous loads); `zeros` points at ≥ Co zero floats.
// Each dx row is written one column phase (iw mod sw) at a time: the pixels of a phase all meet the
// same taps, so a block of 4 of them × 2·VL input channels shares every weight load, and only taps
// that hit a dy pixel are visited (no zero-upsampled dy, no flipped filter, no phase interleave).
EXPORT(conv2d_input_grad)
void conv2d_input_grad(const f32 *dy, const f32 *w, f32 *dx, f32 *wt, const f32 *zeros,
                       int N, int H, int W, int Ci, int KH, int KW, int Co,
                       int OH, int OW, int sh, int sw, int top, int left) {
  for (int t = 0; t < KH * KW; t++)
    for (int ci = 0; ci < Ci; ci++)
      for (int co = 0; co < Co; co++) wt[((long)t * Co + co) * Ci + ci] = w[((long)t * Ci + ci) * Co + co];
  for (int n = 0; n < N; n++) {
    for (int ih = 0; ih < H; ih++) {
      f32 *dxrow = dx + ((long)(n * H + ih) * W) * Ci;
      for (int pw = 0; pw < sw && pw < W; pw++) {
        const int nj = (W - pw + sw - 1) / sw; // pixels iw = pw + sw·j of this phase
        for (int j0 = 0; j0 < nj; j0 += 4) {
          const int np = nj - j0 < 4 ? nj - j0 : 4;
          for (int ci = 0; ci < Ci; ci += 2 * VL) {
            v a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int kh = 0; kh < KH; kh++) {
              const int th = ih + top - kh;
              if (th < 0 || th % sh != 0 || th / sh >= OH) continue;
              const f32 *dyrow = dy + ((long)(n * OH + th / sh) * OW) * Co;
              for (int kw = 0; kw < KW; kw++) {
                const int tw = pw + left - kw; // ow = (tw + sw·j) / sw
                if (((tw % sw) + sw) % sw != 0) continue;
                const f32 *p[4];
                for (int q = 0; q < 4; q++) {
                  const int ow = tw / sw + j0 + (q < np ? q : 0);
                  p[q] = ow >= 0 && ow < OW ? dyrow + (long)ow * Co : zeros;
                }
                const f32 *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
                const f32 *wp = wt + ((long)(kh * KW + kw) * Co) * Ci + ci;
                for (int co = 0; co < Co; co++, wp += Ci) {
                  const v w0 = ld(wp), w1 = ld(wp + VL);
                  v s = splat(p0 + co); a00 = mad(a00, s, w0); a01 = mad(a01, s, w1);
                  s = splat(p1 + co); a10 = mad(a10, s, w0); a11 = mad(a11, s, w1);
                  s = splat(p2 + co); a20 = mad(a20, s, w0); a21 = mad(a21, s, w1);
                  s = splat(p3 + co); a30 = mad(a30, s, w0); a31 = mad(a31, s, w1);
                }
              }
            }
            const long step = (long)sw * Ci;
            f32 *xp = dxrow + (long)(pw + sw * j0) * Ci + ci;
            st(xp, a00); st(xp + VL, a01);
            if (np > 1) { st(xp + step, a10); st(xp + step + VL, a11); }
            if (np > 2) { st(xp + 2 * step, a20); st(xp + 2 * step + VL, a21); }
            if (np > 3) { st(xp + 3 * step, a30); st(xp + 3 * step + VL, a31); }
          }
        }
      }
    }
  }
}

// ---- Ghost batch norm (+ ReLU), training mode --------------------------------------------------
// h, y, dy, dh: [G, M, C] (G ghost groups of M = samples·H·W rows); per-group statistics [G, C].
// C % VL == 0. Sums run in blocks of SUM_BLOCK rows whose partial sums are added to the total, so the
// rounding error grows with √block + √(M / block) rather than √M. `scratch` holds ≥ 4·C floats.
//
// A BN group may be split across worker threads (a "team", exec/team.ts): each holds M of the group's
// Mtot rows, and every per-group column sum is handed to team_reduce, which replaces it by the sum
// over the team's members, the same on every member. Without a team Mtot == M and team_reduce
// returns at once.
#define SUM_BLOCK 128

__attribute__((import_module("env"), import_name("team_reduce"))) void team_reduce(f32 *sums, int count);

// total[c] = Σ_rows f(row)[c], f given by the macro body over vector `a` at row pointer `r`.
static void column_sums(const f32 *src, int M, int C, f32 *total, f32 *part) {
  for (int c = 0; c < C; c += VL) st(total + c, wasm_f32x4_splat(0));
  for (int m0 = 0; m0 < M; m0 += SUM_BLOCK) {
    const int m1 = m0 + SUM_BLOCK < M ? m0 + SUM_BLOCK : M;
    for (int c = 0; c < C; c += VL) st(part + c, wasm_f32x4_splat(0));
    for (int m = m0; m < m1; m++) {
      const f32 *r = src + (long)m * C;
      for (int c = 0; c < C; c += VL) st(part + c, wasm_f32x4_add(ld(part + c), ld(r + c)));
    }
    for (int c = 0; c < C; c += VL) st(total + c, wasm_f32x4_add(ld(total + c), ld(part + c)));
  }
}

// Σ (row − mean)² per column, blocked like column_sums.
static void column_sq_dev(const f32 *src, const f32 *mean, int M, int C, f32 *total, f32 *part) {
  for (int c = 0; c < C; c += VL) st(total + c, wasm_f32x4_splat(0));
  for (int m0 = 0; m0 < M; m0 += SUM_BLOCK) {
    const int m1 = m0 + SUM_BLOCK < M ? m0 + SUM_BLOCK : M;
    for (int c = 0; c < C; c += VL) st(part + c, wasm_f32x4_splat(0));
    for (int m = m0; m < m1; m++) {
      const f32 *r = src + (long)m * C;
      for (int c = 0; c < C; c += VL) {
        const v d = wasm_f32x4_sub(ld(r + c), ld(mean + c));
        st(part + c, mad(ld(part + c), d, d));
      }
    }
    for (int c = 0; c < C; c += VL) st(total + c, wasm_f32x4_add(ld(total + c), ld(part + c)));
  }
}

// Per group g: mean, biased variance, rstd = 1/√(var + eps); y = (h − mean)·gamma·rstd + beta, then
// max(0, ·) when relu. mean, var, rstd: [G, C].
EXPORT(bn_forward)
void bn_forward(const f32 *h, const f32 *gamma, const f32 *beta, f32 *y, f32 *mean, f32 *var, f32 *rstd,
                f32 *scratch, int G, int M, int Mtot, int C, int relu, f32 eps) {
  const v invM = wasm_f32x4_splat(1.0f / (f32)Mtot);
  const v one = wasm_f32x4_splat(1.0f), veps = wasm_f32x4_splat(eps), zero = wasm_f32x4_splat(0);
  f32 *k = scratch, *part = scratch + C;
  for (int g = 0; g < G; g++) {
    const f32 *hg = h + (long)g * M * C;
    f32 *yg = y + (long)g * M * C;
    f32 *mu = mean + (long)g * C, *va = var + (long)g * C, *rs = rstd + (long)g * C;
    column_sums(hg, M, C, mu, part);
    team_reduce(mu, C);
    for (int c = 0; c < C; c += VL) st(mu + c, wasm_f32x4_mul(ld(mu + c), invM));
    column_sq_dev(hg, mu, M, C, va, part);
    team_reduce(va, C);
    for (int c = 0; c < C; c += VL) {
      const v vv = wasm_f32x4_mul(ld(va + c), invM);
      st(va + c, vv);
      const v r = wasm_f32x4_div(one, wasm_f32x4_sqrt(wasm_f32x4_add(vv, veps)));
      st(rs + c, r);
      st(k + c, wasm_f32x4_mul(ld(gamma + c), r));
    }
    for (int m = 0; m < M; m++) {
      const f32 *hr = hg + (long)m * C;
      f32 *yr = yg + (long)m * C;
      for (int c = 0; c < C; c += VL) {
        v z = mad(ld(beta + c), wasm_f32x4_sub(ld(hr + c), ld(mu + c)), ld(k + c));
        if (relu) z = wasm_f32x4_max(z, zero);
        st(yr + c, z);
      }
    }
  }
}

// Gradient of bn_forward. With d = h − mean, r = rstd, k = gamma·r and g = dy masked by y > 0 when
// relu: dbeta = Σ g, dgamma = Σ_groups r·Σ g·d, dh = k·(g − Σ_g g / M − d·r²·Σ_g (g·d) / M).
// dgamma, dbeta: [C], summed over the groups; in a team only the member with own_params set writes
// them (the others write zeros), so that summing the members' parameter gradients counts them once.
EXPORT(bn_backward)
void bn_backward(const f32 *dy, const f32 *y, const f32 *h, const f32 *mean, const f32 *rstd, const f32 *gamma,
                 f32 *dh, f32 *dgamma, f32 *dbeta, f32 *scratch, int G, int M, int Mtot, int C, int relu, int own_params) {
  const v invM = wasm_f32x4_splat(1.0f / (f32)Mtot), zero = wasm_f32x4_splat(0);
  f32 *sg = scratch, *sgd = scratch + C, *psg = scratch + 2 * C, *psgd = scratch + 3 * C;
  for (int c = 0; c < C; c += VL) { st(dgamma + c, zero); st(dbeta + c, zero); }
  for (int g = 0; g < G; g++) {
    const long base = (long)g * M * C;
    const f32 *mu = mean + (long)g * C, *rs = rstd + (long)g * C;
    for (int c = 0; c < C; c += VL) { st(sg + c, zero); st(sgd + c, zero); }
    for (int m0 = 0; m0 < M; m0 += SUM_BLOCK) {
      const int m1 = m0 + SUM_BLOCK < M ? m0 + SUM_BLOCK : M;
      for (int c = 0; c < C; c += VL) { st(psg + c, zero); st(psgd + c, zero); }
      for (int m = m0; m < m1; m++) {
        const long o = base + (long)m * C;
        for (int c = 0; c < C; c += VL) {
          v gv = ld(dy + o + c);
          if (relu) gv = wasm_v128_and(gv, wasm_f32x4_gt(ld(y + o + c), zero));
          st(psg + c, wasm_f32x4_add(ld(psg + c), gv));
          st(psgd + c, mad(ld(psgd + c), gv, wasm_f32x4_sub(ld(h + o + c), ld(mu + c))));
        }
      }
      for (int c = 0; c < C; c += VL) {
        st(sg + c, wasm_f32x4_add(ld(sg + c), ld(psg + c)));
        st(sgd + c, wasm_f32x4_add(ld(sgd + c), ld(psgd + c)));
      }
    }
    team_reduce(sg, 2 * C); // sg and sgd are adjacent
    // dh = k·g + d·a + b with a = −k·r²·Σgd/M, b = −k·Σg/M (psg/psgd reused for a and b; k in sgd's
    // slot once dgamma/dbeta have taken the sums).
    for (int c = 0; c < C; c += VL) {
      const v r = ld(rs + c), k = wasm_f32x4_mul(ld(gamma + c), r);
      const v rsgd = wasm_f32x4_mul(r, ld(sgd + c));
      if (own_params) {
        st(dgamma + c, wasm_f32x4_add(ld(dgamma + c), rsgd));
        st(dbeta + c, wasm_f32x4_add(ld(dbeta + c), ld(sg + c)));
      }
      st(psgd + c, wasm_f32x4_neg(wasm_f32x4_mul(wasm_f32x4_mul(k, wasm_f32x4_mul(r, rsgd)), invM)));
      st(psg + c, wasm_f32x4_neg(wasm_f32x4_mul(wasm_f32x4_mul(k, ld(sg + c)), invM)));
      st(sgd + c, k);
    }
    for (int m = 0; m < M; m++) {
      const long o = base + (long)m * C;
      for (int c = 0; c < C; c += VL) {
        v gv = ld(dy + o + c);
        if (relu) gv = wasm_v128_and(gv, wasm_f32x4_gt(ld(y + o + c), zero));
        const v d = wasm_f32x4_sub(ld(h + o + c), ld(mu + c));
        st(dh + o + c, wasm_f32x4_add(mad(ld(psg + c), d, ld(psgd + c)), wasm_f32x4_mul(gv, ld(sgd + c))));
      }
    }
  }
}
