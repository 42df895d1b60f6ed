/*
 * Per-channel moments (see moments.h). One pass over the values, channel innermost: the
 * compiler vectorizes across channels, and each channel's sums keep the row order (no
 * reassociation), so the results are the JavaScript reference's bit for bit.
 */
#include "moments.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

int ddinit_channel_moments(const float *x, size_t rows, int channels, double *mean, double *std) {
  const size_t c = (size_t)channels;
  double *shift = malloc(sizeof(double) * 3 * c);
  if (shift == NULL) return -1;
  double *sum = shift + c, *squares = shift + 2 * c;
  for (size_t i = 0; i < c; i++) {
    shift[i] = x[i];
    sum[i] = 0.0;
    squares[i] = 0.0;
  }
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * c;
    for (size_t i = 0; i < c; i++) {
      const double d = (double)row[i] - shift[i];
      sum[i] += d;
      squares[i] += d * d;
    }
  }
  const double n = (double)rows;
  for (size_t i = 0; i < c; i++) {
    const double m = sum[i] / n;
    mean[i] = shift[i] + m;
    const double v = squares[i] / n - m * m;
    std[i] = sqrt(v > 0.0 ? v : 0.0);
  }
  free(shift);
  return 0;
}

double ddinit_sum_of_squares(const float *x, size_t n) {
  double a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += (double)x[i] * x[i];
    b += (double)x[i + 1] * x[i + 1];
    c += (double)x[i + 2] * x[i + 2];
    d += (double)x[i + 3] * x[i + 3];
  }
  for (; i < n; i++) a += (double)x[i] * x[i];
  return a + b + c + d;
}

void ddinit_centred_scatter(const float *x, size_t rows, int cols, const float *shift, float *centred, float *mean,
                            float *scatter) {
  const size_t c = (size_t)cols;
  double *sum = calloc(c, sizeof(double));
  for (size_t r = 0; r < rows; r++) {
    const float *row = x + r * c;
    float *out = centred + r * c;
    for (size_t j = 0; j < c; j++) {
      out[j] = row[j] - shift[j]; /* float32, as tfjs's sub */
      if (sum != NULL) sum[j] += out[j];
    }
  }
  for (size_t j = 0; j < c; j++) {
    if (sum != NULL) {
      mean[j] = (float)(sum[j] / (double)rows);
      continue;
    }
    double s = 0; /* no memory for the row-order sums: one column at a time, the same sums */
    for (size_t r = 0; r < rows; r++) s += centred[r * c + j];
    mean[j] = (float)(s / (double)rows);
  }
  free(sum);
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < c; j++) centred[r * c + j] -= mean[j];
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, (int)rows, 1.0f, centred, cols, 0.0f, scatter, cols);
  enum { TILE = 64 };
  for (size_t bi = 0; bi < c; bi += TILE)
    for (size_t bj = bi; bj < c; bj += TILE)
      for (size_t i = bi; i < bi + TILE && i < c; i++)
        for (size_t j = bj > i + 1 ? bj : i + 1; j < bj + TILE && j < c; j++) scatter[j * c + i] = scatter[i * c + j];
}
