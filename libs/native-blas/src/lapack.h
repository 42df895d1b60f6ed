/*
 * Dense factorizations on LAPACK (the Fortran symbols Debian's libopenblas exports:
 * sgeqrf_/sorgqr_, dsyevr_). Pure C: no N-API here (see addon.c).
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
  DDINIT_LAPACK_NOT_CONVERGED = 2,  /* eigen: LAPACK's info > 0 (an internal error of the MRRR solver); haar: sorgqr's info ≠ 0 */
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
 * factored by sgeqrf, expanded by sorgqr (workspace sizes from lwork = −1 queries),
 * and written back transposed with columns of negative r_jj negated.
 * Returns DDINIT_LAPACK_OK, _RANK_DEFICIENT (a left as it was) or _NO_MEMORY.
 */
int ddinit_orthonormalize_columns(int m, int n, float *a);

/*
 * a (row-major m×n, m ≥ n ≥ 0; on entry independent N(0, 1) values, of which only a[i·n + j]
 * with i ≥ j are read) ← Q, m×n with orthonormal columns, distributed uniformly on the
 * Stiefel manifold (Haar): Stewart's method (SIAM J. Numer. Anal. 17(3), 1980). Column j
 * below the diagonal, x_j ~ N(0, I_{m−j}), gives the Householder reflector H_j with
 * H_j x_j = β_j e_1 (slarfg); Q = H_1⋯H_n·[I_n; 0]·diag(sign β_j), expanded by sorgqr.
 * That is exactly the distribution of the Q of sgeqrf + sorgqr with diag(R) > 0 on an
 * m×n Gaussian matrix — sgeqrf's reflectors on a Gaussian matrix are such reflectors of
 * independent Gaussian vectors, since each H_j leaves the trailing columns Gaussian and
 * independent of it — at half the flops: no sgeqrf, only sorgqr's 2mn² − ⅔n³.
 * Orthonormal for every input (a zero x_j gives H_j = I). Returns DDINIT_LAPACK_OK,
 * _NOT_CONVERGED (sorgqr's info ≠ 0, a unchanged) or _NO_MEMORY.
 */
int ddinit_haar_orthonormal(int m, int n, float *a);

/*
 * The top `count` eigenpairs (0 ≤ count ≤ n) of the symmetric n×n matrix a (float64,
 * row-major = column-major since A = Aᵀ; both triangles must hold it; destroyed), by
 * dsyevr (Householder tridiagonalization, then MRRR for the wanted pairs only:
 * range 'I', il = n − count + 1, iu = n). LAPACK returns them ascending; they are
 * written descending: values[j] = λ_j with λ_0 ≥ λ_1 ≥ …, vectors row-major n×count
 * with column j the unit eigenvector of λ_j (signs as LAPACK leaves them).
 * Returns DDINIT_LAPACK_OK, _NOT_CONVERGED or _NO_MEMORY.
 */
int ddinit_symmetric_eigen(int n, int count, double *a, double *values, double *vectors);

#endif
