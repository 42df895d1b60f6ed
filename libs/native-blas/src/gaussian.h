/*
 * Seeded N(0, 1) draws: the xoshiro128** generator and ZIGNOR ziggurat of @ddinit/core's
 * `fillGaussian` (libs/core/src/linalg/gaussian-matrix.ts, which documents the method), in C
 * for the large data-free draws (CaffeNet's fc6 kernel: 3.8e7 values). Pure C (no N-API, no BLAS).
 */
#ifndef DDINIT_GAUSSIAN_H
#define DDINIT_GAUSSIAN_H

#include <stddef.h>
#include <stdint.h>

/* The ziggurat's blocks (128) and the size of its tables: X_0 … X_128, then X_{i+1}/X_i for i < 128. */
enum { DDINIT_ZIGGURAT_BLOCKS = 128, DDINIT_ZIGGURAT_TABLES = 2 * DDINIT_ZIGGURAT_BLOCKS + 1 };

/* out[0 … n) ← the values @ddinit/core's fillGaussian draws from the generator state s0 … s3 (not all
 * zero) with the tables it computes (passed in, so both use the same doubles): the same integer
 * steps and the same double arithmetic in the same order (no contraction into fused multiply-adds
 * at the baseline x86-64 target), so the same float32 values, except where the C library's exp or
 * log (the rare tail and wedge paths) rounds differently from V8's in the last bit. */
void ddinit_fill_gaussian(float *out, size_t n, const uint32_t state[4], const double *tables);

#endif
