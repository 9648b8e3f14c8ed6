// Stands in for clang's <wasm_simd128.h> when kernels.c is compiled natively for x86-64
// (scripts/build-native.mjs puts this folder first on the include path). `v` becomes an x86 vector
// of VL floats — 4 (SSE, VEX-encoded), 8 (AVX2) or 16 (AVX-512F) — and each wasm SIMD operation
// kernels.c uses becomes the instruction that gives, lane for lane, the result the wasm operation
// gives under V8 on an FMA machine (V8 lowers f32x4.relaxed_madd to vfmadd). With -ffp-contract=off
// nothing else is fused, so every VL computes bit for bit what the relaxed-SIMD wasm build computes.
// The names keep wasm's "f32x4" though they are VL wide. Only the operations kernels.c uses are here:
// a new one there fails to compile here, on purpose.
#ifndef FAST_ADVPROP_WASM_SIMD_SHIM_H
#define FAST_ADVPROP_WASM_SIMD_SHIM_H
#include <immintrin.h>

#if VL == 4
typedef __m128 v128_t;
#define X(op) _mm_##op
#elif VL == 8
typedef __m256 v128_t;
#define X(op) _mm256_##op
#elif VL == 16
typedef __m512 v128_t;
#define X(op) _mm512_##op
#else
#error "VL must be 4, 8 or 16"
#endif

static inline v128_t wasm_v128_load(const void *p) { return X(loadu_ps)((const float *)p); }
static inline void wasm_v128_store(void *p, v128_t a) { X(storeu_ps)((float *)p, a); }
static inline v128_t wasm_v128_load32_splat(const void *p) { return X(set1_ps)(*(const float *)p); }
static inline v128_t wasm_f32x4_splat(float x) { return X(set1_ps)(x); }
static inline float wasm_f32x4_extract_lane_0(v128_t a) { return X(cvtss_f32)(a); }
#define wasm_f32x4_extract_lane(a, i) wasm_f32x4_extract_lane_##i(a)
static inline v128_t wasm_f32x4_add(v128_t a, v128_t b) { return X(add_ps)(a, b); }
static inline v128_t wasm_f32x4_sub(v128_t a, v128_t b) { return X(sub_ps)(a, b); }
static inline v128_t wasm_f32x4_mul(v128_t a, v128_t b) { return X(mul_ps)(a, b); }
static inline v128_t wasm_f32x4_div(v128_t a, v128_t b) { return X(div_ps)(a, b); }
static inline v128_t wasm_f32x4_sqrt(v128_t a) { return X(sqrt_ps)(a); }
// kernels.c's RELAXED mad: a·b + c with one rounding.
#define __builtin_wasm_relaxed_madd_f32x4(a, b, c) X(fmadd_ps)((a), (b), (c))

#if VL == 16
// AVX-512F has no float and/xor (that is DQ) and compares into mask registers.
static inline v128_t and_ps_(v128_t a, v128_t b) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
static inline v128_t wasm_f32x4_neg(v128_t a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u))); }
static inline v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return _mm512_castsi512_ps(_mm512_maskz_set1_epi32(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), -1)); }
static inline v128_t wasm_v128_and(v128_t a, v128_t b) { return and_ps_(a, b); }
static inline v128_t wasm_f32x4_max(v128_t a, v128_t b) {
  const v128_t m = and_ps_(_mm512_max_ps(a, b), _mm512_max_ps(b, a));
  return _mm512_mask_add_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}
#else
static inline v128_t wasm_f32x4_neg(v128_t a) { return X(xor_ps)(a, X(set1_ps)(-0.0f)); }
#if VL == 4
static inline v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return _mm_cmpgt_ps(a, b); }
static inline v128_t unord_(v128_t a, v128_t b) { return _mm_cmpunord_ps(a, b); }
#else
static inline v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline v128_t unord_(v128_t a, v128_t b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
#endif
static inline v128_t wasm_v128_and(v128_t a, v128_t b) { return X(and_ps)(a, b); }
// wasm's max: NaN if either lane is NaN, and +0 over −0. maxps alone returns its second operand in
// both cases; the two orders agree except there, and ANDing them picks +0; a NaN lane takes a + b.
static inline v128_t wasm_f32x4_max(v128_t a, v128_t b) {
  const v128_t m = X(and_ps)(X(max_ps)(a, b), X(max_ps)(b, a));
  return X(blendv_ps)(m, X(add_ps)(a, b), unord_(a, b));
}
#endif
#endif
