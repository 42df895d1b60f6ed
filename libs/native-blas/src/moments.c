/*
 * Per-channel moments (see moments.h). One pass over the values, channel innermost: the
 * compiler vectorizes across channels, and each channel's sums keep the row order (no
 * reassociation), so the results are the JavaScript reference's bit for bit.
 */
#include "moments.h"

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
