/**
 * Principal components of patch rows X (n × F): mean μ and the top-N eigenpairs of
 * C = (X − μ)ᵀ(X − μ)/n, by one of two routes:
 *
 * - `covariance`: C (F×F) by {@link computeCovariance}, then {@link topEigenpairs}.
 * - `gram` (for n < F, e.g. fully connected layers: 160 samples × 9216 inputs):
 *   G = X̃X̃ᵀ/n (n×n) has the same nonzero eigenvalues as C, and
 *   v_j = X̃ᵀu_j / √(n·λ_j) turns its eigenvectors u_j into those of C; costs
 *   O(n²F + n³) instead of O(nF² + F³). The v_j are re-orthonormalized (one QR for those of
 *   eigenvalues clear of float32 rounding). Centred data has rank ≤ n − 1, so at most that
 *   many eigenvalues are nonzero; the vectors of (numerically) zero eigenvalues are
 *   completed to an orthonormal set (their whitening factor is 0 anyway).
 *
 * `auto` takes `gram` when n < F.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, NumericalError, ShapeError } from '../errors';
import { PCA_ROUTES, type PcaRoute } from './algorithm-names';
import { orthonormalizeColumns } from './cholesky-qr';
import { computeCovariance, type CovarianceOptions } from './covariance';
import { checkEigenCount, normalizeEigenvectorSigns } from './symmetric-eigen';
import { topEigenpairs, type TopEigenpairs, type TopEigenpairsOptions } from './top-eigenpairs';

export interface PrincipalComponentsOptions extends TopEigenpairsOptions, CovarianceOptions {
  /** `auto` (default: gram when n < F), `covariance` or `gram`. */
  route?: PcaRoute;
}

export interface PrincipalComponents {
  /** μ, length F. */
  readonly mean: Float64Array;
  /** n, the number of rows. */
  readonly rows: number;
  /** Top-N eigenpairs of the F×F covariance. */
  readonly eigen: TopEigenpairs;
  readonly route: 'covariance' | 'gram';
}

/** Eigenvalues at or below this fraction of λ_1 count as zero in the Gram route. */
const ZERO_FRACTION = 1e-9;

/** Orthonormalizes column j of `v` (F×N) against columns < j in float64; false if it vanishes. */
function orthogonalizeColumn(v: Float64Array, f: number, count: number, j: number): boolean {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < f; i++) dot += v[i * count + p] * v[i * count + j];
      for (let i = 0; i < f; i++) v[i * count + j] -= dot * v[i * count + p];
    }
  }
  let norm = 0;
  for (let i = 0; i < f; i++) norm += v[i * count + j] ** 2;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-3)) return false;
  for (let i = 0; i < f; i++) v[i * count + j] /= norm;
  return true;
}

/** Eigenvalues above this fraction of λ_1 give Gram-route vectors clear of float32 rounding. */
const SOLID_FRACTION = 1e-6;

/**
 * Orthonormalizes the leading columns j < s of `vectors` (F × count; the mapped Gram vectors,
 * `mapped` F × kept float32) whose λ_j > SOLID_FRACTION·λ_1, by one QR; returns s (0 when fewer
 * than two, or when the QR finds them dependent: the caller's loop then does them all).
 */
function orthonormalizeLeading(vectors: Float64Array, mapped: Float32Array, f: number, count: number, kept: number, values: Float64Array, top: number): number {
  let s = 0;
  while (s < kept && values[s] > SOLID_FRACTION * top) s++;
  if (s < 2) return 0;
  const block = new Float32Array(f * s);
  for (let i = 0; i < f; i++) block.set(mapped.subarray(i * kept, i * kept + s), i * s);
  const input = tf.tensor2d(block, [f, s]);
  let q: tf.Tensor2D;
  try {
    q = orthonormalizeColumns(input);
  } catch (error) {
    if (error instanceof NumericalError) return 0;
    throw error;
  } finally {
    input.dispose();
  }
  // Read outside any tidy: tidy walks a returned typed array value by value (a Set, capped at 2²⁴).
  const values32 = q.dataSync() as Float32Array;
  q.dispose();
  for (let i = 0; i < f; i++) for (let j = 0; j < s; j++) vectors[i * count + j] = values32[i * s + j];
  return s;
}

/**
 * Mean and top-`count` principal components of the rows of `x`.
 *
 * @param x [n, F] float32 rows (not disposed).
 * @param count N, 0 ≤ N ≤ F.
 * @throws ShapeError when x is not 2-D; DataError when x has no rows; ConfigError for
 *   an unknown route or bad count; plus the errors of the chosen solver.
 * @example
 * const { mean, eigen } = principalComponents(fc6Inputs, 160); // n = 160 < F = 9216: Gram route
 * const filters = pcaFilters(eigen);                            // [160, 9216]
 */
export function principalComponents(x: tf.Tensor2D, count: number, options: PrincipalComponentsOptions = {}): PrincipalComponents {
  const where = options.where ?? 'principalComponents';
  if (x.rank !== 2) throw new ShapeError('expected a matrix of rows', { where, expected: '[n, F]', actual: x.shape });
  const [n, f] = x.shape;
  if (n === 0) throw new DataError('no rows', { where, expected: 'at least 1 row', actual: 0 });
  checkEigenCount(count, f, where);
  const route = options.route ?? 'auto';
  if (!PCA_ROUTES.includes(route)) {
    throw new ConfigError('unknown PCA route', { where, expected: `one of ${PCA_ROUTES.join(', ')}`, actual: route });
  }
  const chosen = route === 'auto' ? (n < f ? 'gram' : 'covariance') : route;
  if (chosen === 'covariance') {
    const cov = computeCovariance(x, options);
    return { mean: cov.mean, rows: n, eigen: topEigenpairs(cov.covariance, count, options), route: 'covariance' };
  }

  const meanT = tf.tidy(() => tf.mean(x, 0));
  const mean = Float64Array.from(meanT.dataSync());
  const gramT = tf.tidy(() => {
    const centred = tf.sub(x, meanT);
    return tf.div(tf.matMul(centred, centred, false, true), n);
  });
  let gramData: Float32Array;
  try {
    gramData = gramT.dataSync() as Float32Array;
  } finally {
    gramT.dispose();
  }
  const kept = Math.min(count, n);
  const gramEigen = topEigenpairs({ size: n, data: Float64Array.from(gramData) }, kept, { ...options, where });
  const top = Math.max(gramEigen.values[0] ?? 0, 0);
  // v_j = X̃ᵀ u_j / √(n λ_j) for the nonzero λ_j.
  const scales = new Float32Array(kept);
  const values = new Float64Array(count);
  for (let j = 0; j < kept; j++) {
    const lambda = gramEigen.values[j];
    if (lambda > ZERO_FRACTION * top) {
      scales[j] = 1 / Math.sqrt(n * lambda);
      values[j] = lambda;
    }
  }
  const mapped = tf.tidy(() => {
    const centred = tf.sub(x, meanT);
    const u = tf.tensor2d(Float32Array.from(gramEigen.vectors), [n, kept]);
    return tf.mul(tf.matMul(centred, u, true, false), tf.tensor1d(scales));
  });
  meanT.dispose();
  let mappedData: Float32Array;
  try {
    mappedData = mapped.dataSync() as Float32Array;
  } finally {
    mapped.dispose();
  }
  const vectors = new Float64Array(f * count);
  for (let i = 0; i < f; i++) for (let j = 0; j < kept; j++) vectors[i * count + j] = mappedData[i * kept + j];
  // Re-orthonormalize: the leading columns whose λ_j stand clear of float32 rounding by one QR
  // (LAPACK when registered: Gram–Schmidt's result with diag(R) > 0, at float32 accuracy; the
  // float64 loop below costs 4·count²·F strided operations, minutes for CaffeNet's fc6 grown to
  // 4096 rows), the rest in float64 one by one, completing zero-eigenvalue columns from the
  // unit vectors.
  const solid = orthonormalizeLeading(vectors, mappedData, f, count, kept, values, top);
  let unit = 0;
  for (let j = solid; j < count; j++) {
    if (values[j] > 0 && orthogonalizeColumn(vectors, f, count, j)) continue;
    values[j] = 0;
    do {
      if (unit >= f) throw new DataError('cannot complete an orthonormal basis', { where, expected: `${count} vectors`, actual: j });
      for (let i = 0; i < f; i++) vectors[i * count + j] = i === unit ? 1 : 0;
      unit++;
    } while (!orthogonalizeColumn(vectors, f, count, j));
  }
  normalizeEigenvectorSigns(vectors, f, count);
  return {
    mean,
    rows: n,
    eigen: { size: f, count, values, vectors, method: gramEigen.method, iterations: gramEigen.iterations, converged: gramEigen.converged },
    route: 'gram',
  };
}
