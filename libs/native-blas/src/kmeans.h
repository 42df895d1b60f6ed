/*
 * The two inner loops of @ddinit/core's k-means (libs/core/src/linalg/kmeans-plus-plus.ts and
 * nearest-centres.ts, which define them): greedy k-means++ seeding and the nearest centre of
 * every row, on sgemm. Pure C over plain arrays (no N-API here, see addon.c).
 */
#ifndef DDINIT_KMEANS_H
#define DDINIT_KMEANS_H

#include <stddef.h>

/* Greedy k-means++ seeds of the rows x (n × d, row-major; norms[i] = ‖x_i‖² in double): chosen[0] = first; then for
 * each next seed c, `trials` candidates drawn with probability ∝ the squared distance to the nearest seed so far (the
 * uniform uniforms[(c − 1)·trials + t] times the total, located in the running sums; a uniform row when every distance
 * is 0), the one that lowers Σ_i min(closest_i, ‖x_i − x_cand‖²) most kept (the first of equals). Distances are
 * max(0, ‖x_i‖² + ‖x_c‖² − 2·x_i·x_c) in double, rounded to float32 as the JavaScript rounds them, with the
 * products from the Gram matrix X·Xᵀ (one sgemm, n² floats) when use_gram, else from one sgemm per step against
 * the candidates. Returns 0, or -1 when out of memory. */
int ddinit_kmeans_plus_plus(const float *x, int n, int d, int k, int trials, const double *norms, int first,
                            const double *uniforms, int use_gram, int *chosen);

/* For every row x_i (n × d): labels[i] = argmin_c (‖c‖² − 2·x_i·c) over the k centres (k × d; the first of equals;
 * ‖c‖² and the scores in float32, as the tfjs ops compute them) and distances[i] = max(0, norms[i] + that minimum).
 * Rows in chunks. Returns 0, or -1 when out of memory. */
int ddinit_nearest_centres(const float *x, int n, int d, const float *centres, int k, const double *norms, int *labels,
                           double *distances);

#endif
