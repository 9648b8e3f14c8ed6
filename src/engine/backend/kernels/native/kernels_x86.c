// kernels.c compiled natively for x86-64 (scripts/build-native.mjs compiles this file three times,
// with VL 4, 8 and 16: SSE/AVX2/AVX-512 vectors): the same source as the wasm modules, its wasm SIMD
// operations mapped by ./wasm_simd128.h, and RELAXED on, so that every multiply-add is one fused FMA
// exactly as in the relaxed-SIMD wasm build. Each width's kernels get the suffix _v<VL> (addon.c
// picks the widest one a call's shape and the CPU allow). The export/import attributes of the wasm
// build mean nothing here (hence -Wno-unknown-attributes / -Wno-attributes).
#define RELAXED 1
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define SUFFIX(name) CAT(CAT(name, _v), VL)
#define conv2d SUFFIX(conv2d)
#define conv2d_filter_grad SUFFIX(conv2d_filter_grad)
#define conv2d_input_grad SUFFIX(conv2d_input_grad)
#define bn_forward SUFFIX(bn_forward)
#define bn_backward SUFFIX(bn_backward)
// peak_mad is not exported: gcc sees that its 12 chains are equal and computes one (clang's wasm
// build keeps them apart), so natively it would not measure a ceiling.
#define peak_mad SUFFIX(peak_mad)
#include "../kernels.c"
