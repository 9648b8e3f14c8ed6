// N-API addon around the native builds of kernels.c (kernels_x86.c at 4, 8 and 16 lanes): every
// kernel takes the wasm backend's memory (its ArrayBuffer) and the same byte offsets and sizes as
// the wasm exports, so fastKernels.ts calls either one the same way, and tensors stay where the
// backend keeps them. Each call runs the widest build that the CPU has and the call's channel count
// allows (the loops step 2·VL channels at a time); all widths give the same values bit for bit.
//
// This file is compiled for baseline x86-64 (no AVX), so that loading the addon on a CPU without
// AVX2/FMA reaches init, which refuses with an error instead of dying of an illegal instruction.
//
// A wasm kernel cannot read or write outside the memory; native code can, so every call checks
// that each tensor it is handed lies inside the buffer and that the shape constraints the loops
// rely on (channel counts a multiple of 8 or 4) hold; a violation throws before the kernel runs.
#include <node_api.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

typedef float f32;
#define DECLARE(W)                                                                                                            \
  void conv2d_v##W(const f32 *x, const f32 *w, f32 *y, const f32 *zeros, int N, int H, int W_, int Ci, int KH, int KW, int Co, \
                   int OH, int OW, int sh, int sw, int top, int left);                                                       \
  void conv2d_filter_grad_v##W(const f32 *x, const f32 *dy, f32 *dw, int N, int H, int W_, int Ci, int KH, int KW, int Co,     \
                               int OH, int OW, int sh, int sw, int top, int left);                                           \
  void conv2d_input_grad_v##W(const f32 *dy, const f32 *w, f32 *dx, f32 *wt, const f32 *zeros, int N, int H, int W_, int Ci,  \
                              int KH, int KW, int Co, int OH, int OW, int sh, int sw, int top, int left);                    \
  void bn_forward_v##W(const f32 *h, const f32 *gamma, const f32 *beta, f32 *y, f32 *mean, f32 *var, f32 *rstd, f32 *scratch, \
                       int G, int M, int Mtot, int C, int relu, f32 eps);                                                     \
  void bn_backward_v##W(const f32 *dy, const f32 *y, const f32 *h, const f32 *mean, const f32 *rstd, const f32 *gamma, f32 *dh, \
                        f32 *dgamma, f32 *dbeta, f32 *scratch, int G, int M, int Mtot, int C, int relu, int own_params);
DECLARE(4)
DECLARE(8)
DECLARE(16)

typedef struct {
  int lanes;
  void (*conv2d)(const f32 *, const f32 *, f32 *, const f32 *, int, int, int, int, int, int, int, int, int, int, int, int, int);
  void (*conv2d_filter_grad)(const f32 *, const f32 *, f32 *, int, int, int, int, int, int, int, int, int, int, int, int, int);
  void (*conv2d_input_grad)(const f32 *, const f32 *, f32 *, f32 *, const f32 *, int, int, int, int, int, int, int, int, int, int, int, int, int);
  void (*bn_forward)(const f32 *, const f32 *, const f32 *, f32 *, f32 *, f32 *, f32 *, f32 *, int, int, int, int, int, f32);
  void (*bn_backward)(const f32 *, const f32 *, const f32 *, const f32 *, const f32 *, const f32 *, f32 *, f32 *, f32 *, f32 *, int, int, int, int, int, int);
} Build;
#define BUILD(W) {W, conv2d_v##W, conv2d_filter_grad_v##W, conv2d_input_grad_v##W, bn_forward_v##W, bn_backward_v##W}
// Widest first.
static const Build builds[3] = {BUILD(16), BUILD(8), BUILD(4)};
// The widest lane count this CPU runs (16 with AVX-512F, else 8), and the cap set by max_lanes()
// (per thread, for A/B timing of the widths).
static int cpu_lanes = 8;
static __thread int cap_lanes = 16;

// The widest build whose lane count divides `channels` by `per` vectors.
static const Build *pick(int channels, int per) {
  for (int i = 0; i < 3; i++) {
    const int l = builds[i].lanes;
    if (l <= cpu_lanes && l <= cap_lanes && channels % (per * l) == 0) return &builds[i];
  }
  return &builds[2];
}

// The BN kernels' team_reduce calls back into JS (bnTeam.ts' teamReduce) with a byte offset. Each
// worker thread has its own env, hence thread-local; a JS exception there (a team member failed)
// jumps back to the N-API entry point, which returns with the exception pending, as the wasm
// kernel's frames would have been unwound. kernels.c holds no resources that this could leak.
static __thread napi_env t_env;
static __thread napi_value t_reduce;
static __thread char *t_base;
static __thread jmp_buf *t_escape;

void team_reduce(f32 *sums, int count) {
  if (!t_reduce) return;
  napi_value args[2], recv, result;
  napi_get_undefined(t_env, &recv);
  napi_create_double(t_env, (double)((char *)sums - t_base), &args[0]);
  napi_create_int32(t_env, count, &args[1]);
  if (napi_call_function(t_env, recv, t_reduce, 2, args, &result) != napi_ok) longjmp(*t_escape, 1);
}

#define MAX_ARGS 20
typedef struct {
  napi_env env;
  char *base;
  size_t bytes;
  napi_value fn; // bn kernels: the reduce callback, or NULL
  double num[MAX_ARGS];
  int n;
} Call;

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// args: (memory: ArrayBuffer, [reduce: function | undefined,] ...numbers)
static int read_args(napi_env env, napi_callback_info info, Call *c, int with_fn, int want) {
  size_t argc = MAX_ARGS + 2;
  napi_value argv[MAX_ARGS + 2];
  c->env = env;
  c->fn = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  const size_t first = with_fn ? 2 : 1;
  if (argc != first + (size_t)want) {
    char m[128];
    snprintf(m, sizeof m, "native kernels: expected %d arguments, got %d", (int)(first + want), (int)argc);
    napi_throw_type_error(env, NULL, m);
    return 0;
  }
  void *data;
  bool is_ab = false;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  if (!is_ab || napi_get_arraybuffer_info(env, argv[0], &data, &c->bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "native kernels: the first argument must be the wasm memory's ArrayBuffer");
    return 0;
  }
  c->base = (char *)data;
  if (with_fn) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_function) c->fn = argv[1];
    else if (t != napi_undefined) {
      napi_throw_type_error(env, NULL, "native kernels: the second argument must be the team reduce function or undefined");
      return 0;
    }
  }
  for (int i = 0; i < want; i++) {
    if (napi_get_value_double(env, argv[first + i], &c->num[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "native kernels: size and offset arguments must be numbers");
      return 0;
    }
  }
  c->n = want;
  return 1;
}

static int int_arg(Call *c, int i, int *out) {
  const double d = c->num[i];
  if (!(d >= 0 && d <= 1e9 && d == (double)(int)d)) {
    fail(c->env, "native kernels: a size argument is not a non-negative integer");
    return 0;
  }
  *out = (int)d;
  return 1;
}

// The pointer at byte offset num[i], after checking that `floats` floats from there lie inside memory.
// Sizes are products of up to four arguments, so they are taken in double: no integer overflow can
// turn a huge tensor into a small one, and any product beyond 2^53 is far past any memory anyway.
static f32 *ptr_arg(Call *c, int i, double floats, const char *what) {
  const double d = c->num[i];
  if (!(d >= 0 && d <= 9007199254740992.0 && d == (double)(int64_t)d) || !(floats >= 0) || d + floats * 4 > (double)c->bytes || ((int64_t)d & 3)) {
    char m[160];
    snprintf(m, sizeof m, "native kernels: %s (%.0f floats at byte %.0f) does not lie inside the %zu-byte memory", what, floats, d, c->bytes);
    fail(c->env, m);
    return NULL;
  }
  return (f32 *)(c->base + (int64_t)d);
}

typedef struct { int N, H, W, Ci, KH, KW, Co, OH, OW, sh, sw, top, left; } Conv;

static int conv_args(Call *c, int at, Conv *k) {
  int *f[] = {&k->N, &k->H, &k->W, &k->Ci, &k->KH, &k->KW, &k->Co, &k->OH, &k->OW, &k->sh, &k->sw, &k->top, &k->left};
  for (int i = 0; i < 13; i++) if (!int_arg(c, at + i, f[i])) return 0;
  if (k->sh < 1 || k->sw < 1) return fail(c->env, "native kernels: strides must be ≥ 1"), 0;
  return 1;
}

#define D(x) ((double)(x))

static napi_value js_conv2d(napi_env env, napi_callback_info info) {
  Call c;
  Conv k;
  if (!read_args(env, info, &c, 0, 17) || !conv_args(&c, 4, &k)) return NULL;
  if (k.Co % 8) return fail(env, "native kernels: conv2d needs output channels a multiple of 8");
  const f32 *x = ptr_arg(&c, 0, D(k.N) * k.H * k.W * k.Ci, "conv2d x");
  const f32 *w = x ? ptr_arg(&c, 1, D(k.KH) * k.KW * k.Ci * k.Co, "conv2d filter") : NULL;
  f32 *y = w ? ptr_arg(&c, 2, D(k.N) * k.OH * k.OW * k.Co, "conv2d y") : NULL;
  const f32 *z = y ? ptr_arg(&c, 3, k.Ci, "conv2d zeros") : NULL;
  if (!z) return NULL;
  pick(k.Co, 2)->conv2d(x, w, y, z, k.N, k.H, k.W, k.Ci, k.KH, k.KW, k.Co, k.OH, k.OW, k.sh, k.sw, k.top, k.left);
  return NULL;
}

static napi_value js_conv2d_filter_grad(napi_env env, napi_callback_info info) {
  Call c;
  Conv k;
  if (!read_args(env, info, &c, 0, 16) || !conv_args(&c, 3, &k)) return NULL;
  if (k.Co % 8) return fail(env, "native kernels: conv2d_filter_grad needs output channels a multiple of 8");
  const f32 *x = ptr_arg(&c, 0, D(k.N) * k.H * k.W * k.Ci, "filter gradient x");
  const f32 *dy = x ? ptr_arg(&c, 1, D(k.N) * k.OH * k.OW * k.Co, "filter gradient dy") : NULL;
  f32 *dw = dy ? ptr_arg(&c, 2, D(k.KH) * k.KW * k.Ci * k.Co, "filter gradient dw") : NULL;
  if (!dw) return NULL;
  pick(k.Co, 2)->conv2d_filter_grad(x, dy, dw, k.N, k.H, k.W, k.Ci, k.KH, k.KW, k.Co, k.OH, k.OW, k.sh, k.sw, k.top, k.left);
  return NULL;
}

static napi_value js_conv2d_input_grad(napi_env env, napi_callback_info info) {
  Call c;
  Conv k;
  if (!read_args(env, info, &c, 0, 18) || !conv_args(&c, 5, &k)) return NULL;
  if (k.Ci % 8) return fail(env, "native kernels: conv2d_input_grad needs input channels a multiple of 8");
  const double wf = D(k.KH) * k.KW * k.Ci * k.Co;
  const f32 *dy = ptr_arg(&c, 0, D(k.N) * k.OH * k.OW * k.Co, "input gradient dy");
  const f32 *w = dy ? ptr_arg(&c, 1, wf, "input gradient filter") : NULL;
  f32 *dx = w ? ptr_arg(&c, 2, D(k.N) * k.H * k.W * k.Ci, "input gradient dx") : NULL;
  f32 *wt = dx ? ptr_arg(&c, 3, wf, "input gradient scratch") : NULL;
  const f32 *z = wt ? ptr_arg(&c, 4, k.Co, "input gradient zeros") : NULL;
  if (!z) return NULL;
  pick(k.Ci, 2)->conv2d_input_grad(dy, w, dx, wt, z, k.N, k.H, k.W, k.Ci, k.KH, k.KW, k.Co, k.OH, k.OW, k.sh, k.sw, k.top, k.left);
  return NULL;
}

// Runs a BN kernel with the team callback installed; 0 when a JS exception escaped it.
#define WITH_REDUCE(c, call)                                   \
  do {                                                         \
    jmp_buf esc;                                               \
    napi_env pe = t_env; napi_value pr = t_reduce;             \
    char *pb = t_base; jmp_buf *pj = t_escape;                 \
    t_env = (c).env; t_reduce = (c).fn; t_base = (c).base;     \
    t_escape = &esc;                                           \
    if (!setjmp(esc)) { call; }                                \
    t_env = pe; t_reduce = pr; t_base = pb; t_escape = pj;     \
  } while (0)

static int bn_sizes(Call *c, int at, int *G, int *M, int *Mtot, int *C, int *relu) {
  if (!int_arg(c, at, G) || !int_arg(c, at + 1, M) || !int_arg(c, at + 2, Mtot) || !int_arg(c, at + 3, C) || !int_arg(c, at + 4, relu)) return 0;
  if (*C % 4) return fail(c->env, "native kernels: batch norm needs channels a multiple of 4"), 0;
  if (*Mtot < 1) return fail(c->env, "native kernels: batch norm needs at least one row per group"), 0;
  return 1;
}

static napi_value js_bn_forward(napi_env env, napi_callback_info info) {
  Call c;
  int G, M, Mtot, C, relu;
  if (!read_args(env, info, &c, 1, 14) || !bn_sizes(&c, 8, &G, &M, &Mtot, &C, &relu)) return NULL;
  const double rows = D(G) * M * C, stats = D(G) * C;
  f32 *p[8];
  const double n[8] = {rows, C, C, rows, stats, stats, stats, 2 * D(C)};
  static const char *what[8] = {"bn h", "bn gamma", "bn beta", "bn y", "bn mean", "bn variance", "bn rstd", "bn scratch"};
  for (int i = 0; i < 8; i++) if (!(p[i] = ptr_arg(&c, i, n[i], what[i]))) return NULL;
  const f32 eps = (f32)c.num[13];
  const Build *b = pick(C, 1);
  WITH_REDUCE(c, b->bn_forward(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], G, M, Mtot, C, relu, eps));
  return NULL;
}

static napi_value js_bn_backward(napi_env env, napi_callback_info info) {
  Call c;
  int G, M, Mtot, C, relu, own;
  if (!read_args(env, info, &c, 1, 16) || !bn_sizes(&c, 10, &G, &M, &Mtot, &C, &relu) || !int_arg(&c, 15, &own)) return NULL;
  const double rows = D(G) * M * C, stats = D(G) * C;
  f32 *p[10];
  const double n[10] = {rows, rows, rows, stats, stats, C, rows, C, C, 4 * D(C)};
  static const char *what[10] = {"bn dy", "bn y", "bn h", "bn mean", "bn rstd", "bn gamma", "bn dh", "bn dgamma", "bn dbeta", "bn scratch"};
  for (int i = 0; i < 10; i++) if (!(p[i] = ptr_arg(&c, i, n[i], what[i]))) return NULL;
  const Build *b = pick(C, 1);
  WITH_REDUCE(c, b->bn_backward(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], G, M, Mtot, C, relu, own));
  return NULL;
}

// max_lanes([n]): caps this thread's builds at n lanes (4, 8 or 16) when given; returns the widest
// build in use (the CPU's widest, under the cap).
static napi_value js_max_lanes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) {
    int32_t n = 0;
    napi_get_value_int32(env, argv[0], &n);
    if (n != 4 && n != 8 && n != 16) return fail(env, "native kernels: max_lanes takes 4, 8 or 16");
    cap_lanes = n;
  }
  napi_create_int32(env, pick(16, 1)->lanes, &out);
  return out;
}

NAPI_MODULE_INIT() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    napi_throw_error(env, NULL, "native kernels: this CPU has no AVX2/FMA");
    return NULL;
  }
  cpu_lanes = __builtin_cpu_supports("avx512f") ? 16 : 8;
  const napi_property_descriptor props[] = {
    {"conv2d", NULL, js_conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
    {"conv2d_filter_grad", NULL, js_conv2d_filter_grad, NULL, NULL, NULL, napi_enumerable, NULL},
    {"conv2d_input_grad", NULL, js_conv2d_input_grad, NULL, NULL, NULL, napi_enumerable, NULL},
    {"bn_forward", NULL, js_bn_forward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"bn_backward", NULL, js_bn_backward, NULL, NULL, NULL, napi_enumerable, NULL},
    {"max_lanes", NULL, js_max_lanes, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
