/* See gaussian.h; the JavaScript it mirrors is libs/core/src/linalg/gaussian-matrix.ts. */
#include "gaussian.h"

#include <math.h>

static const double TAIL = 3.442619855899;
static const double TWO_TO_MINUS_24 = 1.0 / 16777216.0;
static const double TWO_TO_MINUS_32 = 1.0 / 4294967296.0;

static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/* One xoshiro128** step: the 32-bit output. */
static inline uint32_t next(uint32_t *s) {
  const uint32_t out = rotl(s[1] * 5u, 7) * 9u, t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return out;
}

static inline double uniform(uint32_t *s) { return ((double)next(s) + 0.5) * TWO_TO_MINUS_32; }

/* The slow paths of `block` for u: a value, or NAN when the draw is rejected. */
static double outside_block(uint32_t *s, int block, double u, const double *edges) {
  if (block == 0) {
    for (;;) {
      const double a = log(uniform(s)) / TAIL;
      if (-2 * log(uniform(s)) >= a * a) return u < 0 ? a - TAIL : TAIL - a;
    }
  }
  const double x = u * edges[block];
  const double f0 = exp(-0.5 * (edges[block] * edges[block] - x * x));
  const double f1 = exp(-0.5 * (edges[block + 1] * edges[block + 1] - x * x));
  return f1 + uniform(s) * (f0 - f1) < 1 ? x : NAN;
}

void ddinit_fill_gaussian(float *out, size_t n, const uint32_t state[4], const double *tables) {
  const double *edges = tables, *ratios = tables + DDINIT_ZIGGURAT_BLOCKS + 1;
  uint32_t s[4] = {state[0], state[1], state[2], state[3]};
  size_t i = 0;
  while (i < n) {
    const uint32_t r = next(s);
    const int block = (int)(r & (DDINIT_ZIGGURAT_BLOCKS - 1));
    const double u = (double)((int32_t)r >> 7) * TWO_TO_MINUS_24; /* r as int32, arithmetic shift: JS's r >> 7 */
    if (fabs(u) < ratios[block]) {
      out[i++] = (float)(u * edges[block]);
      continue;
    }
    const double z = outside_block(s, block, u, edges);
    if (!isnan(z)) out[i++] = (float)z;
  }
}
