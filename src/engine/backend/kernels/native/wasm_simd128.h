// Stands in for clang's <wasm_simd128.h> when kernels.c is compiled natively for x86-64
// (scripts/build-native.mjs puts this folder first on the include path): each wasm SIMD operation
// kernels.c uses, as the SSE/AVX instruction with the same result bit for bit, so that the native
// build computes exactly what the relaxed-SIMD wasm build computes under V8 on an FMA machine (V8
// lowers f32x4.relaxed_madd to vfmadd, and every other op here to the instruction used below).
// Only the operations kernels.c uses are here; a new one there fails to compile here, on purpose.
#ifndef FAST_ADVPROP_WASM_SIMD_SHIM_H
#define FAST_ADVPROP_WASM_SIMD_SHIM_H
#include <immintrin.h>

typedef __m128 v128_t;

static inline v128_t wasm_v128_load(const void *p) { return _mm_loadu_ps((const float *)p); }
static inline void wasm_v128_store(void *p, v128_t a) { _mm_storeu_ps((float *)p, a); }
static inline v128_t wasm_v128_load32_splat(const void *p) { return _mm_set1_ps(*(const float *)p); }
static inline v128_t wasm_f32x4_splat(float x) { return _mm_set1_ps(x); }
static inline float wasm_f32x4_extract_lane_0(v128_t a) { return _mm_cvtss_f32(a); }
#define wasm_f32x4_extract_lane(a, i) wasm_f32x4_extract_lane_##i(a)
static inline v128_t wasm_f32x4_add(v128_t a, v128_t b) { return _mm_add_ps(a, b); }
static inline v128_t wasm_f32x4_sub(v128_t a, v128_t b) { return _mm_sub_ps(a, b); }
static inline v128_t wasm_f32x4_mul(v128_t a, v128_t b) { return _mm_mul_ps(a, b); }
static inline v128_t wasm_f32x4_div(v128_t a, v128_t b) { return _mm_div_ps(a, b); }
static inline v128_t wasm_f32x4_sqrt(v128_t a) { return _mm_sqrt_ps(a); }
static inline v128_t wasm_f32x4_neg(v128_t a) { return _mm_xor_ps(a, _mm_set1_ps(-0.0f)); }
static inline v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return _mm_cmpgt_ps(a, b); }
static inline v128_t wasm_v128_and(v128_t a, v128_t b) { return _mm_and_ps(a, b); }
// wasm's max: NaN if either lane is NaN, and +0 over −0. maxps alone returns its second operand in
// both cases; the two orders agree except there, and ANDing them picks +0; a NaN lane takes a + b.
static inline v128_t wasm_f32x4_max(v128_t a, v128_t b) {
  const v128_t m = _mm_and_ps(_mm_max_ps(a, b), _mm_max_ps(b, a));
  return _mm_blendv_ps(m, _mm_add_ps(a, b), _mm_cmpunord_ps(a, b));
}
// kernels.c's RELAXED mad: a·b + c with one rounding.
#define __builtin_wasm_relaxed_madd_f32x4(a, b, c) _mm_fmadd_ps((a), (b), (c))
#endif
