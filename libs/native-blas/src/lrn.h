/*
 * Local response normalization across channels on float32 channels-last tensors, as
 * tfjs defines it (and Caffe's ACROSS_CHANNELS LRN with alpha/n): for each pixel and channel d,
 *   s_d = bias + alpha * sum_{d' = d - r}^{d + r} x_{d'}^2   (d' clipped to [0, channels)),
 *   y_d = x_d * s_d^(-beta).
 * Pure C (no N-API, no BLAS): the loops of Caffe's LRN layer, one pass per pixel.
 */
#ifndef DDINIT_LRN_H
#define DDINIT_LRN_H

#include <stddef.h>

typedef struct {
  size_t rows;   /* pixels: batch * height * width */
  int channels;  /* the last axis */
  int radius;    /* depthRadius r: the window is 2r + 1 channels */
  float bias, alpha, beta;
} ddinit_lrn_params;

/* y = LRN(x). Returns 0, or -1 when out of memory. */
int ddinit_lrn(const ddinit_lrn_params *p, const float *x, float *y);

/* dx = d(loss)/dx from x, y = LRN(x) and dy:
 *   dx_k = dy_k * s_k^(-beta) - 2 * alpha * beta * x_k * sum_{d in window(k)} dy_d * y_d / s_d
 * (the scale s recomputed from x: a handful of products per value). Returns 0, or -1 when out of memory. */
int ddinit_lrn_grad(const ddinit_lrn_params *p, const float *x, const float *y, const float *dy, float *dx);

#endif
