/*
 * Per-channel mean and population standard deviation of float32 channels-last values
 * (rows × channels), in double: the within-layer normalization's μ_i and σ_i
 * (docs/method.md#normalization), and sums of squares (the calibration's mean W² and
 * mean ∇W²), and the centred scatter of patch rows (a covariance block; its product on BLAS).
 */
#ifndef DDINIT_MOMENTS_H
#define DDINIT_MOMENTS_H

#include <stddef.h>

/* mean[i], std[i] (i < channels) of x[r·channels + i] over r < rows (rows ≥ 1), each channel shifted by
 * its first value and summed in double in row order, exactly the arithmetic of @ddinit/core's JavaScript
 * `momentsOfValues`: d = x − x₀, μ = x₀ + Σd/n, σ = √max(Σd²/n − (Σd/n)², 0). Returns 0, or -1 when out of memory. */
int ddinit_channel_moments(const float *x, size_t rows, int channels, double *mean, double *std);

/* Σ x[k]² over k < n in double, with four accumulators taking k mod 4 (and the tail on the first),
 * added a + b + c + d at the end: exactly the arithmetic of @ddinit/core's JavaScript sumOfSquares
 * (a float32 square is exact in double, so the order of the sums is all that matters). */
double ddinit_sum_of_squares(const float *x, size_t n);

/* The centred scatter of rows x (rows × cols, rows ≥ 1) shifted by `shift` (cols): mean[j] = fround(Σ_r d_rj / rows)
 * with d = x − shift summed in double in row order, centred = d − mean (float32, written to `centred`, rows × cols),
 * scatter = centredᵀ·centred (cols × cols by ssyrk, its upper triangle mirrored into the lower one).
 * The arithmetic of @ddinit/core's streamed covariance block, with the mean summed in double. */
void ddinit_centred_scatter(const float *x, size_t rows, int cols, const float *shift, float *centred, float *mean,
                            float *scatter);

#endif
