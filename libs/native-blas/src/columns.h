/*
 * Passes over float32 tensors that the backward pass of a convolution with a bias and a
 * ReLU needs besides the products (conv.h): the bias gradient and the ReLU mask; and the
 * per-channel affine map of the within-layer normalization. Pure C (no N-API, no BLAS).
 */
#ifndef DDINIT_COLUMNS_H
#define DDINIT_COLUMNS_H

#include <stddef.h>

/* out[c] = sum over r of x[r * cols + c] (a bias's gradient: dy [batch, h, w, c] summed to [c]), accumulated in
 * double, rows in order: the same sums, bit for bit, as a float64 accumulation over the rows in JavaScript.
 * Returns 0, or -1 when out of memory. */
int ddinit_column_sums(size_t rows, size_t cols, const float *x, float *out);

/* dx[i] = dy[i] * (y[i] > 0 ? 1 : 0): the gradient through y = relu(x), from the output (y > 0 exactly where
 * x > 0), as tfjs's dy · step(y) (a NaN in dy stays NaN). */
void ddinit_relu_grad(size_t n, const float *y, const float *dy, float *dx);

/* y[r·channels + i] = x[r·channels + i]·scale[i] + shift[i] over `rows` rows, in float32 with the product rounded
 * before the sum (no fused multiply-add at the baseline x86-64 target): tfjs's add(mul(x, scale), shift), bit for
 * bit, in one pass. y may be x. */
void ddinit_channel_affine(size_t rows, size_t channels, const float *x, const float *scale, const float *shift, float *y);

#endif
