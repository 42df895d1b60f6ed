/**
 * Dense symmetric eigensolver in float64 JavaScript: Householder reduction to
 * tridiagonal form, then the implicit QL algorithm with Wilkinson-type shifts
 * (Golub & Van Loan, "Matrix Computations", 4th ed., §8.3; the QL iteration follows
 * EISPACK tql2 as published in JAMA), then the Householder back-transformation of the
 * wanted eigenvectors only.
 *
 * Cost for an F×F matrix and N wanted pairs: (4/3)F³ (reduction) + about 3F³ per
 * QL sweep with eigenvector accumulation (typically 1.5–2 sweeps) + 2F²N
 * (back-transformation) flops, all in doubles (well under a second for F = 363;
 * see docs/RESULTS.md for measured times). Accuracy is backward stable:
 * |λ̂_i − λ_i| ≲ F·2⁻⁵²·‖A‖₂ and ‖V̂ᵀV̂ − I‖ ≈ 1e-14.
 *
 * {@link denseEigenpairs} hands the work to a registered LinalgProvider (LAPACK's ssytrd + dstemr
 * when the OpenBLAS addon is active: backward stable at float32 accuracy, enough for covariances
 * summed by float32 products) and otherwise runs {@link javascriptEigenpairs}, the float64
 * reference; a caller that needs float64 pairs whatever the backend (the joint calibration
 * step's normal equations) calls that one. Signs are fixed here for both.
 */
import { ConfigError, NumericalError } from '../errors';
import { linalgProvider } from './linalg-provider';
import { checkSymmetric, symmetrizeMatrix, type SymmetricMatrix } from './symmetric-matrix';

/**
 * Top eigenpairs of a symmetric F×F matrix.
 * `values` has N entries in descending order; `vectors` is F×N row-major, its column j
 * (entries `vectors[i * count + j]`) the unit eigenvector of `values[j]`. Each
 * eigenvector's sign is fixed so that its largest-magnitude entry is positive.
 */
export interface Eigenpairs {
  /** F, the order of the matrix. */
  readonly size: number;
  /** N, the number of pairs kept. */
  readonly count: number;
  readonly values: Float64Array;
  readonly vectors: Float64Array;
}

const EPS = 2 ** -52;

function safeHypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/** Checks an eigenpair count: an integer in [0, size]. */
export function checkEigenCount(count: number, size: number, where: string): void {
  if (!Number.isInteger(count) || count < 0 || count > size) {
    throw new ConfigError('number of eigenpairs out of range', {
      where,
      expected: `an integer in [0, ${size}]`,
      actual: count,
    });
  }
}

/**
 * Householder tridiagonalization in place. On return `d` and `e` hold the diagonal and
 * the off-diagonal (e[i] couples i and i+1; e[n−1] = 0), row k of `a` holds the
 * reflector v_k (v_k[k+1] = 1 implicit, entries k+2.. stored) and `tau[k]` its factor:
 * H_k = I − tau_k v_k v_kᵀ and A = Q T Qᵀ with Q = H_0 H_1 ⋯ H_{n−3}.
 * Only the upper triangle of `a` is read.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, tau: Float64Array): void {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const row = k * n;
    const o = k + 1; // first index of the trailing block
    const m = n - o; // its order
    d[k] = a[row + k];
    const x0 = a[row + o];
    let sigma = 0;
    let scale = 0;
    for (let j = o + 1; j < n; j++) scale = Math.max(scale, Math.abs(a[row + j]));
    if (scale === 0) {
      tau[k] = 0;
      e[k] = x0;
      continue;
    }
    scale = Math.max(scale, Math.abs(x0));
    for (let j = o + 1; j < n; j++) {
      const t = a[row + j] / scale;
      sigma += t * t;
    }
    const x0s = x0 / scale;
    const norm = scale * Math.sqrt(x0s * x0s + sigma);
    const beta = x0 >= 0 ? -norm : norm;
    const t = (beta - x0) / beta;
    const inv = 1 / (x0 - beta);
    tau[k] = t;
    e[k] = beta;
    v[0] = 1;
    for (let j = o + 1; j < n; j++) {
      const s = a[row + j] * inv;
      a[row + j] = s;
      v[j - o] = s;
    }
    a[row + o] = 1;
    // p = tau · A22 v, with A22 read from its upper triangle.
    p.fill(0, 0, m);
    for (let i = 0; i < m; i++) {
      const ii = (o + i) * n + o;
      const vi = v[i];
      let s = a[ii + i] * vi;
      for (let j = i + 1; j < m; j++) {
        const aij = a[ii + j];
        s += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s;
    }
    let pv = 0;
    for (let i = 0; i < m; i++) {
      p[i] *= t;
      pv += p[i] * v[i];
    }
    const half = 0.5 * t * pv;
    for (let i = 0; i < m; i++) p[i] -= half * v[i]; // p is now w
    // A22 ← A22 − v wᵀ − w vᵀ (upper triangle)
    for (let i = 0; i < m; i++) {
      const ii = (o + i) * n + o;
      const vi = v[i];
      const wi = p[i];
      for (let j = i; j < m; j++) a[ii + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 2) * n + n - 1];
    tau[n - 2] = 0;
  }
  if (n >= 1) {
    d[n - 1] = a[n * n - 1];
    e[n - 1] = 0;
  }
}

/**
 * Implicit QL on the tridiagonal (d, e), accumulating the rotations into the rows of
 * `zt` (row i of `zt` becomes the eigenvector of the tridiagonal for d[i]).
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, zt: Float64Array, n: number, where: string): void {
  let f = 0;
  let tst1 = 0;
  const maxSweeps = 30 * Math.max(n, 1);
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let sweeps = 0;
      do {
        if (++sweeps > maxSweeps) {
          throw new NumericalError('QL iteration did not converge', {
            where,
            expected: `convergence within ${maxSweeps} sweeps`,
            actual: `eigenvalue ${l} still coupled (|e| = ${Math.abs(e[l])})`,
          });
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = safeHypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = safeHypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const zi = i * n;
          const zj = zi + n;
          for (let k = 0; k < n; k++) {
            const zk1 = zt[zj + k];
            const zk = zt[zi + k];
            zt[zj + k] = s * zk + c * zk1;
            zt[zi + k] = c * zk - s * zk1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** Flips `vectors` column j so that its largest-magnitude entry is positive. */
export function normalizeEigenvectorSigns(vectors: Float64Array, size: number, count: number): void {
  for (let j = 0; j < count; j++) {
    let best = 0;
    let bestAbs = -1;
    for (let i = 0; i < size; i++) {
      const a = Math.abs(vectors[i * count + j]);
      if (a > bestAbs * (1 + 1e-9)) {
        bestAbs = a;
        best = i;
      }
    }
    if (vectors[best * count + j] < 0) {
      for (let i = 0; i < size; i++) vectors[i * count + j] = -vectors[i * count + j];
    }
  }
}

/**
 * All or the top `count` eigenpairs of a symmetric matrix by a dense solver:
 * the registered provider's (LAPACK, float32 accuracy: errors of a few ε₃₂·‖A‖) when there is
 * one, else {@link javascriptEigenpairs} (float64).
 *
 * A = V Λ Vᵀ with Λ = diag(λ_1 ≥ λ_2 ≥ …); returns the first `count` columns of V.
 *
 * @param matrix F×F symmetric, row-major float64 (asymmetry up to 1e-5 relative is
 *   averaged away).
 * @param count N, 0 ≤ N ≤ F (default F).
 * @throws ConfigError for a bad `count`; ShapeError for wrong data length;
 *   NumericalError for NaN/Inf, a non-symmetric matrix or (never seen in practice) QL
 *   non-convergence.
 * @example
 * const { values, vectors } = denseEigenpairs({ size: 2, data: Float64Array.of(2, 1, 1, 2) });
 * // values = [3, 1], vectors column 0 = [1, 1]/√2
 */
export function denseEigenpairs(matrix: SymmetricMatrix, count = matrix.size, where = 'dense eigensolver'): Eigenpairs {
  const provider = linalgProvider();
  if (provider === undefined) return javascriptEigenpairs(matrix, count, where);
  checkSymmetric(matrix, where);
  const n = matrix.size;
  checkEigenCount(count, n, where);
  const pairs = provider.symmetricEigenpairs(matrix.data, n, count);
  if (pairs === undefined) {
    throw new NumericalError('symmetric eigensolver failed', {
      where,
      expected: `the top ${count} eigenpairs of a ${n}×${n} matrix`,
      actual: `an error from ${provider.name}`,
    });
  }
  normalizeEigenvectorSigns(pairs.vectors, n, count);
  return { size: n, count, values: pairs.values, vectors: pairs.vectors };
}

/**
 * {@link denseEigenpairs} in JavaScript (Householder + implicit QL, float64): the
 * reference, and what runs when no provider is registered. Same contract.
 */
export function javascriptEigenpairs(matrix: SymmetricMatrix, count = matrix.size, where = 'dense eigensolver'): Eigenpairs {
  const a = symmetrizeMatrix(matrix, where);
  const n = matrix.size;
  checkEigenCount(count, n, where);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  tridiagonalize(a, n, d, e, tau);
  const zt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) zt[i * n + i] = 1;
  tridiagonalQl(d, e, zt, n, where);

  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
  const values = new Float64Array(count);
  const vectors = new Float64Array(n * count);
  const z = new Float64Array(n);
  for (let j = 0; j < count; j++) {
    const src = order[j];
    values[j] = d[src];
    z.set(zt.subarray(src * n, src * n + n));
    // z ← H_0 H_1 ⋯ H_{n−3} z
    for (let k = n - 3; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const row = k * n;
      let s = z[k + 1];
      for (let i = k + 2; i < n; i++) s += a[row + i] * z[i];
      s *= t;
      z[k + 1] -= s;
      for (let i = k + 2; i < n; i++) z[i] -= s * a[row + i];
    }
    for (let i = 0; i < n; i++) vectors[i * count + j] = z[i];
  }
  normalizeEigenvectorSigns(vectors, n, count);
  return { size: n, count, values, vectors };
}
