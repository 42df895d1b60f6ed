/*
 * Convolutions as matrix products (see conv.h). The output pixels of all
 * images form the rows of one matrix, `rows = batch*out_h*out_w`; the columns of
 * the im2col matrix are ordered (kh, kw, ci), which is exactly the row order of
 * an HWIO filter seen as a [f_h*f_w*in_c, out_c] matrix. So
 *
 *   forward:          y[rows, out_c]  = cols[rows, K] * W[K, out_c]
 *   filter gradient:  dW[K, out_c]    = cols[rows, K]^T * dy[rows, out_c]
 *   input gradient:   dcols[rows, K]  = dy[rows, out_c] * W^T, then col2im into dx
 *
 * with K = f_h*f_w*in_c. Rows are processed in chunks so the scratch matrix
 * stays under CHUNK_FLOATS floats; a 1x1, stride-1, unpadded convolution needs
 * no im2col at all (x is already cols).
 */
#include "conv.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 16 MiB of scratch per call: large enough for efficient products, small enough to stay in memory bandwidth. */
#define CHUNK_FLOATS ((size_t)4 << 20)

size_t ddinit_conv_x_size(const ddinit_conv_geometry *g) {
  return (size_t)g->batch * g->in_h * g->in_w * g->in_c;
}

size_t ddinit_conv_filter_size(const ddinit_conv_geometry *g) {
  return (size_t)g->f_h * g->f_w * g->in_c * g->out_c;
}

size_t ddinit_grouped_filter_size(const ddinit_conv_geometry *g, int groups) {
  return (size_t)g->f_h * g->f_w * (g->in_c / groups) * g->out_c;
}

size_t ddinit_conv_y_size(const ddinit_conv_geometry *g) {
  return (size_t)g->batch * g->out_h * g->out_w * g->out_c;
}

static int is_pointwise(const ddinit_conv_geometry *g) {
  return g->f_h == 1 && g->f_w == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_top == 0 &&
         g->pad_left == 0 && g->out_h == g->in_h && g->out_w == g->in_w;
}

static size_t chunk_rows(size_t k, size_t rows) {
  size_t n = CHUNK_FLOATS / (k > 0 ? k : 1);
  if (n < 1) n = 1;
  return n < rows ? n : rows;
}

/* dst[0, c) = src[0, c), or zeros when src is NULL: a loop for the few channels of a first layer (a memcpy call
 * per pixel and tap was most of conv1's im2col at one channel), memcpy/memset otherwise. */
static inline void copy_channels(float *dst, const float *src, size_t c) {
  if (c < 16) {
    for (size_t i = 0; i < c; i++) dst[i] = src == NULL ? 0.0f : src[i];
  } else if (src == NULL) {
    memset(dst, 0, sizeof(float) * c);
  } else {
    memcpy(dst, src, sizeof(float) * c);
  }
}

/* cols[r - r0, :] for output rows r in [r0, r1), from input channels [c0, c0 + c) of the in_c. */
static void im2col(const ddinit_conv_geometry *g, const float *x, size_t r0, size_t r1, size_t c0, size_t c, float *cols) {
  const size_t per_image = (size_t)g->out_h * g->out_w;
  const size_t stride = (size_t)g->in_c;
  const int contiguous = c == stride && g->dilation_w == 1; /* every channel of adjacent pixels: one run per window row */
  float *dst = cols;
  for (size_t r = r0; r < r1; r++) {
    const size_t b = r / per_image;
    const int oh = (int)((r % per_image) / g->out_w);
    const int ow = (int)(r % g->out_w);
    const float *image = x + b * g->in_h * g->in_w * stride + c0;
    for (int kh = 0; kh < g->f_h; kh++) {
      const int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
      if (ih < 0 || ih >= g->in_h) {
        memset(dst, 0, sizeof(float) * c * g->f_w);
        dst += c * g->f_w;
        continue;
      }
      const float *row = image + (size_t)ih * g->in_w * stride;
      const int iw0 = ow * g->stride_w - g->pad_left, span = (g->f_w - 1) * g->dilation_w;
      if (contiguous && iw0 >= 0 && iw0 + span < g->in_w) {
        /* The window's row lies inside the image and its taps are adjacent pixels of every channel: one copy. */
        memcpy(dst, row + (size_t)iw0 * stride, sizeof(float) * c * g->f_w);
        dst += c * g->f_w;
        continue;
      }
      for (int kw = 0; kw < g->f_w; kw++) {
        const int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
        copy_channels(dst, iw < 0 || iw >= g->in_w ? NULL : row + (size_t)iw * stride, c);
        dst += c;
      }
    }
  }
}

/* dx[..., c0 : c0 + c] += col2im(dcols) for output rows r in [r0, r1). */
static void col2im_add(const ddinit_conv_geometry *g, const float *dcols, size_t r0, size_t r1, size_t c0, size_t c,
                       float *dx) {
  const size_t per_image = (size_t)g->out_h * g->out_w;
  const size_t stride = (size_t)g->in_c;
  const float *src = dcols;
  for (size_t r = r0; r < r1; r++) {
    const size_t b = r / per_image;
    const int oh = (int)((r % per_image) / g->out_w);
    const int ow = (int)(r % g->out_w);
    float *image = dx + b * g->in_h * g->in_w * stride + c0;
    for (int kh = 0; kh < g->f_h; kh++) {
      const int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
      if (ih < 0 || ih >= g->in_h) {
        src += c * g->f_w;
        continue;
      }
      float *row = image + (size_t)ih * g->in_w * stride;
      for (int kw = 0; kw < g->f_w; kw++) {
        const int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
        if (iw >= 0 && iw < g->in_w) {
          float *d = row + (size_t)iw * stride;
          for (size_t i = 0; i < c; i++) d[i] += src[i];
        }
        src += c;
      }
    }
  }
}

static void bias_activation(float *y, size_t rows, size_t n, const float *bias, int activation) {
  if (bias == NULL && activation == DDINIT_ACT_LINEAR) return;
  for (size_t r = 0; r < rows; r++) {
    float *row = y + r * n;
    if (bias != NULL) {
      for (size_t j = 0; j < n; j++) row[j] += bias[j];
    }
    if (activation == DDINIT_ACT_RELU) {
      for (size_t j = 0; j < n; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    } else if (activation == DDINIT_ACT_RELU6) {
      for (size_t j = 0; j < n; j++) row[j] = row[j] > 0.0f ? (row[j] < 6.0f ? row[j] : 6.0f) : 0.0f;
    }
  }
}

/* Called with the im2col rows [r0, r1) of one group of x (cols: (r1 - r0) x K_g, row stride `ld`). */
typedef void (*ddinit_chunk_fn)(const float *cols, size_t ld, size_t r0, size_t r1, int group, void *ctx);

/* Feeds every output row's im2col row of every group to `fn`, in chunks under CHUNK_FLOATS; a pointwise
 * convolution passes x itself (a group's channels are a column block of it). Returns 0, or -1 when out of memory. */
static int for_each_im2col_chunk(const ddinit_conv_geometry *g, int groups, const float *x, ddinit_chunk_fn fn,
                                 void *ctx) {
  const size_t rows = (size_t)g->batch * g->out_h * g->out_w;
  const size_t cin = (size_t)g->in_c / groups;
  const size_t k = (size_t)g->f_h * g->f_w * cin;
  if (is_pointwise(g)) {
    for (int group = 0; group < groups; group++) fn(x + group * cin, (size_t)g->in_c, 0, rows, group, ctx);
    return 0;
  }
  const size_t step = chunk_rows(k, rows);
  float *cols = malloc(sizeof(float) * step * k);
  if (cols == NULL) return -1;
  for (int group = 0; group < groups; group++) {
    for (size_t r0 = 0; r0 < rows; r0 += step) {
      const size_t r1 = r0 + step < rows ? r0 + step : rows;
      im2col(g, x, r0, r1, group * cin, cin, cols);
      fn(cols, k, r0, r1, group, ctx);
    }
  }
  free(cols);
  return 0;
}

typedef struct {
  size_t k, n, n_group;
  const float *w;
  float *y;
} forward_ctx;

/* y[rows, group's columns] = cols · W[:, group's columns]: the filter's column block g is group g's filters. */
static void forward_chunk(const float *cols, size_t ld, size_t r0, size_t r1, int group, void *ctx) {
  const forward_ctx *c = ctx;
  const size_t col0 = (size_t)group * c->n_group;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)c->n_group, (int)c->k, 1.0f, cols, (int)ld,
              c->w + col0, (int)c->n, 0.0f, c->y + r0 * c->n + col0, (int)c->n);
}

int ddinit_grouped_conv2d(const ddinit_conv_geometry *g, int groups, const float *x, const float *w, const float *bias,
                          int activation, float *y) {
  const size_t rows = (size_t)g->batch * g->out_h * g->out_w;
  const size_t k = (size_t)g->f_h * g->f_w * (g->in_c / groups);
  const size_t n = (size_t)g->out_c;
  if (rows == 0 || n == 0) return 0;
  if (k == 0) {
    memset(y, 0, sizeof(float) * rows * n);
  } else {
    forward_ctx ctx = {k, n, n / groups, w, y};
    if (for_each_im2col_chunk(g, groups, x, forward_chunk, &ctx) != 0) return -1;
  }
  bias_activation(y, rows, n, bias, activation);
  return 0;
}

int ddinit_conv2d(const ddinit_conv_geometry *g, const float *x, const float *w, const float *bias, int activation,
                  float *y) {
  return ddinit_grouped_conv2d(g, 1, x, w, bias, activation, y);
}

typedef struct {
  size_t k, n, n_group;
  const float *dy;
  float *dw;
} filter_ctx;

/* dw[:, group's columns] (+)= colsᵀ dy[chunk rows, group's columns]: the first chunk overwrites, the others accumulate. */
static void filter_chunk(const float *cols, size_t ld, size_t r0, size_t r1, int group, void *ctx) {
  const filter_ctx *c = ctx;
  const size_t col0 = (size_t)group * c->n_group;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->k, (int)c->n_group, (int)(r1 - r0), 1.0f, cols, (int)ld,
              c->dy + r0 * c->n + col0, (int)c->n, r0 == 0 ? 0.0f : 1.0f, c->dw + col0, (int)c->n);
}

int ddinit_grouped_conv2d_backprop_filter(const ddinit_conv_geometry *g, int groups, const float *x, const float *dy,
                                          float *dw) {
  const size_t rows = (size_t)g->batch * g->out_h * g->out_w;
  const size_t k = (size_t)g->f_h * g->f_w * (g->in_c / groups);
  const size_t n = (size_t)g->out_c;
  if (k == 0 || n == 0) return 0;
  if (rows == 0) {
    memset(dw, 0, sizeof(float) * k * n);
    return 0;
  }
  filter_ctx ctx = {k, n, n / groups, dy, dw};
  return for_each_im2col_chunk(g, groups, x, filter_chunk, &ctx);
}

int ddinit_conv2d_backprop_filter(const ddinit_conv_geometry *g, const float *x, const float *dy, float *dw) {
  return ddinit_grouped_conv2d_backprop_filter(g, 1, x, dy, dw);
}

int ddinit_grouped_conv2d_backprop_input(const ddinit_conv_geometry *g, int groups, const float *dy, const float *w,
                                         float *dx) {
  const size_t rows = (size_t)g->batch * g->out_h * g->out_w;
  const size_t cin = (size_t)g->in_c / groups;
  const size_t k = (size_t)g->f_h * g->f_w * cin;
  const size_t n = (size_t)g->out_c, n_group = n / groups;
  if (is_pointwise(g) && rows > 0 && k > 0 && n > 0) {
    /* dx[:, group's channels] = dy[:, group's columns] · W[:, group's columns]ᵀ */
    for (int group = 0; group < groups; group++) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, (int)n_group, 1.0f, dy + group * n_group,
                  (int)n, w + group * n_group, (int)n, 0.0f, dx + group * cin, g->in_c);
    }
    return 0;
  }
  memset(dx, 0, sizeof(float) * ddinit_conv_x_size(g));
  if (rows == 0 || k == 0 || n == 0) return 0;
  const size_t step = chunk_rows(k, rows);
  float *dcols = malloc(sizeof(float) * step * k);
  if (dcols == NULL) return -1;
  for (int group = 0; group < groups; group++) {
    for (size_t r0 = 0; r0 < rows; r0 += step) {
      const size_t r1 = r0 + step < rows ? r0 + step : rows;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)k, (int)n_group, 1.0f,
                  dy + r0 * n + group * n_group, (int)n, w + group * n_group, (int)n, 0.0f, dcols, (int)k);
      col2im_add(g, dcols, r0, r1, group * cin, cin, dx);
    }
  }
  free(dcols);
  return 0;
}

int ddinit_conv2d_backprop_input(const ddinit_conv_geometry *g, const float *dy, const float *w, float *dx) {
  return ddinit_grouped_conv2d_backprop_input(g, 1, dy, w, dx);
}

void ddinit_batch_matmul(int batch, int trans_a, int trans_b, int m, int n, int k, const float *a, size_t a_stride,
                         const float *b, size_t b_stride, const float *bias, int activation, float *c,
                         size_t c_stride) {
  for (int i = 0; i < batch; i++) {
    float *ci = c + (size_t)i * c_stride;
    if (k == 0) {
      memset(ci, 0, sizeof(float) * (size_t)m * n);
    } else if (m > 0 && n > 0) {
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                  1.0f, a + (size_t)i * a_stride, trans_a ? m : k, b + (size_t)i * b_stride, trans_b ? k : n, 0.0f, ci,
                  n);
    }
    bias_activation(ci, (size_t)m, (size_t)n, bias, activation);
  }
}

int ddinit_max_pool_grad(const ddinit_conv_geometry *g, const float *x, const float *dy, float *dx) {
  const size_t c = (size_t)g->in_c;
  memset(dx, 0, sizeof(float) * ddinit_conv_x_size(g));
  if (c == 0) return 0;
  float *best = malloc(sizeof(float) * c);
  size_t *best_at = malloc(sizeof(size_t) * c);
  if (best == NULL || best_at == NULL) {
    free(best);
    free(best_at);
    return -1;
  }
  for (int b = 0; b < g->batch; b++) {
    for (int oh = 0; oh < g->out_h; oh++) {
      const int ih0 = oh * g->stride_h - g->pad_top;
      const int kh0 = ih0 < 0 ? -ih0 : 0;
      const int kh1 = g->in_h - ih0 < g->f_h ? g->in_h - ih0 : g->f_h;
      for (int ow = 0; ow < g->out_w; ow++) {
        const int iw0 = ow * g->stride_w - g->pad_left;
        const int kw0 = iw0 < 0 ? -iw0 : 0;
        const int kw1 = g->in_w - iw0 < g->f_w ? g->in_w - iw0 : g->f_w;
        for (size_t i = 0; i < c; i++) {
          best[i] = -INFINITY;
          best_at[i] = SIZE_MAX;
        }
        for (int kh = kh0; kh < kh1; kh++) {
          for (int kw = kw0; kw < kw1; kw++) {
            const size_t p = (((size_t)b * g->in_h + ih0 + kh) * g->in_w + iw0 + kw) * c;
            const float *v = x + p;
            for (size_t i = 0; i < c; i++) {
              if (v[i] > best[i]) {
                best[i] = v[i];
                best_at[i] = p + i;
              }
            }
          }
        }
        const float *grad = dy + (((size_t)b * g->out_h + oh) * g->out_w + ow) * c;
        for (size_t i = 0; i < c; i++) {
          if (best_at[i] != SIZE_MAX) dx[best_at[i]] += grad[i];
        }
      }
    }
  }
  free(best);
  free(best_at);
  return 0;
}

void ddinit_gather_patches(const ddinit_conv_geometry *g, int groups, const float *x, const int *positions, size_t rows,
                           float *out) {
  const size_t cin = (size_t)g->in_c, cg = cin / groups, f = (size_t)g->f_h * g->f_w * cg;
  const size_t per_image = (size_t)g->out_h * g->out_w;
  for (size_t r = 0; r < rows; r++) {
    const size_t p = (size_t)positions[r], b = p / per_image, rest = p % per_image;
    const int oy = (int)(rest / g->out_w), ox = (int)(rest % g->out_w);
    for (int i = 0; i < g->f_h; i++) {
      const int y = oy * g->stride_h + i * g->dilation_h - g->pad_top;
      for (int j = 0; j < g->f_w; j++) {
        const int xc = ox * g->stride_w + j * g->dilation_w - g->pad_left;
        const int inside = y >= 0 && y < g->in_h && xc >= 0 && xc < g->in_w;
        const float *src = inside ? x + ((b * g->in_h + (size_t)y) * g->in_w + (size_t)xc) * cin : NULL;
        for (int group = 0; group < groups; group++) {
          float *dst = out + ((size_t)group * rows + r) * f + ((size_t)i * g->f_w + j) * cg;
          if (inside) memcpy(dst, src + (size_t)group * cg, sizeof(float) * cg);
          else memset(dst, 0, sizeof(float) * cg);
        }
      }
    }
  }
}
