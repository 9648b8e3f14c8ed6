// kernels.c compiled natively for x86-64 with AVX2 + FMA (scripts/build-native.mjs): the same
// source as the wasm modules, its wasm SIMD operations mapped to SSE/FMA by ./wasm_simd128.h, and
// RELAXED on, so that every multiply-add is one fused FMA exactly as in the relaxed-SIMD wasm build.
// The export/import attributes of the wasm build mean nothing here (hence -Wno-unknown-attributes).
#define RELAXED 1
#include "../kernels.c"
