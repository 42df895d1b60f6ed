/*
 * Convolution and matrix kernels on float32 NHWC tensors, by im2col / col2im
 * and OpenBLAS sgemm. Pure C: no N-API here (see addon.c), so the arithmetic
 * can be read and tested on its own.
 */
#ifndef DDINIT_CONV_H
#define DDINIT_CONV_H

#include <stddef.h>

/* The geometry of a 2-D convolution, channels-last:
 * x [batch, in_h, in_w, in_c], filter [f_h, f_w, in_c, out_c],
 * y [batch, out_h, out_w, out_c]; input row ih meets output row oh through
 * filter row kh when ih = oh*stride_h - pad_top + kh*dilation_h. */
typedef struct {
  int batch, in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int f_h, f_w;
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left;
} ddinit_conv_geometry;

enum { DDINIT_ACT_LINEAR = 0, DDINIT_ACT_RELU = 1, DDINIT_ACT_RELU6 = 2 };

/* Number of floats x, filter and y hold. */
size_t ddinit_conv_x_size(const ddinit_conv_geometry *g);
size_t ddinit_conv_filter_size(const ddinit_conv_geometry *g);
/* Floats of a grouped filter [f_h, f_w, in_c/groups, out_c]. */
size_t ddinit_grouped_filter_size(const ddinit_conv_geometry *g, int groups);
size_t ddinit_conv_y_size(const ddinit_conv_geometry *g);

/* y = act(conv(x, w) + bias); bias may be NULL. Returns 0, or -1 when out of memory. */
int ddinit_conv2d(const ddinit_conv_geometry *g, const float *x, const float *w, const float *bias, int activation,
                  float *y);

/* dw = d(loss)/d(filter) from x and dy. Returns 0, or -1 when out of memory. */
int ddinit_conv2d_backprop_filter(const ddinit_conv_geometry *g, const float *x, const float *dy, float *dw);

/* dx = d(loss)/d(x) from dy and the filter. Returns 0, or -1 when out of memory. */
int ddinit_conv2d_backprop_input(const ddinit_conv_geometry *g, const float *dy, const float *w, float *dx);

/* dx = gradient of max pooling (window f_h x f_w, strides, padding of g; out_c = in_c) from x and dy.
 * The first maximum of a window in row-major tap order takes its gradient (ties as the tfjs cpu backend);
 * a window with no value above -inf passes none. Returns 0. */
int ddinit_max_pool_grad(const ddinit_conv_geometry *g, const float *x, const float *dy, float *dx);

/* The same three with channel groups (Caffe's `group`): groups divides in_c and out_c; the filter is
 * [f_h, f_w, in_c/groups, out_c] and group k maps input channels [k·in_c/groups, (k+1)·in_c/groups) to output
 * channels [k·out_c/groups, (k+1)·out_c/groups), one sgemm per group on column blocks (no split, no concat). */
int ddinit_grouped_conv2d(const ddinit_conv_geometry *g, int groups, const float *x, const float *w, const float *bias,
                          int activation, float *y);
int ddinit_grouped_conv2d_backprop_filter(const ddinit_conv_geometry *g, int groups, const float *x, const float *dy,
                                          float *dw);
int ddinit_grouped_conv2d_backprop_input(const ddinit_conv_geometry *g, int groups, const float *dy, const float *w,
                                         float *dx);

/* c[i] = act(op(a[i]) * op(b[i]) + bias) for i < batch, row-major; op transposes when trans_* is set.
 * a[i] starts at a + i*a_stride (a_stride 0 broadcasts one matrix), likewise b and c. bias (length n) may be NULL. */
void ddinit_batch_matmul(int batch, int trans_a, int trans_b, int m, int n, int k, const float *a, size_t a_stride,
                         const float *b, size_t b_stride, const float *bias, int activation, float *c,
                         size_t c_stride);

/* The im2col rows of the sampled output positions only, group by group: out[(group·rows + r)·F + (i·f_w + j)·cg + c]
 * = x[b, oy·stride_h + i·dilation_h − pad_top, ox·stride_w + j·dilation_w − pad_left, group·cg + c] (0 outside the
 * image) for position p = positions[r] = (b·out_h + oy)·out_w + ox, cg = in_c/groups, F = f_h·f_w·cg: the patch rows
 * of @ddinit/init-within-layer's gatherPatches. Positions must lie in [0, batch·out_h·out_w). */
void ddinit_gather_patches(const ddinit_conv_geometry *g, int groups, const float *x, const int *positions, size_t rows,
                           float *out);

#endif
