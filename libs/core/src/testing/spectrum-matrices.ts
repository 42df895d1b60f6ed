/**
 * Known-answer matrices for the linalg specs: seeded random
 * orthogonal matrices and symmetric matrices with a prescribed spectrum.
 */
import type { Rng } from '../rng';
import type { SymmetricMatrix } from '../linalg/symmetric-matrix';

/** A Haar-like random orthogonal n×n matrix (row-major): Gram–Schmidt, twice, on Gaussian columns. */
export function randomOrthogonal(n: number, rng: Rng): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * n + p] * q[i * n + j];
        for (let i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + p];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[i * n + j] /= norm;
  }
  return q;
}

/** Q·diag(spectrum)·Qᵀ for an orthogonal Q (row-major n×n). */
export function matrixWithSpectrum(spectrum: ArrayLike<number>, q: Float64Array): SymmetricMatrix {
  const n = spectrum.length;
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * spectrum[k] * q[j * n + k];
      data[i * n + j] = s;
      data[j * n + i] = s;
    }
  }
  return { size: n, data };
}

/** max |(VᵀV − I)_ij| for V (size×count, row-major). */
export function orthonormalityError(vectors: Float64Array, size: number, count: number): number {
  let worst = 0;
  for (let a = 0; a < count; a++) {
    for (let b = a; b < count; b++) {
      let s = 0;
      for (let i = 0; i < size; i++) s += vectors[i * count + a] * vectors[i * count + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** ‖A − V Λ Vᵀ‖_max / ‖A‖_max. */
export function reconstructionError(matrix: SymmetricMatrix, values: Float64Array, vectors: Float64Array): number {
  const n = matrix.size;
  const count = values.length;
  let worst = 0;
  let largest = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < count; k++) s += vectors[i * count + k] * values[k] * vectors[j * count + k];
      worst = Math.max(worst, Math.abs(s - matrix.data[i * n + j]));
      largest = Math.max(largest, Math.abs(matrix.data[i * n + j]));
    }
  }
  return worst / Math.max(largest, 1e-300);
}

/**
 * max_j ‖(I − AAᵀ) b_j‖: the largest sine of the angle between a column of B and
 * span(A), for size×count orthonormal bases A and B (a lower bound on the sine of the
 * largest principal angle, and zero exactly when the spans agree).
 */
export function subspaceDistance(a: Float64Array, b: Float64Array, size: number, count: number): number {
  let worst = 0;
  const r = new Float64Array(size);
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < size; i++) r[i] = b[i * count + j];
    for (let p = 0; p < count; p++) {
      let dot = 0;
      for (let i = 0; i < size; i++) dot += a[i * count + p] * b[i * count + j];
      for (let i = 0; i < size; i++) r[i] -= dot * a[i * count + p];
    }
    let norm = 0;
    for (let i = 0; i < size; i++) norm += r[i] * r[i];
    worst = Math.max(worst, Math.sqrt(norm));
  }
  return worst;
}
