/*
 * Column sums and the ReLU mask (see columns.h).
 *
 * The sums run row after row so each row is read once, contiguously; the double
 * accumulators (one per column) keep the order of a JavaScript Float64Array loop, so
 * the wasm kernel without the addon and this one agree exactly.
 */
#include "columns.h"

#include <stdlib.h>

int ddinit_column_sums(size_t rows, size_t cols, const float *x, float *out) {
  if (cols == 0) return 0;
  double *acc = calloc(cols, sizeof(double));
  if (acc == NULL) return -1;
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * cols;
    for (size_t c = 0; c < cols; c++) acc[c] += row[c];
  }
  for (size_t c = 0; c < cols; c++) out[c] = (float)acc[c];
  free(acc);
  return 0;
}

void ddinit_relu_grad(size_t n, const float *y, const float *dy, float *dx) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] > 0.0f ? 1.0f : 0.0f);
}

void ddinit_channel_affine(size_t rows, size_t channels, const float *x, const float *scale, const float *shift, float *y) {
  for (size_t r = 0; r < rows; r++) {
    const float *in = x + r * channels;
    float *out = y + r * channels;
    for (size_t i = 0; i < channels; i++) {
      const float product = in[i] * scale[i];
      out[i] = product + shift[i];
    }
  }
}
