/**
 * The eigensolver front door: top-N eigenpairs of a symmetric matrix, choosing between
 * the dense float64 solver and randomized subspace iteration.
 *
 * `auto` picks `dense` when a LinalgProvider (LAPACK) is registered — its dense solver
 * computes only the wanted pairs and beats subspace iteration at every CaffeNet shape
 * (docs/RESULTS.md) — and otherwise `dense` when F ≤ 512 or when b = N + oversampling
 * exceeds F/3 (then subspace iteration saves little), and `subspace` otherwise. For the CaffeNet conv
 * shapes that means conv1 (F = 363, N = 96) → dense; conv2 (1200/128 per group),
 * conv3 (2304/384), conv4/5 (1728/192 per group) → subspace. Timings: docs/RESULTS.md.
 *
 * Accuracy: `dense` is backward stable in float64 (eigenvalue error ≈ F·1e-16·λ_1,
 * orthonormality ≈ 1e-14); `subspace` works in float32 products (eigenvalue error
 * ≈ 1e-6·λ_1, orthonormality ≈ 1e-6, residual ≤ tolerance·λ_1, default 1e-5) and needs a positive
 * semidefinite matrix (a covariance or Gram matrix).
 *
 * Large F with N ≈ F (CaffeNet fc6: F = 9216, N = 4096) goes to `dense`, which costs
 * O(F³) in JavaScript (minutes). When the patch matrix has fewer rows than columns
 * (n < F, typical for fully connected layers), use {@link principalComponents}, which
 * solves the n×n Gram matrix XXᵀ/n instead.
 */
import { ConfigError } from '../errors';
import { EIGEN_METHODS, type EigenMethod } from './algorithm-names';
import { linalgProvider } from './linalg-provider';
import { denseEigenpairs, type Eigenpairs } from './symmetric-eigen';
import { subspaceEigenpairs, type SubspaceIterationOptions } from './subspace-iteration';
import type { SymmetricMatrix } from './symmetric-matrix';

/** The solver `auto` resolves to. */
export type EigenSolver = Exclude<EigenMethod, 'auto'>;

export interface TopEigenpairsOptions extends SubspaceIterationOptions {
  /** `auto` (default), `dense` or `subspace`. */
  method?: EigenMethod;
}

/** What {@link topEigenpairs} returns: the pairs plus the method that produced them. */
export interface TopEigenpairs extends Eigenpairs {
  readonly method: EigenSolver;
  /** Subspace iterations (0 for dense). */
  readonly iterations: number;
  /** Converged within the tolerance (always true for dense). */
  readonly converged: boolean;
}

/**
 * The method `auto` resolves to for an F×F matrix and N pairs.
 * @example
 * chooseEigenMethod(363, 96);   // 'dense'
 * chooseEigenMethod(2304, 384); // 'subspace' ('dense' with LAPACK registered)
 */
export function chooseEigenMethod(size: number, count: number, oversampling = Math.max(8, Math.ceil(count / 2))): EigenSolver {
  if (linalgProvider() !== undefined) return 'dense';
  return size <= 512 || count + oversampling > size / 3 ? 'dense' : 'subspace';
}

/**
 * Top `count` eigenpairs of a symmetric matrix, eigenvalues descending
 * (A v_j = λ_j v_j, λ_1 ≥ … ≥ λ_N, V orthonormal F×N).
 *
 * @param matrix F×F symmetric, row-major float64 (e.g. `computeCovariance(x).covariance`).
 * @param count N, 0 ≤ N ≤ F.
 * @throws ConfigError for an unknown method or bad option; see {@link denseEigenpairs}
 *   and {@link subspaceEigenpairs} for the rest.
 * @example
 * const { values, vectors, method } = topEigenpairs(cov.covariance, 96); // method 'dense' for F = 363
 */
export function topEigenpairs(matrix: SymmetricMatrix, count: number, options: TopEigenpairsOptions = {}): TopEigenpairs {
  const method = options.method ?? 'auto';
  if (!EIGEN_METHODS.includes(method)) {
    throw new ConfigError('unknown eigensolver method', {
      where: options.where ?? 'topEigenpairs',
      expected: `one of ${EIGEN_METHODS.join(', ')}`,
      actual: method,
    });
  }
  const chosen = method === 'auto' ? chooseEigenMethod(matrix.size, count, options.oversampling) : method;
  if (chosen === 'dense') {
    return { ...denseEigenpairs(matrix, count, options.where), method: 'dense', iterations: 0, converged: true };
  }
  const result = subspaceEigenpairs(matrix, count, options);
  return { ...result, method: 'subspace' };
}
