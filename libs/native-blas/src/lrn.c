/*
 * Local response normalization and its gradient (see lrn.h).
 *
 * Per pixel, the window sums of x² come from a running sum over the channels
 * (in double, so adding and removing squares loses nothing a float would keep),
 * and s^(-beta) from sqrt for the betas CaffeNet and tfjs use (0.75, 0.5), powf
 * otherwise: the power is most of the cost of an LRN.
 */
#include "lrn.h"

#include <math.h>
#include <stdlib.h>

/* s^(-beta): 1/sqrt(s·sqrt(s)) for 0.75 and 1/sqrt(s) for 0.5 (exact to float rounding), else powf. */
static inline float inverse_power(float s, float beta) {
  if (beta == 0.75f) return 1.0f / sqrtf(s * sqrtf(s));
  if (beta == 0.5f) return 1.0f / sqrtf(s);
  return powf(s, -beta);
}

/* scale[d] = bias + alpha * sum of squares of v over the window of d, for one pixel's channels. */
static void window_scale(const ddinit_lrn_params *p, const float *v, float *scale) {
  const int c = p->channels, r = p->radius;
  double sum = 0.0;
  for (int d = 0; d < r && d < c; d++) sum += (double)v[d] * v[d];
  for (int d = 0; d < c; d++) {
    if (d + r < c) sum += (double)v[d + r] * v[d + r];
    if (d - r - 1 >= 0) sum -= (double)v[d - r - 1] * v[d - r - 1];
    scale[d] = p->bias + p->alpha * (float)sum;
  }
}

int ddinit_lrn(const ddinit_lrn_params *p, const float *x, float *y) {
  const size_t c = (size_t)p->channels;
  if (c == 0 || p->rows == 0) return 0;
  float *scale = malloc(sizeof(float) * c);
  if (scale == NULL) return -1;
  for (size_t row = 0; row < p->rows; row++) {
    const float *xr = x + row * c;
    float *yr = y + row * c;
    window_scale(p, xr, scale);
    for (size_t d = 0; d < c; d++) yr[d] = xr[d] * inverse_power(scale[d], p->beta);
  }
  free(scale);
  return 0;
}

int ddinit_lrn_grad(const ddinit_lrn_params *p, const float *x, const float *y, const float *dy, float *dx) {
  const size_t c = (size_t)p->channels;
  const int r = p->radius;
  if (c == 0 || p->rows == 0) return 0;
  float *scale = malloc(sizeof(float) * 2 * c);
  if (scale == NULL) return -1;
  float *ratio = scale + c;
  const float factor = -2.0f * p->alpha * p->beta;
  for (size_t row = 0; row < p->rows; row++) {
    const float *xr = x + row * c, *yr = y + row * c, *dyr = dy + row * c;
    float *dxr = dx + row * c;
    window_scale(p, xr, scale);
    for (size_t d = 0; d < c; d++) ratio[d] = dyr[d] * yr[d] / scale[d];
    double sum = 0.0; /* sum of ratio over the window of k, kept as the window slides */
    for (int d = 0; d < r && d < (int)c; d++) sum += ratio[d];
    for (int k = 0; k < (int)c; k++) {
      if (k + r < (int)c) sum += ratio[k + r];
      if (k - r - 1 >= 0) sum -= ratio[k - r - 1];
      dxr[k] = dyr[k] * inverse_power(scale[k], p->beta) + factor * xr[k] * (float)sum;
    }
  }
  free(scale);
  return 0;
}
