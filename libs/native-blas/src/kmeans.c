/* See kmeans.h. */
#include "kmeans.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Rows per product of ddinit_nearest_centres: the scores of a chunk stay a few MB. */
enum { CHUNK_ROWS = 4096 };

static inline double distance(double norm_i, double norm_c, float dot) {
  const double v = norm_i + norm_c - 2 * (double)dot;
  return (float)(v > 0 ? v : 0);
}

/* The candidate row of uniform u: the first i with cumulative[i] > u·total (every distance 0: ⌊u·n⌋). */
static int draw(const double *cumulative, int n, double total, double u) {
  if (!(total > 0)) {
    const int i = (int)(u * n);
    return i < n ? i : n - 1;
  }
  const double r = u * total;
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (int)(((unsigned)lo + (unsigned)hi) >> 1);
    if (cumulative[mid] <= r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* dist[t·n + i] = the distance of row i to candidate t, for the `l` candidate rows `rows`. */
static void candidate_distances(const float *x, int n, int d, const double *norms, const int *rows, int l, float *cand,
                                float *dots, float *dist) {
  for (int t = 0; t < l; t++) memcpy(cand + (size_t)t * d, x + (size_t)rows[t] * d, sizeof(float) * d);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l, d, 1.0f, x, d, cand, d, 0.0f, dots, l);
  for (int t = 0; t < l; t++)
    for (int i = 0; i < n; i++) dist[(size_t)t * n + i] = (float)distance(norms[i], norms[rows[t]], dots[(size_t)i * l + t]);
}

/* dist[t·n + i] for the candidates `rows` from the Gram matrix X·Xᵀ (row c holds x_c·x_i). */
static void gram_distances(const float *gram, int n, const double *norms, const int *rows, int l, float *dist) {
  for (int t = 0; t < l; t++) {
    const float *dots = gram + (size_t)rows[t] * n;
    for (int i = 0; i < n; i++) dist[(size_t)t * n + i] = (float)distance(norms[i], norms[rows[t]], dots[i]);
  }
}

int ddinit_kmeans_plus_plus(const float *x, int n, int d, int k, int trials, const double *norms, int first,
                            const double *uniforms, int use_gram, int *chosen) {
  const int l = trials > 1 ? trials : 1;
  double *closest = malloc(sizeof(double) * n), *cumulative = malloc(sizeof(double) * n);
  float *cand = malloc(sizeof(float) * (size_t)l * d), *dots = malloc(sizeof(float) * (size_t)n * l);
  float *dist = malloc(sizeof(float) * (size_t)n * l);
  float *gram = use_gram ? malloc(sizeof(float) * (size_t)n * n) : NULL;
  int *rows = malloc(sizeof(int) * l);
  const int ok = closest && cumulative && cand && dots && dist && rows && (gram || !use_gram);
  /* The same product as tfjs's matMul(x, x, false, true) on the addon: the JavaScript route's Gram matrix. */
  if (ok && use_gram) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0f, x, d, x, d, 0.0f, gram, n);
  if (ok && k > 0) {
    chosen[0] = first;
    if (use_gram) gram_distances(gram, n, norms, &first, 1, dist);
    else candidate_distances(x, n, d, norms, &first, 1, cand, dots, dist);
    for (int i = 0; i < n; i++) closest[i] = dist[i];
  }
  for (int c = 1; ok && c < k; c++) {
    double total = 0;
    for (int i = 0; i < n; i++) cumulative[i] = total += closest[i];
    for (int t = 0; t < trials; t++) rows[t] = draw(cumulative, n, total, uniforms[(size_t)(c - 1) * trials + t]);
    if (use_gram) gram_distances(gram, n, norms, rows, trials, dist);
    else candidate_distances(x, n, d, norms, rows, trials, cand, dots, dist);
    int best = 0;
    double best_potential = 0;
    for (int t = 0; t < trials; t++) {
      const float *row = dist + (size_t)t * n;
      double p = 0;
      for (int i = 0; i < n; i++) p += closest[i] < row[i] ? closest[i] : row[i];
      if (t == 0 || p < best_potential) best_potential = p, best = t;
    }
    chosen[c] = rows[best];
    const float *row = dist + (size_t)best * n;
    for (int i = 0; i < n; i++)
      if (row[i] < closest[i]) closest[i] = row[i];
  }
  free(rows);
  free(gram);
  free(dist);
  free(dots);
  free(cand);
  free(cumulative);
  free(closest);
  return ok ? 0 : -1;
}

int ddinit_nearest_centres(const float *x, int n, int d, const float *centres, int k, const double *norms, int *labels,
                           double *distances) {
  const int chunk = n < CHUNK_ROWS ? n : CHUNK_ROWS;
  float *centre_norms = malloc(sizeof(float) * k), *scores = malloc(sizeof(float) * (size_t)chunk * k);
  if (centre_norms == NULL || scores == NULL) {
    free(scores);
    free(centre_norms);
    return -1;
  }
  for (int c = 0; c < k; c++) {
    float s = 0;
    for (int j = 0; j < d; j++) s += centres[(size_t)c * d + j] * centres[(size_t)c * d + j];
    centre_norms[c] = s;
  }
  for (int start = 0; start < n; start += chunk) {
    const int rows = n - start < chunk ? n - start : chunk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, d, 1.0f, x + (size_t)start * d, d, centres, d, 0.0f,
                scores, k);
    for (int i = 0; i < rows; i++) {
      const float *row = scores + (size_t)i * k;
      int label = 0;
      float best = 0;
      for (int c = 0; c < k; c++) {
        const float product = 2.0f * row[c];
        const float score = centre_norms[c] - product;
        if (c == 0 || score < best) best = score, label = c;
      }
      const double v = norms[start + i] + (double)best;
      labels[start + i] = label;
      distances[start + i] = v > 0 ? v : 0;
    }
  }
  free(scores);
  free(centre_norms);
  return 0;
}
