/*
 * Dense factorizations on LAPACK (the Fortran symbols Debian's libopenblas exports:
 * sgeqrf_/slarft_/slarfb_, ssytrd_/dstemr_/sormtr_). Pure C: no N-API here (see addon.c).
 *
 * ddinit's matrices are row-major; LAPACK's are column-major. A row-major m×n matrix
 * is the column-major n×m matrix of its transpose, so each routine says how it maps.
 */
#ifndef DDINIT_LAPACK_H
#define DDINIT_LAPACK_H

/* Results of the routines below. */
enum {
  DDINIT_LAPACK_OK = 0,
  DDINIT_LAPACK_RANK_DEFICIENT = 1, /* orthonormalize: some |r_jj| ≤ DDINIT_QR_RANK_TOLERANCE·‖a_j‖, or not finite */
  DDINIT_LAPACK_NOT_CONVERGED = 2,  /* eigen: LAPACK's info ≠ 0 (an internal error of the MRRR solver) */
  DDINIT_LAPACK_NO_MEMORY = -1,
};

/* A column j whose |r_jj| ≤ this·‖a_j‖ is reported as (numerically) dependent. Float32 Householder
 * QR leaves |r_jj| ≈ 1e-6·‖a_j‖ of rounding on an exactly dependent column, and a square Gaussian
 * draw of order 4096 has min_j |r_jj|/‖a_j‖ ≈ 1e-2: callers take the report as "suspect", not as
 * proof (@ddinit/core re-checks with CholeskyQR). */
#define DDINIT_QR_RANK_TOLERANCE 1e-5

/*
 * a (row-major m×n, m ≥ n ≥ 0) ← Q, the thin QR factor A = Q·R with R upper
 * triangular and diag(R) > 0 — the unique such factorization, so Q equals the Q of
 * CholeskyQR (which also has diag(R) > 0) up to rounding, whatever sign convention
 * the Householder reflectors take. A is transposed into a column-major scratch,
 * factored by sgeqrf (workspace size from an lwork = −1 query), expanded to Q by blocks of
 * 128 reflectors (what sorgqr computes, at a block size where sgemm runs at its rate),
 * and written back transposed with columns of negative r_jj negated.
 * Returns DDINIT_LAPACK_OK, _RANK_DEFICIENT (a left as it was) or _NO_MEMORY.
 */
int ddinit_orthonormalize_columns(int m, int n, float *a);

/* Draws with m ≥ this·n take the Cholesky route of ddinit_haar_orthonormal (see there). */
#define DDINIT_HAAR_CHOLESKY_RATIO 2

/*
 * a (row-major m×n, m ≥ n ≥ 0; on entry independent N(0, 1) values) ← Q, m×n with
 * orthonormal columns, distributed uniformly on the Stiefel manifold (Haar): the Q of the
 * thin QR of the Gaussian A with diag(R) > 0, by one of two routes.
 * - Tall (m ≥ DDINIT_HAAR_CHOLESKY_RATIO·n): Cholesky QR, Q = A·R⁻¹ with AᵀA = RᵀR
 *   (ssyrk, spotrf, strsm on the row-major a; no transposes). A Gaussian m×n with m ≥ 2n
 *   has κ(A) ≈ (√m + √n)/(√m − √n) ≤ 5.8, so one pass in float32 is orthonormal to
 *   ≈ κ²·2⁻²⁴ (CaffeNet's fc6, 9216 × 4096: 1.64 s against 2.20 s for LAPACK's sorgqr alone on the route below,
 *   ‖QᵀQ − I‖ ≈ 4e-7; docs/RESULTS.md, issue 16). Falls through to the next route if AᵀA
 *   is not positive definite.
 * - Otherwise Stewart's method (SIAM J. Numer. Anal. 17(3), 1980), which reads only
 *   a[i·n + j] with i ≥ j: column j below the diagonal, x_j ~ N(0, I_{m−j}), gives the
 *   Householder reflector H_j with H_j x_j = β_j e_1 (slarfg); Q = H_1⋯H_n·[I_n; 0]·diag(sign β_j),
 *   expanded to Q by blocks of 128 reflectors (sorgqr's product, at a block size where sgemm runs
 *   at its rate: 4096 × 4096 in 0.70–0.74 s against sorgqr's 0.90–1.05 s). That is exactly the distribution of the Q of sgeqrf + sorgqr with
 *   diag(R) > 0 on an m×n Gaussian matrix — sgeqrf's reflectors on a Gaussian matrix are
 *   such reflectors of independent Gaussian vectors, since each H_j leaves the trailing
 *   columns Gaussian and independent of it — at half the flops: no sgeqrf, only the expansion's
 *   2mn² − ⅔n³. Orthonormal for every input (a zero x_j gives H_j = I).
 * Returns DDINIT_LAPACK_OK or _NO_MEMORY (a unchanged).
 */
int ddinit_haar_orthonormal(int m, int n, float *a);

/*
 * The top `count` eigenpairs (0 ≤ count ≤ n) of the symmetric n×n matrix a (float32; only its
 * column-major lower triangle, the row-major upper one, is read; destroyed), in mixed
 * precision: Householder tridiagonalization in float32 (ssytrd), MRRR in float64 for the
 * wanted pairs of the tridiagonal T only (dstemr, range 'I', il = n − count + 1, iu = n),
 * and the vectors taken back through the reflectors in float32 (sormtr).
 * Why float32: the matrices are covariances summed by float32 products, accurate to about
 * 1e-7·√rows relative (libs/core/src/linalg/covariance.ts); ssytrd's backward error is of
 * the same order, and it moves half the bytes of dsytrd, whose memory-bound half dominates
 * (CaffeNet's conv3, 2304 with 384 pairs: 1.28–1.44 → 0.85–0.96 s; docs/RESULTS.md, issue 16). T is
 * solved in float64 because MRRR's cost there is O(n·count) either way.
 * LAPACK returns the pairs ascending; they are written descending: values[j] = λ_j with
 * λ_0 ≥ λ_1 ≥ …, vectors row-major n×count with column j the unit eigenvector of λ_j
 * (signs as LAPACK leaves them). Returns DDINIT_LAPACK_OK, _NOT_CONVERGED or _NO_MEMORY.
 */
int ddinit_symmetric_eigen(int n, int count, float *a, float *values, float *vectors);

#endif
