// N-API addon: one JPEG crop decoded with libjpeg-turbo's partial decode and resized, for the
// streaming loader (turboJpeg.ts). A random-resized crop covers about half the picture on average;
// libjpeg-turbo skips the inverse DCT and colour conversion of the columns left and right of it
// (jpeg_crop_scanline) and of the rows above it (jpeg_skip_scanlines), and stops reading at its last
// row, where sharp/libvips decodes every pixel of the file. The decoded pixels are bit for bit those
// of a whole-picture decode (sharp's, which uses the same libjpeg-turbo arithmetic).
//
// decode_crop(jpeg, denom, left, top, width, height) -> Buffer of height × width × 3 RGB bytes: the
//   box in the coordinates of the picture scaled by 1/denom on load (1, 2, 4 or 8: DCT scaling).
// decode_only(jpeg, denom, left, top, width, height): the same decode, its pixels kept nowhere (the
//   bench's ceiling of the loader).
// decode_resize(jpeg, denom, left, top, width, height, flip, ys, yc, yw, yspan, xs, xc, xw, xspan, into)
//   writes ys.length × xs.length × 3 bytes into the Uint8Array `into` (exactly that long): the box
//   (coordinates as for decode_crop) resized with resize.ts' weights by the arithmetic of
//   resizeKernel.c (same float32 operations in the same order, so the same bytes as resizeRgb),
//   mirrored when flip is true.
// Both throw for anything this path does not take as it is: a libjpeg error *or warning* (a
// truncated or corrupt file), CMYK/YCCK, a box outside the picture, over 100 megapixels. The caller
// then hands the file to the general decoder (sharp), which decodes it or reports it, so a bad
// file is treated exactly as before.
//
// Compiled for baseline x86-64 (SSE2) with -ffp-contract=off: no multiply is fused into an add. The
// resize picks AVX2 or AVX-512 code at run time where the CPU has it; every level computes each
// element with the same float operations in the same order, so all give the same bytes.
// simd() -> the level in use ("sse2", "avx2", "avx512"); simd(name) lowers it, for tests.
#include <node_api.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <immintrin.h>

typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ErrorState;

static void on_error(j_common_ptr cinfo) {
  ErrorState *e = (ErrorState *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

// libjpeg reports a truncated or corrupt stream as a warning and fills in grey; here it is an error,
// so that the file goes to the general decoder and its rules.
static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// Per-thread scratch (each loader worker is a thread), kept between calls: a fresh buffer of a few
// hundred KB per image is a fresh mmap, and its page faults cost a tenth of the decode.
typedef struct {
  void *p;
  size_t size;
} Scratch;
static __thread Scratch scratch_crop, scratch_floats, scratch_plan;

// A decode thread's env is torn down on that thread when the loader closes: free its scratch there,
// or every StreamLoader a process opens (bench opens several) would leave its threads' buffers behind.
static void free_scratch(void *arg) {
  (void)arg;
  Scratch *all[] = {&scratch_crop, &scratch_floats, &scratch_plan};
  for (int i = 0; i < 3; i++) {
    free(all[i]->p);
    all[i]->p = NULL;
    all[i]->size = 0;
  }
}

static void *scratch(Scratch *s, size_t size) {
  if (s->size < size) {
    free(s->p);
    s->p = malloc(size);
    s->size = s->p ? size : 0;
  }
  return s->p;
}

/**
 * Decodes the box (in the picture scaled by 1/denom) into this thread's scratch, valid until the
 * next call: `height` rows `*stride` bytes apart, the box's first pixel at the returned pointer.
 * libjpeg-turbo writes the rows there directly (a copy per row cost a tenth of the decode).
 * Returns NULL with `why` filled in on any failure.
 */
static uint8_t *decode_box(const uint8_t *data, size_t length, int denom, int left, int top, int width, int height, size_t *stride, char *why, size_t whyLen) {
  struct jpeg_decompress_struct cinfo;
  ErrorState err;
  uint8_t *out = NULL;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_error;
  err.mgr.emit_message = on_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    snprintf(why, whyLen, "libjpeg-turbo: %s", err.message[0] ? err.message : "decode failed");
    return NULL;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    snprintf(err.message, sizeof err.message, "CMYK/YCCK is left to the general decoder");
    longjmp(err.jump, 1);
  }
  if ((double)cinfo.image_width * cinfo.image_height > 100e6) {
    snprintf(err.message, sizeof err.message, "over 100 megapixels");
    longjmp(err.jump, 1);
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  jpeg_start_decompress(&cinfo);
  const int W = cinfo.output_width, H = cinfo.output_height;
  if (left + width > W || top + height > H) {
    snprintf(err.message, sizeof err.message, "box %d,%d %dx%d outside the %dx%d picture", left, top, width, height, W, H);
    longjmp(err.jump, 1);
  }
  // The decoded columns reach PAD pixels past the box on each side: fancy chroma upsampling at the
  // edge of a cropped scanline has no neighbour and replicates the edge, so without the margin the
  // box's border pixels would differ from a whole-picture decode. libjpeg-turbo then moves the
  // start left to an iMCU boundary; output_width is the resulting width.
  enum { PAD = 4 };
  const int x0 = left > PAD ? left - PAD : 0, x1 = left + width + PAD < W ? left + width + PAD : W;
  JDIMENSION xoff = x0, cw = x1 - x0;
  if (x1 - x0 < W) jpeg_crop_scanline(&cinfo, &xoff, &cw);
  const int skipLeft = left - (int)xoff;
  if (top > 0) jpeg_skip_scanlines(&cinfo, top);
  *stride = (size_t)cinfo.output_width * 3;
  // 64 bytes of slack: vertical_avx512 reads whole 64-byte steps.
  out = scratch(&scratch_crop, *stride * height + 64);
  if (!out || cinfo.output_components != 3) {
    snprintf(err.message, sizeof err.message, !out ? "out of memory" : "unexpected output (%d components)", cinfo.output_components);
    longjmp(err.jump, 1);
  }
  for (int y = 0; y < height; y++) {
    JSAMPROW rp = out + (size_t)y * *stride;
    if (jpeg_read_scanlines(&cinfo, &rp, 1) != 1) {
      snprintf(err.message, sizeof err.message, "stream ended at row %d", top + y);
      longjmp(err.jump, 1);
    }
  }
  // The rows below the box are never decoded.
  jpeg_abort_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out + (size_t)skipLeft * 3;
}

// The vertical pass of one output row: row[i] = Σ_k wy[k]·src[(s+k)·stride + i], summed from 0 in
// tap order, 16 bytes at a time (AVX2: 32), then the scalar tail. Every width computes each element
// with the same float operations in the same order, so the results are identical.
#define VERTICAL_TAIL                                                            \
  for (; i < rowLen; i++) {                                                      \
    float a = 0.f;                                                               \
    for (int k = 0; k < n; k++) a += wy[k] * src[(size_t)(s + k) * stride + i]; \
    row[i] = a;                                                                  \
  }

static void vertical_sse2(const uint8_t *src, size_t stride, int rowLen, int s, int n, const float *wy, float *row) {
  const __m128i zero = _mm_setzero_si128();
  int i = 0;
  for (; i + 16 <= rowLen; i += 16) {
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < n; k++) {
      const __m128i b = _mm_loadu_si128((const __m128i *)(src + (size_t)(s + k) * stride + i));
      const __m128 f = _mm_set1_ps(wy[k]);
      const __m128i lo = _mm_unpacklo_epi8(b, zero), hi = _mm_unpackhi_epi8(b, zero);
      a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero)), f));
      a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero)), f));
      a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero)), f));
      a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero)), f));
    }
    _mm_storeu_ps(row + i, a0);
    _mm_storeu_ps(row + i + 4, a1);
    _mm_storeu_ps(row + i + 8, a2);
    _mm_storeu_ps(row + i + 12, a3);
  }
  VERTICAL_TAIL
}

__attribute__((target("avx2"))) static void vertical_avx2(const uint8_t *src, size_t stride, int rowLen, int s, int n, const float *wy, float *row) {
  int i = 0;
  for (; i + 32 <= rowLen; i += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < n; k++) {
      const uint8_t *p = src + (size_t)(s + k) * stride + i;
      const __m256 f = _mm256_set1_ps(wy[k]);
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p))), f));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)))), f));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 16)))), f));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 24)))), f));
    }
    _mm256_storeu_ps(row + i, a0);
    _mm256_storeu_ps(row + i + 8, a1);
    _mm256_storeu_ps(row + i + 16, a2);
    _mm256_storeu_ps(row + i + 24, a3);
  }
  VERTICAL_TAIL
}

// vertical_avx2 64 columns a step (AVX-512), whole steps only: the last one reads up to 63 bytes past
// the row (the crop scratch has that slack) and writes up to 63 floats past it (row_stride has room);
// those floats are never read.
__attribute__((target("avx512f"))) static void vertical_avx512(const uint8_t *src, size_t stride, int rowLen, int s, int n, const float *wy, float *row) {
  for (int i = 0; i < rowLen; i += 64) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < n; k++) {
      const uint8_t *p = src + (size_t)(s + k) * stride + i;
      const __m512 f = _mm512_set1_ps(wy[k]);
      a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p))), f));
      a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 16)))), f));
      a2 = _mm512_add_ps(a2, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 32)))), f));
      a3 = _mm512_add_ps(a3, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 48)))), f));
    }
    _mm512_storeu_ps(row + i, a0);
    _mm512_storeu_ps(row + i + 16, a1);
    _mm512_storeu_ps(row + i + 32, a2);
    _mm512_storeu_ps(row + i + 48, a3);
  }
}

// The horizontal pass of one output row: output pixel j is source column ox (mirrored: outW-1-j),
// one f32x4 multiply-add per tap for its three channels. Each pixel's store of four lanes puts its
// fourth on pixel j+1's first float, which the next store overwrites; `orow` has a spare float for
// the last. 0 + x is x exactly (every product here is ≥ +0), so starting a two-tap pixel (the
// common case when enlarging) from its first product changes nothing.
static void horizontal(const float *row, float *orow, int outW, const int32_t *xs, const int32_t *xc, const float *xw, int xspan, int flip) {
  for (int j = 0; j < outW; j++) {
    const int ox = flip ? outW - 1 - j : j;
    const float *wx = xw + (size_t)ox * xspan;
    const float *p = row + xs[ox] * 3;
    const int m = xc[ox];
    __m128 acc;
    if (m == 2) {
      acc = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(p), _mm_set1_ps(wx[0])), _mm_mul_ps(_mm_loadu_ps(p + 3), _mm_set1_ps(wx[1])));
    } else {
      acc = _mm_setzero_ps();
      for (int k = 0; k < m; k++, p += 3) acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(p), _mm_set1_ps(wx[k])));
    }
    _mm_storeu_ps(orow + j * 3, acc);
  }
}

// The same horizontal pass for four output rows at once (AVX encoding): each tap's weight is
// broadcast once and each source pixel, column offset and loop step serve four rows, which
// roughly halves the pass's instructions; every element still gets the same multiplies and adds in
// the same order. Each pixel starts from its first product instead of 0 + it: the same float, since
// weights and pixels are ≥ +0.
__attribute__((target("avx2"))) static void horizontal4_avx2(const float *r0, size_t rowStride, float *o0, size_t outStride, int outW, const int32_t *xs, const int32_t *xc, const float *xw, int xspan, int flip) {
  const float *r1 = r0 + rowStride, *r2 = r1 + rowStride, *r3 = r2 + rowStride;
  float *o1 = o0 + outStride, *o2 = o1 + outStride, *o3 = o2 + outStride;
  for (int j = 0; j < outW; j++) {
    const int ox = flip ? outW - 1 - j : j;
    const float *wx = xw + (size_t)ox * xspan;
    const int m = xc[ox];
    size_t p = (size_t)xs[ox] * 3;
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    if (m > 0) {
      const __m128 f = _mm_broadcast_ss(wx);
      a0 = _mm_mul_ps(_mm_loadu_ps(r0 + p), f);
      a1 = _mm_mul_ps(_mm_loadu_ps(r1 + p), f);
      a2 = _mm_mul_ps(_mm_loadu_ps(r2 + p), f);
      a3 = _mm_mul_ps(_mm_loadu_ps(r3 + p), f);
      for (int k = 1; k < m; k++) {
        p += 3;
        const __m128 g = _mm_broadcast_ss(wx + k);
        a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_loadu_ps(r0 + p), g));
        a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_loadu_ps(r1 + p), g));
        a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_loadu_ps(r2 + p), g));
        a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_loadu_ps(r3 + p), g));
      }
    }
    _mm_storeu_ps(o0 + j * 3, a0);
    _mm_storeu_ps(o1 + j * 3, a1);
    _mm_storeu_ps(o2 + j * 3, a2);
    _mm_storeu_ps(o3 + j * 3, a3);
  }
}

// One output row's floats to bytes. Round to nearest even (the default rounding mode), then
// saturate to 16 and to 8 bits: wasm's trunc_sat(nearest(x)) and its two saturating narrows, that
// is, clamp to 0..255 (out of range and NaN convert to INT_MIN, hence 0). A batch is far larger
// than the cache, so where the row is 16-byte aligned (always, in a loader batch) the bytes go
// straight to memory (non-temporal stores) rather than first reading each line in: that read was
// most of this function's time. decode_resize fences them before it returns.
#define ROUND_TAIL                                       \
  for (; j < outLen; j++) {                              \
    const int r = _mm_cvtss_si32(_mm_set_ss(orow[j]));   \
    o[j] = r < 0 ? 0 : r > 255 ? 255 : (uint8_t)r;       \
  }
#define STORE16(p, v)                                                 \
  do {                                                                \
    if (stream) _mm_stream_si128((__m128i *)(p), v);                  \
    else _mm_storeu_si128((__m128i *)(p), v);                         \
  } while (0)

static void round_row_sse2(const float *orow, uint8_t *o, int outLen) {
  const int stream = ((uintptr_t)o & 15) == 0;
  int j = 0;
  for (; j + 16 <= outLen; j += 16) {
    const __m128i i0 = _mm_cvtps_epi32(_mm_loadu_ps(orow + j)), i1 = _mm_cvtps_epi32(_mm_loadu_ps(orow + j + 4));
    const __m128i i2 = _mm_cvtps_epi32(_mm_loadu_ps(orow + j + 8)), i3 = _mm_cvtps_epi32(_mm_loadu_ps(orow + j + 12));
    STORE16(o + j, _mm_packus_epi16(_mm_packs_epi32(i0, i1), _mm_packs_epi32(i2, i3)));
  }
  ROUND_TAIL
}

// The same clamp with AVX-512: max with 0, then an unsigned saturating narrow to bytes.
__attribute__((target("avx512f"))) static void round_row_avx512(const float *orow, uint8_t *o, int outLen) {
  const int stream = ((uintptr_t)o & 15) == 0;
  const __m512i zero = _mm512_setzero_si512();
  int j = 0;
  for (; j + 16 <= outLen; j += 16) STORE16(o + j, _mm512_cvtusepi32_epi8(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_loadu_ps(orow + j)), zero)));
  ROUND_TAIL
}

// The widest vector code this CPU runs, and the level in use (lowered only by tests, through simd()).
enum { SSE2, AVX2, AVX512 };
static const char *const SIMD_NAMES[] = {"sse2", "avx2", "avx512"};
static int simd_best, simd_level;

/**
 * Floats of one vertical-pass row: whole 64-column steps (vertical_avx512), a spare float, and room
 * for horizontal4_perm's 32-float window from any pixel of the row.
 */
static size_t row_stride(int w) {
  return ((size_t)w * 3 + 63) / 64 * 64 + 32;
}

static void round_row(const float *orow, uint8_t *o, int outLen) {
  (simd_level == AVX512 ? round_row_avx512 : round_row_sse2)(orow, o, outLen);
}

/** Floats of scratch resize_rgb needs for a source `w` pixels wide and an output `outW` wide. */
static size_t resize_scratch_floats(int w, int outW) {
  return 4 * row_stride(w) + 4 * ((size_t)outW * 3 + 16);
}

// The horizontal pass as permutes (AVX-512): G output pixels (3G ≤ 15 lanes) at a time, whose taps
// all lie in a 32-float window of the row; per tap, one two-register permute brings each lane its
// source float, then one multiply and one add for all G pixels, where horizontal4_avx2 spends a
// multiply and an add per pixel. A plan, made per call from the weights, holds each group's window
// start and, per tap, each lane's window index and weight. A lane with fewer taps than the most in
// the plan gets weight 0 for the rest, on a float it already read: + (x · 0) adds +0, which changes
// nothing, so every lane still gets horizontal()'s products and sums in its order.
typedef struct {
  int G, K, groups;
  int32_t *base;   // [groups] first float of each group's window
  int32_t *index;  // [groups][K][16] window index per lane
  float *weight;   // [groups][K][16] weight per lane
} PermPlan;

/** Fills `plan` for G = 5, 4 or 3 pixels a group, the most whose windows fit 32 floats; 0 when none do. */
static int perm_plan(PermPlan *plan, int outW, const int32_t *xs, const int32_t *xc, const float *xw, int xspan, int flip) {
  int K = 1;
  for (int o = 0; o < outW; o++)
    if (xc[o] > K) K = xc[o];
  for (int G = 5; G >= 3; G--) {
    const int groups = (outW + G - 1) / G;
    int fits = 1;
    for (int q = 0; q < groups && fits; q++) {
      int lo = 1 << 30, hi = 0;
      for (int p = 0; p < G && q * G + p < outW; p++) {
        const int j = q * G + p, ox = flip ? outW - 1 - j : j;
        if (xc[ox] == 0) continue;
        if (xs[ox] < lo) lo = xs[ox];
        if (xs[ox] + xc[ox] > hi) hi = xs[ox] + xc[ox];
      }
      fits = hi == 0 || (hi - lo) * 3 <= 32;
    }
    if (!fits) continue;
    const size_t n = (size_t)groups * K * 16;
    char *mem = scratch(&scratch_plan, groups * sizeof(int32_t) + n * (sizeof(int32_t) + sizeof(float)));
    if (!mem) return 0;
    plan->G = G;
    plan->K = K;
    plan->groups = groups;
    plan->index = (int32_t *)mem;
    plan->weight = (float *)(mem + n * sizeof(int32_t));
    plan->base = (int32_t *)(mem + n * (sizeof(int32_t) + sizeof(float)));
    for (int q = 0; q < groups; q++) {
      int lo = 1 << 30;
      for (int p = 0; p < G && q * G + p < outW; p++) {
        const int j = q * G + p, ox = flip ? outW - 1 - j : j;
        if (xc[ox] > 0 && xs[ox] < lo) lo = xs[ox];
      }
      if (lo == 1 << 30) lo = 0;
      plan->base[q] = lo * 3;
      for (int k = 0; k < K; k++) {
        int32_t *ix = plan->index + ((size_t)q * K + k) * 16;
        float *wt = plan->weight + ((size_t)q * K + k) * 16;
        for (int l = 0; l < 16; l++) {
          const int p = l / 3, c = l % 3, j = q * G + p;
          ix[l] = 0;
          wt[l] = 0.f;
          if (p >= G || j >= outW) continue;
          const int ox = flip ? outW - 1 - j : j, m = xc[ox];
          if (m == 0) continue;
          ix[l] = (xs[ox] - lo + (k < m ? k : m - 1)) * 3 + c;
          wt[l] = k < m ? xw[(size_t)ox * xspan + k] : 0.f;
        }
      }
    }
    return 1;
  }
  return 0;
}

// Four rows through a plan. Groups go in output order, so each group's store of 16 floats puts its
// spare lanes on the next group's first floats, which that group then writes (the output rows have
// room for the last group's). The windows may reach past a row's end: row_stride has room, and no
// lane's index points there.
__attribute__((target("avx512f"))) static void horizontal4_perm(const float *r0, size_t rowStride, float *o0, size_t outStride, const PermPlan *plan) {
  const int G = plan->G, K = plan->K;
  for (int q = 0; q < plan->groups; q++) {
    const float *p = r0 + plan->base[q];
    const __m512 lo0 = _mm512_loadu_ps(p), hi0 = _mm512_loadu_ps(p + 16);
    const __m512 lo1 = _mm512_loadu_ps(p + rowStride), hi1 = _mm512_loadu_ps(p + rowStride + 16);
    const __m512 lo2 = _mm512_loadu_ps(p + 2 * rowStride), hi2 = _mm512_loadu_ps(p + 2 * rowStride + 16);
    const __m512 lo3 = _mm512_loadu_ps(p + 3 * rowStride), hi3 = _mm512_loadu_ps(p + 3 * rowStride + 16);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const int32_t *ix = plan->index + (size_t)q * K * 16;
    const float *wt = plan->weight + (size_t)q * K * 16;
    for (int k = 0; k < K; k++, ix += 16, wt += 16) {
      const __m512i i = _mm512_loadu_si512(ix);
      const __m512 f = _mm512_loadu_ps(wt);
      a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_permutex2var_ps(lo0, i, hi0), f));
      a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_permutex2var_ps(lo1, i, hi1), f));
      a2 = _mm512_add_ps(a2, _mm512_mul_ps(_mm512_permutex2var_ps(lo2, i, hi2), f));
      a3 = _mm512_add_ps(a3, _mm512_mul_ps(_mm512_permutex2var_ps(lo3, i, hi3), f));
    }
    float *o = o0 + (size_t)q * G * 3;
    _mm512_storeu_ps(o, a0);
    _mm512_storeu_ps(o + outStride, a1);
    _mm512_storeu_ps(o + 2 * outStride, a2);
    _mm512_storeu_ps(o + 3 * outStride, a3);
  }
}

/**
 * resizeKernel.c's resize_rgb natively: the same float32 operations in the same order, so the same
 * bytes as resizeRgb; source rows `stride` bytes apart; `flip` mirrors each output row. `rows`
 * holds resize_scratch_floats(w, outW) floats.
 */
static void resize_rgb(const uint8_t *src, size_t stride, int w, uint8_t *out, int outH, int outW, const int32_t *ys, const int32_t *yc,
                       const float *yw, int yspan, const int32_t *xs, const int32_t *xc, const float *xw, int xspan, float *rows, int flip) {
  const int rowLen = w * 3, outLen = outW * 3;
  // Four vertical-pass rows (row_stride), then four output rows, each with 16 spare floats for the
  // spare lanes of the last pixel's or group's store.
  const size_t rowStride = row_stride(w), outStride = (size_t)outLen + 16;
  float *orows = rows + 4 * rowStride;
  void (*vertical)(const uint8_t *, size_t, int, int, int, const float *, float *) = simd_level == AVX512 ? vertical_avx512 : simd_level == AVX2 ? vertical_avx2 : vertical_sse2;
  PermPlan plan;
  const int perm = simd_level == AVX512 && perm_plan(&plan, outW, xs, xc, xw, xspan, flip);
  int oy = 0;
  if (simd_level >= AVX2) {
    for (; oy + 4 <= outH; oy += 4) {
      for (int r = 0; r < 4; r++) {
        float *row = rows + r * rowStride;
        vertical(src, stride, rowLen, ys[oy + r], yc[oy + r], yw + (size_t)(oy + r) * yspan, row);
        row[rowLen] = 0.f;
      }
      if (perm) horizontal4_perm(rows, rowStride, orows, outStride, &plan);
      else horizontal4_avx2(rows, rowStride, orows, outStride, outW, xs, xc, xw, xspan, flip);
      for (int r = 0; r < 4; r++) round_row(orows + r * outStride, out + (size_t)(oy + r) * outLen, outLen);
    }
  }
  for (; oy < outH; oy++) {
    vertical(src, stride, rowLen, ys[oy], yc[oy], yw + (size_t)oy * yspan, rows);
    rows[rowLen] = 0.f;
    horizontal(rows, orows, outW, xs, xc, xw, xspan, flip);
    round_row(orows, out + (size_t)oy * outLen, outLen);
  }
}

/** The bytes of a Uint8Array argument, or NULL. */
static const uint8_t *u8_arg(napi_env env, napi_value v, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_get_typedarray_info(env, v, &type, length, &data, NULL, NULL);
  return type == napi_uint8_array && *length > 0 ? data : NULL;
}

/** An Int32Array / Float32Array argument of exactly `want` elements, or NULL. */
static const void *typed_arg(napi_env env, napi_value v, napi_typedarray_type want_type, size_t want) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL);
  return type == want_type && length == want ? data : NULL;
}

static int int_args(napi_env env, napi_value *argv, int n, int32_t *out) {
  for (int i = 0; i < n; i++)
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) return 0;
  return 1;
}

/** The (jpeg, denom, left, top, width, height) every entry point starts with. */
typedef struct {
  const uint8_t *data;
  size_t length;
  int denom, left, top, width, height;
} BoxArgs;

/** argv[0..5] read into `b` when there are `want` arguments; 0 when they are not (jpeg, 5 integers). */
static int box_read(napi_env env, napi_value *argv, size_t argc, size_t want, BoxArgs *b) {
  int32_t a[5];
  b->data = argc == want ? u8_arg(env, argv[0], &b->length) : NULL;
  if (!b->data || !int_args(env, argv + 1, 5, a)) return 0;
  b->denom = a[0], b->left = a[1], b->top = a[2], b->width = a[3], b->height = a[4];
  return 1;
}

/** Throws (named after `fn`) and returns 0 for a DCT scale libjpeg-turbo lacks or an empty or negative box. */
static int box_check(napi_env env, const char *fn, const BoxArgs *b) {
  char msg[64];
  if (b->denom != 1 && b->denom != 2 && b->denom != 4 && b->denom != 8) snprintf(msg, sizeof msg, "%s: denom must be 1, 2, 4 or 8", fn);
  else if (b->left < 0 || b->top < 0 || b->width < 1 || b->height < 1) snprintf(msg, sizeof msg, "%s: empty or negative box", fn);
  else return 1;
  napi_throw_error(env, NULL, msg);
  return 0;
}

static napi_value js_decode_crop(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  BoxArgs b;
  if (!box_read(env, argv, argc, 6, &b)) return fail(env, "decode_crop: expected (jpeg: Uint8Array, denom, left, top, width, height)");
  if (!box_check(env, "decode_crop", &b)) return NULL;
  char why[JMSG_LENGTH_MAX + 32];
  size_t stride = 0;
  const uint8_t *crop = decode_box(b.data, b.length, b.denom, b.left, b.top, b.width, b.height, &stride, why, sizeof why);
  if (!crop) return fail(env, why);
  napi_value result;
  uint8_t *out = NULL;
  if (napi_create_buffer(env, (size_t)b.width * b.height * 3, (void **)&out, &result) != napi_ok) return fail(env, "decode_crop: out of memory");
  for (int y = 0; y < b.height; y++) memcpy(out + (size_t)y * b.width * 3, crop + (size_t)y * stride, (size_t)b.width * 3);
  return result;
}

// decode_only(jpeg, denom, left, top, width, height): decode_resize's decode and nothing else (the
// box into this thread's scratch, kept nowhere), for the bench's ceiling of the turbo loader.
static napi_value js_decode_only(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  BoxArgs b;
  if (!box_read(env, argv, argc, 6, &b)) return fail(env, "decode_only: expected (jpeg: Uint8Array, denom, left, top, width, height)");
  if (!box_check(env, "decode_only", &b)) return NULL;
  char why[JMSG_LENGTH_MAX + 32];
  size_t stride = 0;
  if (!decode_box(b.data, b.length, b.denom, b.left, b.top, b.width, b.height, &stride, why, sizeof why)) return fail(env, why);
  return NULL;
}

/** One axis' weights (resize.ts' AxisWeights) checked against the source size: every tap inside it. */
typedef struct {
  const int32_t *start, *count;
  const float *w;
  int span, n;
} Axis;

static int axis_arg(napi_env env, napi_value *argv, int source, Axis *a) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t n = 0;
  void *data = NULL;
  int32_t span = 0;
  if (napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed) return 0;
  napi_get_typedarray_info(env, argv[0], &type, &n, &data, NULL, NULL);
  if (type != napi_int32_array || n < 1 || n > 4096 || napi_get_value_int32(env, argv[3], &span) != napi_ok || span < 1 || span > 4096) return 0;
  a->start = data;
  a->n = (int)n;
  a->span = span;
  a->count = typed_arg(env, argv[1], napi_int32_array, n);
  a->w = typed_arg(env, argv[2], napi_float32_array, n * (size_t)span);
  if (!a->count || !a->w) return 0;
  for (size_t o = 0; o < n; o++)
    if (a->start[o] < 0 || a->count[o] < 0 || a->count[o] > span || a->start[o] + a->count[o] > source) return 0;
  return 1;
}

static napi_value js_decode_resize(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t intoLength = 0;
  BoxArgs b;
  bool flip = false;
  if (!box_read(env, argv, argc, 16, &b) || napi_get_value_bool(env, argv[6], &flip) != napi_ok)
    return fail(env, "decode_resize: expected (jpeg: Uint8Array, denom, left, top, width, height, flip, ys, yc, yw, yspan, xs, xc, xw, xspan, into: Uint8Array)");
  if (!box_check(env, "decode_resize", &b)) return NULL;
  const int width = b.width, height = b.height;
  Axis y, x;
  if (!axis_arg(env, argv + 7, height, &y) || !axis_arg(env, argv + 11, width, &x))
    return fail(env, "decode_resize: weights do not fit the box (resize.ts' weights(box size, output size) for each axis)");
  uint8_t *into = (uint8_t *)u8_arg(env, argv[15], &intoLength);
  if (!into || intoLength != (size_t)y.n * x.n * 3) return fail(env, "decode_resize: into must be a Uint8Array of rows × columns × 3 bytes");
  char why[JMSG_LENGTH_MAX + 32];
  size_t stride = 0;
  const uint8_t *crop = decode_box(b.data, b.length, b.denom, b.left, b.top, width, height, &stride, why, sizeof why);
  if (!crop) return fail(env, why);
  float *rows = scratch(&scratch_floats, resize_scratch_floats(width, x.n) * sizeof(float));
  if (!rows) return fail(env, "decode_resize: out of memory");
  resize_rgb(crop, stride, width, into, y.n, x.n, y.start, y.count, y.w, y.span, x.start, x.count, x.w, x.span, rows, flip);
  _mm_sfence(); // the non-temporal stores are visible before the caller reports the slot done
  return NULL;
}

// simd() -> the vector level in use; simd(name) first lowers it to that ("sse2", "avx2", "avx512"),
// never above what the CPU has, so that a test can run each code path the CPU supports.
static napi_value js_simd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) {
    char name[16] = "";
    size_t len = 0;
    int want = -1;
    if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) == napi_ok)
      for (int i = SSE2; i <= AVX512; i++)
        if (!strcmp(name, SIMD_NAMES[i])) want = i;
    if (want < 0) return fail(env, "simd: expected \"sse2\", \"avx2\" or \"avx512\"");
    simd_level = want < simd_best ? want : simd_best;
  }
  napi_create_string_utf8(env, SIMD_NAMES[simd_level], NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value js_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", LIBJPEG_TURBO_VERSION_NUMBER / 1000000, LIBJPEG_TURBO_VERSION_NUMBER / 1000 % 1000, LIBJPEG_TURBO_VERSION_NUMBER % 1000);
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &out);
  return out;
}

NAPI_MODULE_INIT() {
  __builtin_cpu_init();
  simd_best = !__builtin_cpu_supports("avx2") ? SSE2 : !__builtin_cpu_supports("avx512f") ? AVX2 : AVX512;
  simd_level = simd_best;
  napi_add_env_cleanup_hook(env, free_scratch, NULL);
  const napi_property_descriptor props[] = {
    {"decode_crop", NULL, js_decode_crop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decode_resize", NULL, js_decode_resize, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decode_only", NULL, js_decode_only, NULL, NULL, NULL, napi_enumerable, NULL},
    {"version", NULL, js_version, NULL, NULL, NULL, napi_enumerable, NULL},
    {"simd", NULL, js_simd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
