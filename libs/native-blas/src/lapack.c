/*
 * QR and symmetric eigendecomposition on LAPACK; see lapack.h for the contracts.
 * Debian's OpenBLAS is built without LAPACKE (its config says NO_LAPACKE) but
 * exports the Fortran routines, declared here with gfortran's calling convention:
 * every argument by reference, a hidden length (size_t) after the list for each
 * character argument.
 */
#include "lapack.h"

#include <cblas.h>

#include <math.h>
#include <stdlib.h>

extern void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork,
                    int *info);
extern void slarft_(const char *direct, const char *storev, const int *n, const int *k, const float *v, const int *ldv,
                    const float *tau, float *t, const int *ldt, size_t direct_len, size_t storev_len);
extern void slarfb_(const char *side, const char *trans, const char *direct, const char *storev, const int *m,
                    const int *n, const int *k, const float *v, const int *ldv, const float *t, const int *ldt, float *c,
                    const int *ldc, float *work, const int *ldwork, size_t side_len, size_t trans_len,
                    size_t direct_len, size_t storev_len);
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
extern void slarfg_(const int *n, float *alpha, float *x, const int *incx, float *tau);
extern void ssytrd_(const char *uplo, const int *n, float *a, const int *lda, float *d, float *e, float *tau,
                    float *work, const int *lwork, int *info, size_t uplo_len);
extern void dstemr_(const char *jobz, const char *range, const int *n, double *d, double *e, const double *vl,
                    const double *vu, const int *il, const int *iu, int *m, double *w, double *z, const int *ldz,
                    const int *nzc, int *isuppz, int *tryrac, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t jobz_len, size_t range_len);
extern void sormtr_(const char *side, const char *uplo, const char *trans, const int *m, const int *n, const float *a,
                    const int *lda, const float *tau, float *c, const int *ldc, float *work, const int *lwork,
                    int *info, size_t side_len, size_t uplo_len, size_t trans_len);

enum { TILE = 32 };

/* dst[j*rows + i] = src[i*cols + j] (row-major rows×cols into column-major), by tiles for the caches. */
static void to_column_major(int rows, int cols, const float *src, float *dst) {
  for (int i0 = 0; i0 < rows; i0 += TILE)
    for (int j0 = 0; j0 < cols; j0 += TILE) {
      const int i1 = i0 + TILE < rows ? i0 + TILE : rows, j1 = j0 + TILE < cols ? j0 + TILE : cols;
      for (int j = j0; j < j1; j++)
        for (int i = i0; i < i1; i++) dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
    }
}

/* dst[i*cols + j] = sign[j] · src[j*rows + i] (column-major back into row-major, columns scaled by ±1). */
static void to_row_major_signed(int rows, int cols, const float *src, const float *sign, float *dst) {
  for (int i0 = 0; i0 < rows; i0 += TILE)
    for (int j0 = 0; j0 < cols; j0 += TILE) {
      const int i1 = i0 + TILE < rows ? i0 + TILE : rows, j1 = j0 + TILE < cols ? j0 + TILE : cols;
      for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) dst[(size_t)i * cols + j] = sign[j] * src[(size_t)j * rows + i];
    }
}

/* sgeqrf's optimal workspace, from an lwork = −1 query on the column-major c. */
static int qr_workspace(int m, int n, float *c, float *tau) {
  const int query = -1;
  float size = 0;
  int info = 0;
  sgeqrf_(&m, &n, c, &m, tau, &size, &query, &info);
  return size > 1 ? (int)size : 1;
}

/* Columns per block of expand_reflectors: sorgqr's 32 (from ilaenv) leaves its products at k = 32,
 * where sgemm runs well below its rate (4096 × 4096: 0.90–1.05 s over 8 runs against 0.70–0.74 s at 128). */
enum { EXPAND_BLOCK = 128 };

/* c (column-major m×n, m ≥ n, reflector j below the diagonal of column j with v_j(j) = 1 implicit,
 * scalars tau) ← Q = H_0 H_1 ⋯ H_{n−1}·[I; 0], what sorgqr computes, by blocks of EXPAND_BLOCK
 * columns from the last: T of the block (slarft), the block's reflectors applied to the columns
 * already expanded (slarfb), and the block's own columns as [I; 0] − V·(T·V₁ᵀ), V₁ the block's top
 * square (strmm, sgemm). Returns 0, or -1 when out of memory (c unchanged). */
static int expand_reflectors(int m, int n, float *c, const float *tau) {
  const int nb = EXPAND_BLOCK;
  float *t = malloc(sizeof(float) * nb * nb), *w = malloc(sizeof(float) * nb * nb);
  float *v = malloc(sizeof(float) * (size_t)m * nb), *work = malloc(sizeof(float) * (size_t)(n > nb ? n : nb) * nb);
  const int ok = t != NULL && w != NULL && v != NULL && work != NULL;
  for (int i = ok ? ((n - 1) / nb) * nb : -1; i >= 0; i -= nb) {
    int ib = n - i < nb ? n - i : nb, rows = m - i, cols = n - i - ib;
    float *block = c + i + (size_t)i * m;
    slarft_("F", "C", &rows, &ib, block, &m, tau + i, t, &nb, 1, 1);
    if (cols > 0) slarfb_("L", "N", "F", "C", &rows, &cols, &ib, block, &m, t, &nb, block + (size_t)ib * m, &m, work, &cols, 1, 1, 1, 1);
    for (int q = 0; q < ib; q++)
      for (int r = 0; r < rows; r++) v[r + (size_t)q * rows] = r == q ? 1.0f : r < q ? 0.0f : block[r + (size_t)q * m];
    for (int q = 0; q < ib; q++)
      for (int r = 0; r < ib; r++) w[r + q * ib] = v[q + (size_t)r * rows]; /* W = V₁ᵀ */
    cblas_strmm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, ib, ib, 1.0f, t, nb, w, ib);
    for (int q = 0; q < ib; q++) {
      float *column = c + (size_t)(i + q) * m;
      for (int r = 0; r < m; r++) column[r] = r == i + q ? 1.0f : 0.0f;
    }
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, rows, ib, ib, -1.0f, v, rows, w, ib, 1.0f, block, m);
  }
  free(work);
  free(v);
  free(w);
  free(t);
  return ok ? 0 : -1;
}

/* ‖a_j‖, the norms of the columns of the row-major m×n a (accumulated in double). */
static void column_norms(int m, int n, const float *a, double *norm) {
  for (int j = 0; j < n; j++) norm[j] = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) norm[j] += (double)a[(size_t)i * n + j] * a[(size_t)i * n + j];
  for (int j = 0; j < n; j++) norm[j] = sqrt(norm[j]);
}

/* sign[j] = ±1, the sign of r_jj on the diagonal of the column-major c after sgeqrf; 0 when some
 * |r_jj| ≤ DDINIT_QR_RANK_TOLERANCE·‖a_j‖ (column j numerically in the span of the earlier ones)
 * or r_jj is not finite, else 1. */
static int diagonal_signs(int m, int n, const float *c, const double *norm, float *sign) {
  for (int j = 0; j < n; j++) {
    const float r = c[(size_t)j * m + j];
    if (!isfinite(r) || !(fabs(r) > DDINIT_QR_RANK_TOLERANCE * norm[j])) return 0;
    sign[j] = r < 0 ? -1.0f : 1.0f;
  }
  return 1;
}

int ddinit_orthonormalize_columns(int m, int n, float *a) {
  if (n == 0) return DDINIT_LAPACK_OK;
  float *c = malloc(sizeof(float) * (size_t)m * n);
  float *tau = malloc(sizeof(float) * (size_t)n);
  float *sign = malloc(sizeof(float) * (size_t)n);
  double *norm = malloc(sizeof(double) * (size_t)n);
  float *work = NULL;
  int status = DDINIT_LAPACK_NO_MEMORY, info = 0;
  if (c == NULL || tau == NULL || sign == NULL || norm == NULL) goto done;
  column_norms(m, n, a, norm);
  to_column_major(m, n, a, c);
  const int lwork = qr_workspace(m, n, c, tau);
  if ((work = malloc(sizeof(float) * (size_t)lwork)) == NULL) goto done;
  sgeqrf_(&m, &n, c, &m, tau, work, &lwork, &info);
  status = DDINIT_LAPACK_RANK_DEFICIENT;
  if (info != 0 || !diagonal_signs(m, n, c, norm, sign)) goto done;
  status = DDINIT_LAPACK_NO_MEMORY;
  if (expand_reflectors(m, n, c, tau) != 0) goto done;
  to_row_major_signed(m, n, c, sign, a);
  status = DDINIT_LAPACK_OK;
done:
  free(work);
  free(norm);
  free(sign);
  free(tau);
  free(c);
  return status;
}

/* a (row-major m×n) ← a·R⁻¹ with aᵀa = RᵀR (Cholesky, diag(R) > 0): the Q of a's thin QR with
 * diag(R) > 0, in three BLAS-3 calls on the row-major a itself (no transposes). 0, or -1 when aᵀa is
 * not positive definite to float32 precision (a unchanged) or memory ran out. */
static int cholesky_qr(int m, int n, float *a) {
  float *r = malloc(sizeof(float) * (size_t)n * n);
  if (r == NULL) return -1;
  /* Row-major upper R = aᵀa is LAPACK's column-major lower triangle: spotrf("L") leaves there
   * L with aᵀa = L·Lᵀ, i.e. the row-major upper U = Lᵀ with aᵀa = UᵀU. */
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, m, 1.0f, a, n, 0.0f, r, n);
  int info = 0;
  spotrf_("L", &n, r, &n, &info, 1);
  if (info == 0) cblas_strsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, m, n, 1.0f, r, n, a, n);
  free(r);
  return info == 0 ? 0 : -1;
}

int ddinit_haar_orthonormal(int m, int n, float *a) {
  if (n == 0) return DDINIT_LAPACK_OK;
  if (m >= DDINIT_HAAR_CHOLESKY_RATIO * n && cholesky_qr(m, n, a) == 0) return DDINIT_LAPACK_OK;
  float *c = malloc(sizeof(float) * (size_t)m * n);
  float *tau = malloc(sizeof(float) * (size_t)n);
  float *sign = malloc(sizeof(float) * (size_t)n);
  int status = DDINIT_LAPACK_NO_MEMORY;
  if (c == NULL || tau == NULL || sign == NULL) goto done;
  to_column_major(m, n, a, c);
  /* Column j: the reflector taking x_j = c[j..m−1, j] to β_j e_1 (slarfg: β_j = −sign(x_j1)·‖x_j‖, v_j below
   * the diagonal, tau_j). sign_j = sign(β_j) turns column j of H_1⋯H_n into +x_j/‖x_j‖ in its own coordinates:
   * the sign correction that makes a Householder Q Haar (the same as diag(R) > 0 for sgeqrf). */
  for (int j = 0; j < n; j++) {
    const int len = m - j, one = 1;
    float *x = c + (size_t)j * m + j;
    slarfg_(&len, x, x + 1, &one, tau + j);
    sign[j] = *x < 0 ? -1.0f : 1.0f;
  }
  if (expand_reflectors(m, n, c, tau) != 0) goto done;
  to_row_major_signed(m, n, c, sign, a);
  status = DDINIT_LAPACK_OK;
done:
  free(sign);
  free(tau);
  free(c);
  return status;
}

/* dstemr's range: 'A' for every pair (an index range first bounds its eigenvalues by bisection: all
 * 2304 pairs of a covariance took 2.16 s by range 'I', against dsyevr's 1.32 s by 'A'), 'I' for the
 * top `count`. */
static const char *stemr_range(int n, int count) { return count == n ? "A" : "I"; }

/* The float32 workspace (ssytrd, sormtr) and float64 workspace (dstemr) sizes LAPACK asks for
 * (lwork = −1 queries). */
static void eigen_workspace(int n, int count, float *a, double *d, double *e, float *tau, double *z, int *isuppz,
                            int *lwork32, int *lwork64, int *liwork) {
  const int query = -1, lda = n > 1 ? n : 1, il = n - count + 1, iu = n;
  const double unused = 0;
  float size_trd = 0, size_mtr = 0, *d32 = (float *)d, *e32 = (float *)e, *c = (float *)z;
  double size_mr = 0;
  int info = 0, found = 0, nzc = count, tryrac = 1;
  ssytrd_("L", &n, a, &lda, d32, e32, tau, &size_trd, &query, &info, 1);
  dstemr_("V", stemr_range(n, count), &n, d, e, &unused, &unused, &il, &iu, &found, d, z, &lda, &nzc, isuppz, &tryrac,
          &size_mr, &query, liwork, &query, &info, 1, 1);
  sormtr_("L", "L", "N", &n, &count, a, &lda, tau, c, &lda, &size_mtr, &query, &info, 1, 1, 1);
  const float size = size_trd > size_mtr ? size_trd : size_mtr;
  *lwork32 = size > 1 ? (int)size : 1;
  *lwork64 = size_mr > 1 ? (int)size_mr : 1;
  if (*liwork < 1) *liwork = 1;
}

/* A = Q T Qᵀ in float32 (T tridiagonal), T's top `count` pairs in float64 (w ascending, z column-major
 * n×count), converted to float32 into c, taken back through Q. Returns the LAPACK status. */
static int mixed_eigen(int n, int count, float *a, double *d, double *e, float *tau, double *w, double *z, float *c,
                       int *isuppz, float *work32, int lwork32, double *work64, int lwork64, int *iwork, int liwork) {
  const int il = n - count + 1, iu = n, lda = n > 1 ? n : 1;
  const double unused = 0;
  int found = 0, info = 0, nzc = count, tryrac = 1;
  float *d32 = work32, *e32 = work32 + n; /* ssytrd's d and e, before its own workspace */
  const int lwork_trd = lwork32 - 2 * n;
  ssytrd_("L", &n, a, &lda, d32, e32, tau, work32 + 2 * n, &lwork_trd, &info, 1);
  if (info != 0) return DDINIT_LAPACK_NOT_CONVERGED;
  for (int i = 0; i < n; i++) d[i] = d32[i];
  for (int i = 0; i + 1 < n; i++) e[i] = e32[i];
  dstemr_("V", stemr_range(n, count), &n, d, e, &unused, &unused, &il, &iu, &found, w, z, &lda, &nzc, isuppz, &tryrac,
          work64, &lwork64, iwork, &liwork, &info, 1, 1);
  if (info != 0 || found != count) return DDINIT_LAPACK_NOT_CONVERGED;
  for (size_t i = 0; i < (size_t)n * count; i++) c[i] = (float)z[i];
  sormtr_("L", "L", "N", &n, &count, a, &lda, tau, c, &lda, work32, &lwork32, &info, 1, 1, 1);
  return info == 0 ? DDINIT_LAPACK_OK : DDINIT_LAPACK_NOT_CONVERGED;
}

int ddinit_symmetric_eigen(int n, int count, float *a, float *values, float *vectors) {
  if (count == 0) return DDINIT_LAPACK_OK;
  int liwork = 0, lwork32 = 0, lwork64 = 0;
  double *d = malloc(sizeof(double) * (size_t)n), *e = malloc(sizeof(double) * (size_t)n);
  double *w = malloc(sizeof(double) * (size_t)n), *z = malloc(sizeof(double) * (size_t)n * count);
  float *tau = malloc(sizeof(float) * (size_t)n), *c = malloc(sizeof(float) * (size_t)n * count);
  int *isuppz = malloc(sizeof(int) * 2 * (size_t)count);
  float *work32 = NULL;
  double *work64 = NULL;
  int *iwork = NULL;
  int status = DDINIT_LAPACK_NO_MEMORY;
  if (d == NULL || e == NULL || w == NULL || z == NULL || tau == NULL || c == NULL || isuppz == NULL) goto done;
  eigen_workspace(n, count, a, d, e, tau, z, isuppz, &lwork32, &lwork64, &liwork);
  lwork32 += 2 * n;
  if ((work32 = malloc(sizeof(float) * (size_t)lwork32)) == NULL ||
      (work64 = malloc(sizeof(double) * (size_t)lwork64)) == NULL || (iwork = malloc(sizeof(int) * (size_t)liwork)) == NULL)
    goto done;
  status = mixed_eigen(n, count, a, d, e, tau, w, z, c, isuppz, work32, lwork32, work64, lwork64, iwork, liwork);
  if (status != DDINIT_LAPACK_OK) goto done;
  for (int j = 0; j < count; j++) {
    const int src = count - 1 - j; /* ascending → descending */
    values[j] = (float)w[src];
    for (int i = 0; i < n; i++) vectors[(size_t)i * count + j] = c[(size_t)src * n + i];
  }
done:
  free(iwork);
  free(work64);
  free(work32);
  free(isuppz);
  free(c);
  free(tau);
  free(z);
  free(w);
  free(e);
  free(d);
  return status;
}
