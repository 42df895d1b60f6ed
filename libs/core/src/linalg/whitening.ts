/**
 * PCA/ZCA whitening from eigenpairs of a patch covariance (paper §3.1, docs/method.md#whitened-sources;
 * reference `magic_init.py`).
 *
 *   s_j = (λ_j + ε)^(−1/2), and s_j = 0 when λ_j < minEigenvalue   (ε = 1e-3, minEigenvalue = 1e-6)
 *   PCA filters  S·Vᵀ          [N, F]   (row j = s_j v_jᵀ)
 *   ZCA filters  V·S·Vᵀ        [F, F]   (only when N = F)
 *   projection   Y = X·V·S     [n, N]   (patches onto the whitened top-N components)
 *   back-map     C·S·Vᵀ        [k, F]   (whitened-space rows, e.g. k-means centres, as input-space filters)
 *
 * All tensors are float32; filter rows are in the paper's `[out, F]` layout.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../errors';
import type { Eigenpairs } from './symmetric-eigen';

export interface WhiteningOptions {
  /** ε added to each eigenvalue (default 1e-3). */
  epsilon?: number;
  /** Eigenvalues below this get s_j = 0 (default 1e-6). */
  minEigenvalue?: number;
}

function checkNonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a finite number ≥ 0`, { where: 'whitening', expected: '≥ 0', actual: value });
  }
  return value;
}

/**
 * Whitening factors s_j = (λ_j + ε)^(−1/2), 0 for λ_j < minEigenvalue.
 *
 * @throws ConfigError for a negative or non-finite ε or minEigenvalue, or for ε = 0 with
 *   minEigenvalue = 0 (a zero eigenvalue would give an infinite factor).
 * @example
 * whiteningScales(Float64Array.of(1, 1e-9)); // [1/√1.001, 0]
 */
export function whiteningScales(values: ArrayLike<number>, options: WhiteningOptions = {}): Float64Array {
  const epsilon = checkNonNegative(options.epsilon ?? 1e-3, 'epsilon');
  const minEigenvalue = checkNonNegative(options.minEigenvalue ?? 1e-6, 'minEigenvalue');
  if (epsilon === 0 && minEigenvalue === 0) {
    throw new ConfigError('epsilon and minEigenvalue cannot both be 0', {
      where: 'whitening',
      expected: 'epsilon > 0 or minEigenvalue > 0',
      actual: '0 and 0',
    });
  }
  const s = new Float64Array(values.length);
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    s[j] = v < minEigenvalue ? 0 : 1 / Math.sqrt(v + epsilon);
  }
  return s;
}

/** V·diag(s) as a float32 [F, N] tensor. */
function scaledVectors(eigen: Eigenpairs, s: Float64Array): tf.Tensor2D {
  const { size: f, count: n, vectors } = eigen;
  const out = new Float32Array(f * n);
  for (let i = 0; i < f; i++) for (let j = 0; j < n; j++) out[i * n + j] = vectors[i * n + j] * s[j];
  return tf.tensor2d(out, [f, n]);
}

function vectorsTensor(eigen: Eigenpairs): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(eigen.vectors), [eigen.size, eigen.count]);
}

/**
 * PCA whitening filters S·Vᵀ, shape [N, F]: row j is s_j·v_jᵀ.
 * @example
 * const filters = pcaFilters(topEigenpairs(cov.covariance, 96)); // [96, 363]
 */
export function pcaFilters(eigen: Eigenpairs, options: WhiteningOptions = {}): tf.Tensor2D {
  const s = whiteningScales(eigen.values, options);
  const { size: f, count: n, vectors } = eigen;
  const out = new Float32Array(n * f);
  for (let i = 0; i < f; i++) for (let j = 0; j < n; j++) out[j * f + i] = vectors[i * n + j] * s[j];
  return tf.tensor2d(out, [n, f]);
}

/**
 * ZCA whitening filters V·S·Vᵀ, shape [F, F] (symmetric).
 * @throws ShapeError unless N = F (all eigenpairs are needed).
 */
export function zcaFilters(eigen: Eigenpairs, options: WhiteningOptions = {}): tf.Tensor2D {
  if (eigen.count !== eigen.size) {
    throw new ShapeError('ZCA needs every eigenpair (N = F)', {
      where: 'zcaFilters',
      expected: `${eigen.size} eigenpairs`,
      actual: eigen.count,
    });
  }
  const s = whiteningScales(eigen.values, options);
  return tf.tidy(() => tf.matMul(scaledVectors(eigen, s), vectorsTensor(eigen), false, true));
}

/**
 * Projects rows onto the whitened top-N components: Y = (X − μ)·V·S, shape [n, N].
 *
 * @param x [n, F] rows (not disposed).
 * @param mean μ to subtract first (length F); omit when x is already centred.
 * @throws ShapeError when x is not [n, F] or mean has the wrong length.
 */
export function projectWhitened(x: tf.Tensor2D, eigen: Eigenpairs, options: WhiteningOptions & { mean?: ArrayLike<number> } = {}): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== eigen.size) {
    throw new ShapeError('rows have the wrong width', { where: 'projectWhitened', expected: `[n, ${eigen.size}]`, actual: x.shape });
  }
  const { mean } = options;
  if (mean !== undefined && mean.length !== eigen.size) {
    throw new ShapeError('mean has the wrong length', { where: 'projectWhitened', expected: eigen.size, actual: mean.length });
  }
  const s = whiteningScales(eigen.values, options);
  return tf.tidy(() => {
    const centred = mean === undefined ? x : tf.sub(x, tf.tensor1d(Float32Array.from(mean)));
    return tf.matMul(centred, scaledVectors(eigen, s));
  });
}

/**
 * Maps whitened-space rows back to input-space filters: C·S·Vᵀ, shape [k, F]
 * (docs/method.md#kmeans, step 4).
 * Applied to a centred input x, filter row i gives c_i · (x V S) = c_i · y.
 *
 * @param rows [k, N] whitened-space rows (not disposed).
 * @throws ShapeError when rows is not [k, N].
 */
export function whitenedToFilters(rows: tf.Tensor2D, eigen: Eigenpairs, options: WhiteningOptions = {}): tf.Tensor2D {
  if (rows.rank !== 2 || rows.shape[1] !== eigen.count) {
    throw new ShapeError('rows have the wrong width', { where: 'whitenedToFilters', expected: `[k, ${eigen.count}]`, actual: rows.shape });
  }
  const s = whiteningScales(eigen.values, options);
  return tf.tidy(() => tf.matMul(rows, scaledVectors(eigen, s), false, true));
}
