/*
 * N-API entry points of ddinit's native BLAS kernels.
 *
 * Every function works on one Float32Array `heap` (the tfjs wasm backend's
 * memory, or any other float32 buffer) and float offsets into it: inputs are
 * read and outputs written in place, with no copy in or out. Every extent is
 * checked against the heap before any work, and a violation is a RangeError
 * naming the operand: a bad offset never reads or writes outside the buffer.
 */
#include <cblas.h>
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "columns.h"
#include "conv.h"
#include "gaussian.h"
#include "kmeans.h"
#include "lapack.h"
#include "lrn.h"
#include "moments.h"

/* openblas_set_num_threads / openblas_get_num_threads / openblas_get_config (OpenBLAS extensions). */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, NULL, "N-API call failed: " #call); \
      return NULL;                                    \
    }                                                 \
  } while (0)

typedef struct {
  float *data;
  size_t length;
} heap_view;

/* Whether `value` is a typed array of `type`, with its data and element count (nothing thrown). */
static int is_typed_array(napi_env env, napi_value value, napi_typedarray_type type, void **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type actual;
  return napi_is_typedarray(env, value, &is_typed) == napi_ok && is_typed &&
         napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL) == napi_ok && actual == type;
}

static int get_heap(napi_env env, napi_value value, heap_view *heap) {
  void *data = NULL;
  if (!is_typed_array(env, value, napi_float32_array, &data, &heap->length)) {
    napi_throw_type_error(env, NULL, "heap: expected a Float32Array");
    return -1;
  }
  heap->data = data;
  return 0;
}

/* A typed array argument of `type` (named `type_name` in the error) with at least `length` elements, or exactly
 * that many when `exact`; 0, or -1 after throwing a TypeError naming it. */
static int typed_arg(napi_env env, napi_value value, napi_typedarray_type type, const char *type_name, const char *name,
                     size_t length, int exact, void **data) {
  size_t have = 0;
  if (!is_typed_array(env, value, type, data, &have) || have < length || (exact && have != length)) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a%s %s of %s%zu values", name, type_name[0] == 'I' ? "n" : "",
             type_name, exact ? "" : "at least ", length);
    napi_throw_type_error(env, NULL, message);
    return -1;
  }
  return 0;
}

static int get_int32_array(napi_env env, napi_value value, const char *name, size_t expected, int32_t **out) {
  return typed_arg(env, value, napi_int32_array, "Int32Array", name, expected, 1, (void **)out);
}

static int get_int(napi_env env, napi_value value, const char *name, int64_t *out) {
  char message[128];
  if (napi_get_value_int64(env, value, out) != napi_ok) {
    snprintf(message, sizeof message, "%s: expected an integer", name);
    napi_throw_type_error(env, NULL, message);
    return -1;
  }
  return 0;
}

/* A pointer to floats [offset, offset + count) of the heap, or NULL after throwing a RangeError naming the operand. */
static float *heap_range(napi_env env, const heap_view *heap, const char *name, int64_t offset, size_t count) {
  if (offset < 0 || (size_t)offset > heap->length || count > heap->length - (size_t)offset) {
    char message[200];
    snprintf(message, sizeof message, "%s: floats [%lld, %lld) lie outside the heap of %zu floats", name,
             (long long)offset, (long long)offset + (long long)count, heap->length);
    napi_throw_range_error(env, NULL, message);
    return NULL;
  }
  return heap->data + offset;
}

static int read_geometry(napi_env env, napi_value value, ddinit_conv_geometry *g) {
  int32_t *v = NULL;
  if (get_int32_array(env, value, "geometry", 15, &v) != 0) return -1;
  *g = (ddinit_conv_geometry){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
                              v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  for (int i = 0; i < 15; i++) {
    const int min = (i >= 9 && i <= 12) ? 1 : 0; /* strides and dilations are positive */
    if (i >= 13) continue;                        /* paddings may be any value */
    if (v[i] < min) {
      napi_throw_range_error(env, NULL, "geometry: sizes must be non-negative and strides/dilations positive");
      return -1;
    }
  }
  return 0;
}

static napi_value throw_oom(napi_env env, const char *where) {
  char message[128];
  snprintf(message, sizeof message, "%s: out of memory for a scratch buffer", where);
  napi_throw_error(env, "ENOMEM", message);
  return NULL;
}

/* Reads exactly `expected` arguments of a call into argv; 0, or -1 after throwing (naming `fn`). */
static int call_args(napi_env env, napi_callback_info info, const char *fn, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "N-API call failed: napi_get_cb_info");
    return -1;
  }
  if (argc != expected) {
    char message[96];
    snprintf(message, sizeof message, "%s: expected %zu arguments", fn, expected);
    napi_throw_type_error(env, NULL, message);
    return -1;
  }
  return 0;
}

/* Reads a call's `expected` arguments, the heap (argv[0]) and the geometry (argv[1]); 0, or -1 after throwing. */
static int conv_args(napi_env env, napi_callback_info info, const char *fn, size_t expected, napi_value *argv,
                     heap_view *heap, ddinit_conv_geometry *g) {
  if (call_args(env, info, fn, expected, argv) != 0) return -1;
  return get_heap(env, argv[0], heap) || read_geometry(env, argv[1], g) ? -1 : 0;
}

/* The operand `name` of `count` floats at the offset `arg`; 0, or -1 after throwing. */
static int conv_operand(napi_env env, napi_value arg, const heap_view *heap, const char *name, size_t count,
                        float **out) {
  int64_t offset;
  if (get_int(env, arg, name, &offset) != 0) return -1;
  *out = heap_range(env, heap, name, offset, count);
  return *out == NULL ? -1 : 0;
}

/* The channel groups at `arg`: a positive integer dividing in_c and out_c; 0, or -1 after throwing. */
static int read_groups(napi_env env, napi_value arg, const ddinit_conv_geometry *g, int *groups) {
  int64_t v;
  if (get_int(env, arg, "groups", &v) != 0) return -1;
  if (v < 1 || v > INT32_MAX || g->in_c % v != 0 || g->out_c % v != 0) {
    char message[160];
    snprintf(message, sizeof message, "groups: expected a positive divisor of inChannels %d and outChannels %d, got %lld",
             g->in_c, g->out_c, (long long)v);
    napi_throw_range_error(env, NULL, message);
    return -1;
  }
  *groups = (int)v;
  return 0;
}

/* Reads heap, geometry and (when `grouped`) groups; `argv + *first` is then the first operand. 0, or -1 after throwing. */
static int grouped_args(napi_env env, napi_callback_info info, const char *fn, size_t operands, int grouped,
                        napi_value *argv, heap_view *heap, ddinit_conv_geometry *g, int *groups, size_t *first) {
  *first = grouped ? 3 : 2;
  *groups = 1;
  if (conv_args(env, info, fn, *first + operands, argv, heap, g)) return -1;
  return grouped ? read_groups(env, argv[2], g, groups) : 0;
}

/* [grouped]conv2d(heap, geometry, [groups,] xOffset, filterOffset, biasOffset (-1: none), activation, yOffset) */
static napi_value conv2d_impl(napi_env env, napi_callback_info info, int grouped) {
  napi_value argv[8];
  heap_view heap;
  ddinit_conv_geometry g;
  float *x, *w, *y, *bias = NULL;
  int64_t bo, act;
  int groups;
  size_t i;
  if (grouped_args(env, info, grouped ? "groupedConv2d" : "conv2d", 5, grouped, argv, &heap, &g, &groups, &i) ||
      conv_operand(env, argv[i], &heap, "x", ddinit_conv_x_size(&g), &x) ||
      conv_operand(env, argv[i + 1], &heap, "filter", ddinit_grouped_filter_size(&g, groups), &w) ||
      get_int(env, argv[i + 2], "bias", &bo) ||
      (bo >= 0 && conv_operand(env, argv[i + 2], &heap, "bias", (size_t)g.out_c, &bias)) ||
      get_int(env, argv[i + 3], "activation", &act) ||
      conv_operand(env, argv[i + 4], &heap, "y", ddinit_conv_y_size(&g), &y)) {
    return NULL;
  }
  if (act < DDINIT_ACT_LINEAR || act > DDINIT_ACT_RELU6) {
    napi_throw_range_error(env, NULL, "activation: expected 0 (linear), 1 (relu) or 2 (relu6)");
    return NULL;
  }
  if (ddinit_grouped_conv2d(&g, groups, x, w, bias, (int)act, y) != 0) return throw_oom(env, "conv2d");
  return NULL;
}

static napi_value conv2d(napi_env env, napi_callback_info info) { return conv2d_impl(env, info, 0); }
static napi_value grouped_conv2d(napi_env env, napi_callback_info info) { return conv2d_impl(env, info, 1); }

/* [grouped]conv2dBackpropFilter(heap, geometry, [groups,] xOffset, dyOffset, dwOffset) */
static napi_value conv2d_backprop_filter_impl(napi_env env, napi_callback_info info, int grouped) {
  napi_value argv[6];
  heap_view heap;
  ddinit_conv_geometry g;
  float *x, *dy, *dw;
  int groups;
  size_t i;
  if (grouped_args(env, info, grouped ? "groupedConv2dBackpropFilter" : "conv2dBackpropFilter", 3, grouped, argv, &heap,
                   &g, &groups, &i) ||
      conv_operand(env, argv[i], &heap, "x", ddinit_conv_x_size(&g), &x) ||
      conv_operand(env, argv[i + 1], &heap, "dy", ddinit_conv_y_size(&g), &dy) ||
      conv_operand(env, argv[i + 2], &heap, "dw", ddinit_grouped_filter_size(&g, groups), &dw)) {
    return NULL;
  }
  if (ddinit_grouped_conv2d_backprop_filter(&g, groups, x, dy, dw) != 0) return throw_oom(env, "conv2dBackpropFilter");
  return NULL;
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  return conv2d_backprop_filter_impl(env, info, 0);
}
static napi_value grouped_conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  return conv2d_backprop_filter_impl(env, info, 1);
}

/* [grouped]conv2dBackpropInput(heap, geometry, [groups,] dyOffset, filterOffset, dxOffset) */
static napi_value conv2d_backprop_input_impl(napi_env env, napi_callback_info info, int grouped) {
  napi_value argv[6];
  heap_view heap;
  ddinit_conv_geometry g;
  float *dy, *w, *dx;
  int groups;
  size_t i;
  if (grouped_args(env, info, grouped ? "groupedConv2dBackpropInput" : "conv2dBackpropInput", 3, grouped, argv, &heap,
                   &g, &groups, &i) ||
      conv_operand(env, argv[i], &heap, "dy", ddinit_conv_y_size(&g), &dy) ||
      conv_operand(env, argv[i + 1], &heap, "filter", ddinit_grouped_filter_size(&g, groups), &w) ||
      conv_operand(env, argv[i + 2], &heap, "dx", ddinit_conv_x_size(&g), &dx)) {
    return NULL;
  }
  if (ddinit_grouped_conv2d_backprop_input(&g, groups, dy, w, dx) != 0) return throw_oom(env, "conv2dBackpropInput");
  return NULL;
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  return conv2d_backprop_input_impl(env, info, 0);
}
static napi_value grouped_conv2d_backprop_input(napi_env env, napi_callback_info info) {
  return conv2d_backprop_input_impl(env, info, 1);
}

/* maxPoolGrad(heap, geometry, xOffset, dyOffset, dxOffset): the geometry's filter is the pooling window
 * and its out_c must equal in_c. */
static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  heap_view heap;
  ddinit_conv_geometry g;
  float *x, *dy, *dx;
  if (conv_args(env, info, "maxPoolGrad", 5, argv, &heap, &g)) return NULL;
  if (g.out_c != g.in_c) {
    napi_throw_range_error(env, NULL, "geometry: max pooling needs outChannels = inChannels");
    return NULL;
  }
  if (conv_operand(env, argv[2], &heap, "x", ddinit_conv_x_size(&g), &x) ||
      conv_operand(env, argv[3], &heap, "dy", ddinit_conv_y_size(&g), &dy) ||
      conv_operand(env, argv[4], &heap, "dx", ddinit_conv_x_size(&g), &dx)) {
    return NULL;
  }
  if (ddinit_max_pool_grad(&g, x, dy, dx) != 0) return throw_oom(env, "maxPoolGrad");
  return NULL;
}

/* batchMatMul(heap, params) with params Int32Array
 * [batch, transA, transB, m, n, k, aOffset, aStride, bOffset, bStride, biasOffset (-1: none), activation, cOffset] */
static napi_value batch_mat_mul(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  heap_view heap;
  int32_t *p = NULL;
  if (argc != 2 || get_heap(env, argv[0], &heap) || get_int32_array(env, argv[1], "params", 13, &p)) {
    if (argc != 2) napi_throw_type_error(env, NULL, "batchMatMul: expected 2 arguments");
    return NULL;
  }
  const int batch = p[0], trans_a = p[1] != 0, trans_b = p[2] != 0, m = p[3], n = p[4], k = p[5];
  const int64_t a_stride = p[7], b_stride = p[9];
  if (batch < 0 || m < 0 || n < 0 || k < 0 || a_stride < 0 || b_stride < 0) {
    napi_throw_range_error(env, NULL, "batchMatMul: sizes and strides must be non-negative");
    return NULL;
  }
  const size_t last = batch > 0 ? (size_t)(batch - 1) : 0;
  const size_t a_size = (size_t)m * k, b_size = (size_t)k * n, c_size = (size_t)m * n;
  const float *a = heap_range(env, &heap, "a", p[6], batch > 0 ? last * a_stride + a_size : 0);
  if (a == NULL) return NULL;
  const float *b = heap_range(env, &heap, "b", p[8], batch > 0 ? last * b_stride + b_size : 0);
  if (b == NULL) return NULL;
  const float *bias = NULL;
  if (p[10] >= 0 && (bias = heap_range(env, &heap, "bias", p[10], (size_t)n)) == NULL) return NULL;
  if (p[11] < DDINIT_ACT_LINEAR || p[11] > DDINIT_ACT_RELU6) {
    napi_throw_range_error(env, NULL, "activation: expected 0 (linear), 1 (relu) or 2 (relu6)");
    return NULL;
  }
  float *c = heap_range(env, &heap, "c", p[12], (size_t)batch * c_size);
  if (c == NULL) return NULL;
  ddinit_batch_matmul(batch, trans_a, trans_b, m, n, k, a, (size_t)a_stride, b, (size_t)b_stride, bias, p[11], c,
                      c_size);
  return NULL;
}

/* The `count` int32 sizes in argv[first..]: each an integer in [0, 2³¹); 0, or -1 after throwing. */
static int get_sizes(napi_env env, const napi_value *argv, const char *const *names, int count, int *out) {
  for (int i = 0; i < count; i++) {
    int64_t v;
    if (get_int(env, argv[i], names[i], &v) != 0) return -1;
    if (v < 0 || v > INT32_MAX) {
      char message[128];
      snprintf(message, sizeof message, "%s: expected an integer in [0, 2^31), got %lld", names[i], (long long)v);
      napi_throw_range_error(env, NULL, message);
      return -1;
    }
    out[i] = (int)v;
  }
  return 0;
}

static napi_value int_result(napi_env env, int value) {
  napi_value result;
  CHECK(napi_create_int32(env, value, &result));
  return result;
}

/* orthonormalizeColumns(heap, rows, cols, aOffset) → 0 (a ← Q) or 1 (rank-deficient; a unchanged). */
static napi_value orthonormalize_columns(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) {
    napi_throw_type_error(env, NULL, "orthonormalizeColumns: expected 4 arguments");
    return NULL;
  }
  heap_view heap;
  static const char *const names[] = {"rows", "cols"};
  int size[2];
  float *a;
  if (get_heap(env, argv[0], &heap) || get_sizes(env, argv + 1, names, 2, size)) return NULL;
  if (size[0] < size[1]) {
    napi_throw_range_error(env, NULL, "orthonormalizeColumns: expected rows >= cols (a tall matrix)");
    return NULL;
  }
  if (conv_operand(env, argv[3], &heap, "a", (size_t)size[0] * size[1], &a)) return NULL;
  const int status = ddinit_orthonormalize_columns(size[0], size[1], a);
  if (status == DDINIT_LAPACK_NO_MEMORY) return throw_oom(env, "orthonormalizeColumns");
  return int_result(env, status);
}

/* haarOrthonormal(heap, rows, cols, aOffset) → 0 (a ← Haar Q from the Gaussian a), or 2 when sorgqr failed. */
static napi_value haar_orthonormal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 4) {
    napi_throw_type_error(env, NULL, "haarOrthonormal: expected 4 arguments");
    return NULL;
  }
  heap_view heap;
  static const char *const names[] = {"rows", "cols"};
  int size[2];
  float *a;
  if (get_heap(env, argv[0], &heap) || get_sizes(env, argv + 1, names, 2, size)) return NULL;
  if (size[0] < size[1]) {
    napi_throw_range_error(env, NULL, "haarOrthonormal: expected rows >= cols (a tall matrix)");
    return NULL;
  }
  if (conv_operand(env, argv[3], &heap, "a", (size_t)size[0] * size[1], &a)) return NULL;
  const int status = ddinit_haar_orthonormal(size[0], size[1], a);
  if (status == DDINIT_LAPACK_NO_MEMORY) return throw_oom(env, "haarOrthonormal");
  return int_result(env, status);
}

/* symmetricEigen(heap, size, count, aOffset, valuesOffset, vectorsOffset) → 0, or 2 when LAPACK failed. */
static napi_value symmetric_eigen(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6) {
    napi_throw_type_error(env, NULL, "symmetricEigen: expected 6 arguments");
    return NULL;
  }
  heap_view heap;
  static const char *const names[] = {"size", "count"};
  int v[2];
  float *a, *values, *vectors;
  if (get_heap(env, argv[0], &heap) || get_sizes(env, argv + 1, names, 2, v)) return NULL;
  const int n = v[0], count = v[1];
  if (count > n) {
    napi_throw_range_error(env, NULL, "count: expected an integer in [0, size]");
    return NULL;
  }
  if (conv_operand(env, argv[3], &heap, "a", (size_t)n * n, &a) ||
      conv_operand(env, argv[4], &heap, "values", (size_t)count, &values) ||
      conv_operand(env, argv[5], &heap, "vectors", (size_t)n * count, &vectors))
    return NULL;
  const int status = ddinit_symmetric_eigen(n, count, a, values, vectors);
  if (status == DDINIT_LAPACK_NO_MEMORY) return throw_oom(env, "symmetricEigen");
  return int_result(env, status);
}

/* The LRN arguments argv[1..6] (rows, channels, depthRadius, bias, alpha, beta); 0, or -1 after throwing. */
static int lrn_params(napi_env env, const napi_value *argv, ddinit_lrn_params *p) {
  static const char *const names[] = {"rows", "channels", "depthRadius"};
  static const char *const coefficients[] = {"bias", "alpha", "beta"};
  int sizes[3];
  double values[3];
  if (get_sizes(env, argv + 1, names, 3, sizes)) return -1;
  for (int i = 0; i < 3; i++) {
    if (napi_get_value_double(env, argv[4 + i], &values[i]) != napi_ok || !isfinite(values[i])) {
      char message[96];
      snprintf(message, sizeof message, "%s: expected a finite number", coefficients[i]);
      napi_throw_type_error(env, NULL, message);
      return -1;
    }
  }
  *p = (ddinit_lrn_params){(size_t)sizes[0], sizes[1], sizes[2], (float)values[0], (float)values[1], (float)values[2]};
  return 0;
}

/* Reads `expected` arguments of an LRN call: heap, rows, channels, depthRadius, bias, alpha, beta, then the operands. */
static int lrn_args(napi_env env, napi_callback_info info, const char *fn, size_t expected, napi_value *argv,
                    heap_view *heap, ddinit_lrn_params *p) {
  if (call_args(env, info, fn, expected, argv) != 0) return -1;
  return get_heap(env, argv[0], heap) || lrn_params(env, argv, p) ? -1 : 0;
}

/* lrn(heap, rows, channels, depthRadius, bias, alpha, beta, xOffset, yOffset) */
static napi_value lrn(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  heap_view heap;
  ddinit_lrn_params p;
  float *x, *y;
  if (lrn_args(env, info, "lrn", 9, argv, &heap, &p)) return NULL;
  const size_t n = p.rows * (size_t)p.channels;
  if (conv_operand(env, argv[7], &heap, "x", n, &x) || conv_operand(env, argv[8], &heap, "y", n, &y)) return NULL;
  if (ddinit_lrn(&p, x, y) != 0) return throw_oom(env, "lrn");
  return NULL;
}

/* lrnGrad(heap, rows, channels, depthRadius, bias, alpha, beta, xOffset, yOffset, dyOffset, dxOffset) */
static napi_value lrn_grad(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  heap_view heap;
  ddinit_lrn_params p;
  float *x, *y, *dy, *dx;
  if (lrn_args(env, info, "lrnGrad", 11, argv, &heap, &p)) return NULL;
  const size_t n = p.rows * (size_t)p.channels;
  if (conv_operand(env, argv[7], &heap, "x", n, &x) || conv_operand(env, argv[8], &heap, "y", n, &y) ||
      conv_operand(env, argv[9], &heap, "dy", n, &dy) || conv_operand(env, argv[10], &heap, "dx", n, &dx)) {
    return NULL;
  }
  if (ddinit_lrn_grad(&p, x, y, dy, dx) != 0) return throw_oom(env, "lrnGrad");
  return NULL;
}

/* Reads `expected` arguments (heap first) and the sizes argv[1 .. 1 + nsizes); 0, or -1 after throwing. */
static int sized_args(napi_env env, napi_callback_info info, const char *fn, size_t expected, napi_value *argv,
                      heap_view *heap, const char *const *names, int nsizes, int *sizes) {
  if (call_args(env, info, fn, expected, argv) != 0) return -1;
  return get_heap(env, argv[0], heap) || get_sizes(env, argv + 1, names, nsizes, sizes) ? -1 : 0;
}

/* columnSums(heap, rows, cols, xOffset, outOffset): out[c] = sum over rows of x[r, c]. */
static napi_value column_sums(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"rows", "cols"};
  napi_value argv[5];
  heap_view heap;
  int size[2];
  float *x, *out;
  if (sized_args(env, info, "columnSums", 5, argv, &heap, names, 2, size)) return NULL;
  if (conv_operand(env, argv[3], &heap, "x", (size_t)size[0] * size[1], &x) ||
      conv_operand(env, argv[4], &heap, "out", (size_t)size[1], &out)) {
    return NULL;
  }
  if (ddinit_column_sums((size_t)size[0], (size_t)size[1], x, out) != 0) return throw_oom(env, "columnSums");
  return NULL;
}

/* reluGrad(heap, count, yOffset, dyOffset, dxOffset): dx = dy where y > 0, else 0. */
static napi_value relu_grad(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"count"};
  napi_value argv[5];
  heap_view heap;
  int count;
  float *y, *dy, *dx;
  if (sized_args(env, info, "reluGrad", 5, argv, &heap, names, 1, &count)) return NULL;
  if (conv_operand(env, argv[2], &heap, "y", (size_t)count, &y) || conv_operand(env, argv[3], &heap, "dy", (size_t)count, &dy) ||
      conv_operand(env, argv[4], &heap, "dx", (size_t)count, &dx)) {
    return NULL;
  }
  ddinit_relu_grad((size_t)count, y, dy, dx);
  return NULL;
}

/* channelMoments(heap, rows, channels, xOffset, outOffset): the moments of the rows × channels values at x
 * (moments.h), written at out as 4·channels floats: mean and std each as a float32 pair hi, lo with hi + lo
 * the double to ≈ 2⁻⁴⁸ relative (hi = (float)v, lo = (float)(v − hi)): rows [mean hi; mean lo; std hi; std lo]. */
static napi_value channel_moments(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"rows", "channels"};
  napi_value argv[5];
  heap_view heap;
  int sizes[2];
  float *x, *out;
  if (sized_args(env, info, "channelMoments", 5, argv, &heap, names, 2, sizes) != 0) return NULL;
  if (sizes[0] < 1 || sizes[1] < 1) {
    napi_throw_range_error(env, NULL, "channelMoments: expected at least one row and one channel");
    return NULL;
  }
  const size_t rows = (size_t)sizes[0], c = (size_t)sizes[1];
  if (conv_operand(env, argv[3], &heap, "x", rows * c, &x) || conv_operand(env, argv[4], &heap, "out", 4 * c, &out)) return NULL;
  double *values = malloc(sizeof(double) * 2 * c);
  if (values == NULL || ddinit_channel_moments(x, rows, sizes[1], values, values + c) != 0) {
    free(values);
    return throw_oom(env, "channelMoments");
  }
  for (size_t k = 0; k < 2; k++) {
    for (size_t i = 0; i < c; i++) {
      const double v = values[k * c + i];
      const float hi = (float)v;
      out[2 * k * c + i] = hi;
      out[(2 * k + 1) * c + i] = (float)(v - (double)hi);
    }
  }
  free(values);
  return NULL;
}

/* sumOfSquares(heap, count, x) → Σ heap[x + k]² over k < count, in double (moments.h). */
static napi_value sum_of_squares(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"count"};
  napi_value argv[3], result;
  heap_view heap;
  int count[1];
  float *x;
  if (sized_args(env, info, "sumOfSquares", 3, argv, &heap, names, 1, count) != 0) return NULL;
  if (conv_operand(env, argv[2], &heap, "x", (size_t)count[0], &x)) return NULL;
  CHECK(napi_create_double(env, ddinit_sum_of_squares(x, (size_t)count[0]), &result));
  return result;
}

/* gatherPatches(heap, geometry, groups, x, positions, out): the patch rows of the sampled positions (conv.h). */
static napi_value gather_patches(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  heap_view heap;
  ddinit_conv_geometry g;
  int64_t groups;
  int32_t *positions = NULL;
  float *x, *out;
  if (conv_args(env, info, "gatherPatches", 6, argv, &heap, &g) != 0 || get_int(env, argv[2], "groups", &groups) != 0) return NULL;
  if (groups < 1 || g.in_c % groups != 0) {
    napi_throw_range_error(env, NULL, "groups: expected a positive divisor of inChannels");
    return NULL;
  }
  size_t rows = 0;
  if (!is_typed_array(env, argv[4], napi_int32_array, (void **)&positions, &rows)) {
    napi_throw_type_error(env, NULL, "positions: expected an Int32Array");
    return NULL;
  }
  const size_t count = (size_t)g.batch * g.out_h * g.out_w, f = (size_t)g.f_h * g.f_w * (g.in_c / groups);
  for (size_t r = 0; r < rows; r++) {
    if (positions[r] < 0 || (size_t)positions[r] >= count) {
      char message[160];
      snprintf(message, sizeof message, "positions: expected values in [0, %zu), got %d at %zu", count, positions[r], r);
      napi_throw_range_error(env, NULL, message);
      return NULL;
    }
  }
  if (conv_operand(env, argv[3], &heap, "x", ddinit_conv_x_size(&g), &x) ||
      conv_operand(env, argv[5], &heap, "out", (size_t)groups * rows * f, &out))
    return NULL;
  ddinit_gather_patches(&g, (int)groups, x, positions, rows, out);
  return NULL;
}

/* kmeansPlusPlus(x, n, d, k, trials, norms, first, uniforms, gram, chosen) (kmeans.h; gram: 0 or 1). */
static napi_value kmeans_plus_plus(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"n", "d", "k", "trials"};
  napi_value argv[10];
  int v[4];
  void *x, *norms, *uniforms, *chosen;
  int64_t first, use_gram;
  if (call_args(env, info, "kmeansPlusPlus", 10, argv) != 0 || get_sizes(env, argv + 1, names, 4, v) != 0) return NULL;
  const size_t n = (size_t)v[0], d = (size_t)v[1], k = (size_t)v[2], trials = (size_t)v[3];
  if (get_int(env, argv[6], "first", &first) != 0 || get_int(env, argv[8], "gram", &use_gram) != 0) return NULL;
  if (n == 0 || k > n || first < 0 || (size_t)first >= n) {
    napi_throw_range_error(env, NULL, "kmeansPlusPlus: expected 1 <= n, k <= n and 0 <= first < n");
    return NULL;
  }
  if (typed_arg(env, argv[0], napi_float32_array, "Float32Array", "x", n * d, 0, &x) ||
      typed_arg(env, argv[5], napi_float64_array, "Float64Array", "norms", n, 0, &norms) ||
      typed_arg(env, argv[7], napi_float64_array, "Float64Array", "uniforms", (k > 0 ? k - 1 : 0) * trials, 0, &uniforms) ||
      typed_arg(env, argv[9], napi_int32_array, "Int32Array", "chosen", k, 0, &chosen))
    return NULL;
  if (ddinit_kmeans_plus_plus(x, v[0], v[1], v[2], v[3], norms, (int)first, uniforms, use_gram != 0, chosen) != 0)
    return throw_oom(env, "kmeansPlusPlus");
  return NULL;
}

/* nearestCentres(x, n, d, centres, k, norms, labels, distances) (kmeans.h). */
static napi_value nearest_centres(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"n", "d"};
  napi_value argv[8];
  int v[2], k[1];
  void *x, *centres, *norms, *labels, *distances;
  static const char *const k_name[] = {"k"};
  if (call_args(env, info, "nearestCentres", 8, argv) != 0 || get_sizes(env, argv + 1, names, 2, v) != 0 ||
      get_sizes(env, argv + 4, k_name, 1, k) != 0)
    return NULL;
  const size_t n = (size_t)v[0], d = (size_t)v[1];
  if (k[0] < 1) {
    napi_throw_range_error(env, NULL, "k: expected at least 1 centre");
    return NULL;
  }
  if (typed_arg(env, argv[0], napi_float32_array, "Float32Array", "x", n * d, 0, &x) ||
      typed_arg(env, argv[3], napi_float32_array, "Float32Array", "centres", (size_t)k[0] * d, 0, &centres) ||
      typed_arg(env, argv[5], napi_float64_array, "Float64Array", "norms", n, 0, &norms) ||
      typed_arg(env, argv[6], napi_int32_array, "Int32Array", "labels", n, 0, &labels) ||
      typed_arg(env, argv[7], napi_float64_array, "Float64Array", "distances", n, 0, &distances))
    return NULL;
  if (ddinit_nearest_centres(x, v[0], v[1], centres, k[0], norms, labels, distances) != 0) return throw_oom(env, "nearestCentres");
  return NULL;
}

/* channelAffine(heap, rows, channels, x, scale, shift, y): y = x·scale + shift per channel (columns.h). */
static napi_value channel_affine(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"rows", "channels"};
  napi_value argv[7];
  heap_view heap;
  int size[2];
  float *x, *scale, *shift, *y;
  if (sized_args(env, info, "channelAffine", 7, argv, &heap, names, 2, size) != 0) return NULL;
  const size_t rows = (size_t)size[0], channels = (size_t)size[1];
  if (conv_operand(env, argv[3], &heap, "x", rows * channels, &x) || conv_operand(env, argv[4], &heap, "scale", channels, &scale) ||
      conv_operand(env, argv[5], &heap, "shift", channels, &shift) || conv_operand(env, argv[6], &heap, "y", rows * channels, &y))
    return NULL;
  ddinit_channel_affine(rows, channels, x, scale, shift, y);
  return NULL;
}

/* centredScatter(heap, rows, cols, x, shift, centred, mean, scatter): the centred scatter of rows x (moments.h). */
static napi_value centred_scatter(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"rows", "cols"};
  napi_value argv[8];
  heap_view heap;
  int size[2];
  float *x, *shift, *centred, *mean, *scatter;
  if (sized_args(env, info, "centredScatter", 8, argv, &heap, names, 2, size) != 0) return NULL;
  const size_t rows = (size_t)size[0], cols = (size_t)size[1];
  if (rows == 0) {
    napi_throw_range_error(env, NULL, "rows: expected at least 1 row");
    return NULL;
  }
  if (conv_operand(env, argv[3], &heap, "x", rows * cols, &x) || conv_operand(env, argv[4], &heap, "shift", cols, &shift) ||
      conv_operand(env, argv[5], &heap, "centred", rows * cols, &centred) ||
      conv_operand(env, argv[6], &heap, "mean", cols, &mean) || conv_operand(env, argv[7], &heap, "scatter", cols * cols, &scatter))
    return NULL;
  ddinit_centred_scatter(x, rows, size[1], shift, centred, mean, scatter);
  return NULL;
}

/* fillGaussian(heap, count, out, s0, s1, s2, s3, tables) → out ← count N(0, 1) values (gaussian.h);
 * s0 … s3 the xoshiro128** state (32-bit integers, signed or not), tables a Float64Array of the
 * ziggurat's 257 doubles. */
static napi_value fill_gaussian(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"count"};
  static const char *const words[] = {"s0", "s1", "s2", "s3"};
  napi_value argv[8];
  heap_view heap;
  int count[1];
  float *out;
  if (sized_args(env, info, "fillGaussian", 8, argv, &heap, names, 1, count) != 0) return NULL;
  if (conv_operand(env, argv[2], &heap, "out", (size_t)count[0], &out)) return NULL;
  uint32_t state[4];
  for (int i = 0; i < 4; i++) {
    int64_t v;
    if (get_int(env, argv[3 + i], words[i], &v) != 0) return NULL;
    if (v < INT32_MIN || v > (int64_t)UINT32_MAX) {
      char message[128];
      snprintf(message, sizeof message, "%s: expected a 32-bit integer, got %lld", words[i], (long long)v);
      napi_throw_range_error(env, NULL, message);
      return NULL;
    }
    state[i] = (uint32_t)v;
  }
  if ((state[0] | state[1] | state[2] | state[3]) == 0) {
    napi_throw_range_error(env, NULL, "s0 … s3: expected a nonzero generator state, got 0, 0, 0, 0");
    return NULL;
  }
  void *tables = NULL;
  if (typed_arg(env, argv[7], napi_float64_array, "Float64Array", "tables", DDINIT_ZIGGURAT_TABLES, 1, &tables)) return NULL;
  ddinit_fill_gaussian(out, (size_t)count[0], state, tables);
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc != 1 || get_int(env, argv[0], "threads", &n)) return NULL;
  if (n < 1 || n > 1024) {
    napi_throw_range_error(env, NULL, "threads: expected an integer in [1, 1024]");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &result));
  return result;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor properties[] = {
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_default, NULL},
      {"groupedConv2d", NULL, grouped_conv2d, NULL, NULL, NULL, napi_default, NULL},
      {"groupedConv2dBackpropFilter", NULL, grouped_conv2d_backprop_filter, NULL, NULL, NULL, napi_default, NULL},
      {"groupedConv2dBackpropInput", NULL, grouped_conv2d_backprop_input, NULL, NULL, NULL, napi_default, NULL},
      {"batchMatMul", NULL, batch_mat_mul, NULL, NULL, NULL, napi_default, NULL},
      {"maxPoolGrad", NULL, max_pool_grad, NULL, NULL, NULL, napi_default, NULL},
      {"lrn", NULL, lrn, NULL, NULL, NULL, napi_default, NULL},
      {"lrnGrad", NULL, lrn_grad, NULL, NULL, NULL, napi_default, NULL},
      {"columnSums", NULL, column_sums, NULL, NULL, NULL, napi_default, NULL},
      {"reluGrad", NULL, relu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"orthonormalizeColumns", NULL, orthonormalize_columns, NULL, NULL, NULL, napi_default, NULL},
      {"haarOrthonormal", NULL, haar_orthonormal, NULL, NULL, NULL, napi_default, NULL},
      {"symmetricEigen", NULL, symmetric_eigen, NULL, NULL, NULL, napi_default, NULL},
      {"channelMoments", NULL, channel_moments, NULL, NULL, NULL, napi_default, NULL},
      {"sumOfSquares", NULL, sum_of_squares, NULL, NULL, NULL, napi_default, NULL},
      {"fillGaussian", NULL, fill_gaussian, NULL, NULL, NULL, napi_default, NULL},
      {"centredScatter", NULL, centred_scatter, NULL, NULL, NULL, napi_default, NULL},
      {"channelAffine", NULL, channel_affine, NULL, NULL, NULL, napi_default, NULL},
      {"gatherPatches", NULL, gather_patches, NULL, NULL, NULL, napi_default, NULL},
      {"kmeansPlusPlus", NULL, kmeans_plus_plus, NULL, NULL, NULL, napi_default, NULL},
      {"nearestCentres", NULL, nearest_centres, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, get_threads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, get_config, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
