/**
 * Top eigenpairs of a large positive semidefinite matrix by randomized block subspace
 * iteration with Rayleigh–Ritz (Saad, "Numerical Methods for Large Eigenvalue
 * Problems", 2nd ed., §5.2; Halko, Martinsson & Tropp, SIAM Review 2011, §4.5).
 *
 * With b = N + p columns (p = oversampling), each iteration does
 *   Y = A·Q                       (tfjs matMul, 2F²b flops)
 *   H = QᵀY = W Θ Wᵀ             (b×b, dense float64 solver)
 *   residual_j = ‖Y w_j − θ_j Q w_j‖ for j < N; stop when max_j ≤ tolerance·θ_1
 *   Q ← orth(Y W Θ⁻¹)            (CholeskyQR2; columns with θ_j ≤ 1e-4·θ_1 keep Q w_j)
 * Eigenvector j converges like (λ_{b+1}/λ_j)^k, eigenvalue j like its square.
 *
 * Accuracy: the products run in float32, so eigenvalues carry an absolute error of
 * about 1e-6·λ_1 and the returned vectors are orthonormal to ≈ 1e-6; the residual test
 * (default 1e-5·λ_1) bounds the rest. Vectors whose eigenvalues are closer together than
 * the residual are only determined up to a rotation among themselves, but because
 * Rayleigh–Ritz makes VᵀAV = diag(θ) exactly, whitening with them is still exact on the
 * captured subspace; what is lost is captured variance, Σθ_j ≤ Σλ_j (measured in
 * docs/RESULTS.md). Use {@link denseEigenpairs} when that is not enough or the matrix
 * may be indefinite.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, NumericalError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { Rng } from '../rng';
import { orthonormalizeColumns } from './cholesky-qr';
import { checkEigenCount, denseEigenpairs, normalizeEigenvectorSigns, type Eigenpairs } from './symmetric-eigen';
import { symmetrizeMatrix, type SymmetricMatrix } from './symmetric-matrix';

export interface SubspaceIterationOptions {
  /** Extra columns p beyond N (default max(8, ⌈N/2⌉), capped at F − N). */
  oversampling?: number;
  /**
   * Stop when every residual ‖A v_j − λ_j v_j‖ ≤ tolerance·λ_1, j < N (default 1e-5; the
   * float32 floor is ≈ 3e-7 for F = 1200, so keep it ≥ 1e-6).
   */
  tolerance?: number;
  /**
   * Iteration cap (default 200). Reaching it, or stagnating (< 10% residual progress over
   * 5 iterations: the float32 floor), ends the iteration with `converged: false` and a
   * logged warning.
   */
  maxIterations?: number;
  /** Seed or Rng of the random start block (default seed 0). */
  seed?: number | Rng;
  logger?: Logger;
  /** Names the matrix in errors and log records. */
  where?: string;
}

/** {@link Eigenpairs} plus how the iteration went. */
export interface SubspaceEigenpairs extends Eigenpairs {
  readonly iterations: number;
  /** max_j ‖A v_j − λ_j v_j‖ / λ_1 at the last iteration. */
  readonly residual: number;
  readonly converged: boolean;
}

/** Iterations over which the residual must shrink by 10% before the iteration is declared stagnant. */
const STAGNATION_WINDOW = 5;

/** Below this fraction of θ_1 a Ritz value is treated as zero (no power step for its column). */
const NEGLIGIBLE = 1e-4;

function checkPositive(value: number, name: string, where: string, integer: boolean): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`${name} must be a positive ${integer ? 'integer' : 'number'}`, {
      where,
      expected: integer ? 'integer ≥ 1' : '> 0',
      actual: value,
    });
  }
}

/**
 * Top `count` eigenpairs (descending) of a symmetric positive semidefinite matrix by
 * randomized block subspace iteration (see the file comment for the method and its
 * accuracy).
 *
 * @param matrix F×F, symmetric positive semidefinite (e.g. a covariance).
 * @param count N, 1 ≤ N ≤ F.
 * @throws ConfigError for a bad count or option; ShapeError for bad data;
 *   NumericalError for NaN/Inf, asymmetry, or a clearly negative Ritz value (the matrix
 *   is not positive semidefinite: use the dense solver).
 * @example
 * const { values, vectors, iterations } = subspaceEigenpairs(cov.covariance, 384, { seed: rng.derive('conv3') });
 */
export function subspaceEigenpairs(matrix: SymmetricMatrix, count: number, options: SubspaceIterationOptions = {}): SubspaceEigenpairs {
  const where = options.where ?? 'subspace iteration';
  const logger = options.logger ?? silentLogger;
  const sym = symmetrizeMatrix(matrix, where);
  const f = matrix.size;
  checkEigenCount(count, f, where);
  if (count === 0) {
    return { size: f, count: 0, values: new Float64Array(0), vectors: new Float64Array(0), iterations: 0, residual: 0, converged: true };
  }
  const oversampling = options.oversampling ?? Math.max(8, Math.ceil(count / 2));
  if (!Number.isInteger(oversampling) || oversampling < 0) {
    throw new ConfigError('oversampling must be a non-negative integer', { where, expected: 'integer ≥ 0', actual: oversampling });
  }
  const tolerance = options.tolerance ?? 1e-5;
  checkPositive(tolerance, 'tolerance', where, false);
  const maxIterations = options.maxIterations ?? 200;
  checkPositive(maxIterations, 'maxIterations', where, true);
  const rng = options.seed instanceof Rng ? options.seed : Rng.fromSeed(options.seed ?? 0);
  const b = Math.min(f, count + oversampling);

  const a = tf.tensor2d(Float32Array.from(sym), [f, f]);
  let q: tf.Tensor2D | undefined;
  try {
    const start = tf.randomNormal([f, b], 0, 1, 'float32', rng.nextSeed()) as tf.Tensor2D;
    try {
      q = orthonormalizeColumns(start, where);
    } finally {
      start.dispose();
    }
    let residual = Infinity;
    const history: number[] = [];
    for (let iteration = 1; iteration <= maxIterations; iteration++) {
      const y = tf.matMul(a, q);
      try {
        const h = tf.tidy(() => tf.matMul(q as tf.Tensor2D, y, true, false));
        const hData = h.dataSync();
        h.dispose();
        const ritz = denseEigenpairs({ size: b, data: Float64Array.from(hData) }, b, where);
        const theta = ritz.values;
        const top = Math.max(Math.abs(theta[0]), Number.MIN_VALUE);
        if (theta[b - 1] < -Math.max(1e-4 * top, 1e-30)) {
          throw new NumericalError('matrix is not positive semidefinite', {
            where,
            expected: 'eigenvalues ≥ 0 (use the dense solver for indefinite matrices)',
            actual: `Ritz value ${theta[b - 1]} with largest ${theta[0]}`,
          });
        }
        const w = tf.tensor2d(Float32Array.from(ritz.vectors), [b, b]);
        try {
          // Residuals of the top N Ritz pairs.
          const thetaTop = Float32Array.from(theta.subarray(0, count));
          const norms = tf.tidy(() => {
            const wTop = tf.slice(w, [0, 0], [b, count]);
            const ay = tf.matMul(y, wTop);
            const u = tf.matMul(q as tf.Tensor2D, wTop);
            return tf.norm(tf.sub(ay, tf.mul(u, tf.tensor1d(thetaTop))), 'euclidean', 0);
          });
          const norm = norms.dataSync();
          norms.dispose();
          residual = 0;
          for (let j = 0; j < count; j++) residual = Math.max(residual, norm[j] / top);
          history.push(residual);
          // Stagnation: less than 10% progress over the last STAGNATION_WINDOW iterations
          // means the float32 floor of the products has been reached.
          const stagnated = history.length > STAGNATION_WINDOW && residual > 0.9 * history[history.length - 1 - STAGNATION_WINDOW];
          if (residual <= tolerance || stagnated || iteration === maxIterations) {
            const converged = residual <= tolerance;
            if (!converged) {
              logger.warn(
                stagnated ? 'subspace iteration stagnated above the tolerance (float32 floor reached)' : 'subspace iteration stopped before convergence',
                { where, iterations: iteration, residual, tolerance },
              );
            }
            const u = tf.tidy(() => tf.matMul(q as tf.Tensor2D, tf.slice(w, [0, 0], [b, count])));
            const uData = u.dataSync();
            u.dispose();
            const vectors = Float64Array.from(uData);
            normalizeEigenvectorSigns(vectors, f, count);
            return {
              size: f,
              count,
              values: Float64Array.from(theta.subarray(0, count)),
              vectors,
              iterations: iteration,
              residual,
              converged,
            };
          }
          // Next basis: A·q·w_j/θ_j for the significant θ_j, q·w_j for the negligible ones.
          const powerScale = new Float32Array(b);
          const keepScale = new Float32Array(b);
          for (let j = 0; j < b; j++) {
            if (theta[j] > NEGLIGIBLE * top) powerScale[j] = 1 / theta[j];
            else keepScale[j] = 1;
          }
          const next = tf.tidy(() =>
            tf.add(tf.matMul(y, tf.mul(w, tf.tensor1d(powerScale))), tf.matMul(q as tf.Tensor2D, tf.mul(w, tf.tensor1d(keepScale)))),
          ) as tf.Tensor2D;
          try {
            const orthonormal = orthonormalizeColumns(next, where);
            q.dispose();
            q = orthonormal;
          } finally {
            next.dispose();
          }
        } finally {
          w.dispose();
        }
      } finally {
        y.dispose();
      }
    }
    throw new NumericalError('unreachable: subspace iteration loop ended without a result', { where });
  } finally {
    a.dispose();
    q?.dispose();
  }
}
