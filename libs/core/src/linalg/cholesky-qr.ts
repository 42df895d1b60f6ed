/**
 * Orthonormalizing the columns of a tall float32 matrix with tfjs products:
 * CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa & Yamamoto, 2014), falling back to
 * shifted CholeskyQR3 (Fukaya et al., 2020) when the Gram matrix is too ill-conditioned
 * for a plain Cholesky factorization in float32.
 *
 * Each pass: G = YᵀY (tfjs), G = RᵀR (float64 Cholesky), Y ← Y R⁻¹ (tfjs). Cost per pass
 * 4·m·b² flops in tfjs plus (2/3)·b³ for the factor and its inverse. Up to
 * {@link choleskyBlocking}.threshold columns those run in JavaScript (float64); above it
 * by blocks: only the diagonal blocks in JavaScript, the panel and trailing updates (all
 * but O(b²·block) of the flops) as tfjs products (float32), which a multi-threaded
 * backend runs in parallel. CaffeNet fc6's 9216 × 4096 orthogonal draw spent minutes in
 * the unblocked JavaScript loops.
 *
 * {@link orthonormalizeColumns} hands the work to a registered `LinalgProvider`
 * (LAPACK's Householder QR when the OpenBLAS addon is active) and otherwise runs
 * {@link choleskyQrOrthonormalize}, the reference. Both return the Q of the thin QR
 * with diag(R) > 0, which is unique: they agree up to rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError } from '../errors';
import { transposeMatrices } from '../backend/wasm-kernels/transpose-2d';
import { Rng } from '../rng';
import { fillGaussian } from './gaussian-matrix';
import { linalgProvider } from './linalg-provider';

/**
 * Cholesky factor R (upper, row-major) of g + shift·I = RᵀR, or undefined if that is not
 * numerically positive definite. Row-oriented (contiguous inner loops), (1/3)·b³ flops.
 */
function choleskyUpper(g: Float64Array, b: number, shift: number): Float64Array | undefined {
  const r = new Float64Array(b * b);
  for (let i = 0; i < b; i++) for (let j = i; j < b; j++) r[i * b + j] = g[i * b + j] + (i === j ? shift : 0);
  for (let k = 0; k < b; k++) {
    const kk = k * b;
    const pivot = r[kk + k];
    if (!(pivot > 0) || !Number.isFinite(pivot)) return undefined;
    const rkk = Math.sqrt(pivot);
    r[kk + k] = rkk;
    for (let j = k + 1; j < b; j++) r[kk + j] /= rkk;
    for (let i = k + 1; i < b; i++) {
      const a = r[kk + i];
      if (a === 0) continue;
      const ii = i * b;
      for (let j = i; j < b; j++) r[ii + j] -= a * r[kk + j];
    }
  }
  return r;
}

/** Inverse of an upper-triangular b×b matrix (row-major, float32 for upload); row-oriented, (1/3)·b³ flops. */
function invertUpper(r: Float64Array, b: number): Float32Array {
  const inv = new Float64Array(b * b);
  for (let i = b - 1; i >= 0; i--) {
    const ii = i * b;
    const d = 1 / r[ii + i];
    // row_i(inv) = (e_i − Σ_{k>i} r_ik row_k(inv)) / r_ii
    inv[ii + i] = d;
    for (let k = i + 1; k < b; k++) {
      const a = r[ii + k] * d;
      if (a === 0) continue;
      const kk = k * b;
      for (let j = k; j < b; j++) inv[ii + j] -= a * inv[kk + j];
    }
  }
  return Float32Array.from(inv);
}

/** Block size of the blocked factorization and inverse, and the column count above which they are used. */
export const choleskyBlocking = { block: 256, threshold: 768 };

/** The m×n block of a row-major matrix with `cols` columns at (row, col), as float32 for upload. */
function block32(a: ArrayLike<number>, cols: number, row: number, col: number, m: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const src = (row + i) * cols + col;
    for (let j = 0; j < n; j++) out[i * n + j] = a[src + j];
  }
  return out;
}

/** The m×m diagonal block at `k` of a row-major b×b matrix, in float64. */
function diagonalBlock(a: Float64Array, b: number, k: number, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) out.set(a.subarray((k + i) * b + k, (k + i) * b + k + m), i * m);
  return out;
}

/**
 * Blocked right-looking Cholesky of g + shift·I = RᵀR (R upper, row-major): per block
 * row, R11 = chol(A11) in float64 JavaScript, R12 = R11⁻ᵀ·A12 and A22 −= R12ᵀ·R12 as
 * tfjs products. Undefined when not numerically positive definite.
 */
function choleskyUpperBlocked(g: Float64Array, b: number, shift: number, nb: number): Float64Array | undefined {
  const a = Float64Array.from(g);
  for (let i = 0; i < b; i++) a[i * b + i] += shift;
  const r = new Float64Array(b * b);
  for (let k = 0; k < b; k += nb) {
    const m = Math.min(nb, b - k);
    const rest = b - k - m;
    const r11 = choleskyUpper(diagonalBlock(a, b, k, m), m, 0);
    if (r11 === undefined) return undefined;
    for (let i = 0; i < m; i++) r.set(r11.subarray(i * m + i, (i + 1) * m), (k + i) * b + k + i);
    if (rest === 0) break;
    const inv11 = invertUpper(r11, m);
    // Typed arrays are taken inside tidy and not returned from it: tidy walks whatever it returns, element by element.
    let r12: Float32Array<ArrayBufferLike> = new Float32Array(0);
    let update: Float32Array<ArrayBufferLike> = new Float32Array(0);
    tf.tidy(() => {
      const panel = tf.matMul(tf.tensor2d(inv11, [m, m]), tf.tensor2d(block32(a, b, k, k + m, m, rest), [m, rest]), true, false);
      r12 = panel.dataSync() as Float32Array;
      update = tf.matMul(panel, panel, true, false).dataSync() as Float32Array;
    });
    for (let i = 0; i < m; i++) for (let j = 0; j < rest; j++) r[(k + i) * b + k + m + j] = r12[i * rest + j];
    for (let i = 0; i < rest; i++) {
      const row = (k + m + i) * b + k + m;
      for (let j = i; j < rest; j++) a[row + j] -= update[i * rest + j];
    }
  }
  return r;
}

/**
 * Inverse of an upper-triangular b×b matrix by blocks, from the last block row up:
 * X_II = R_II⁻¹ (JavaScript) and X_I,J>I = −R_II⁻¹·(R_I,J>I · X_J>I,J>I) as tfjs products.
 */
function invertUpperBlocked(r: Float64Array, b: number, nb: number): Float32Array {
  const inv = new Float32Array(b * b);
  const starts: number[] = [];
  for (let k = 0; k < b; k += nb) starts.push(k);
  for (const k of starts.reverse()) {
    const m = Math.min(nb, b - k);
    const rest = b - k - m;
    const xii = invertUpper(diagonalBlock(r, b, k, m), m);
    for (let i = 0; i < m; i++) inv.set(xii.subarray(i * m + i, (i + 1) * m), (k + i) * b + k + i);
    if (rest === 0) continue;
    let xij: Float32Array<ArrayBufferLike> = new Float32Array(0);
    tf.tidy(() => {
      const r12 = tf.tensor2d(block32(r, b, k, k + m, m, rest), [m, rest]);
      const trailing = tf.tensor2d(block32(inv, b, k + m, k + m, rest, rest), [rest, rest]);
      xij = tf.neg(tf.matMul(tf.tensor2d(xii, [m, m]), tf.matMul(r12, trailing))).dataSync() as Float32Array;
    });
    for (let i = 0; i < m; i++) inv.set(xij.subarray(i * rest, (i + 1) * rest), (k + i) * b + k + m);
  }
  return inv;
}

function gram(y: tf.Tensor2D): Float64Array {
  const g = tf.tidy(() => tf.matMul(y, y, true, false));
  try {
    const data = g.dataSync();
    const b = y.shape[1];
    const out = new Float64Array(b * b);
    for (let i = 0; i < b; i++) {
      out[i * b + i] = data[i * b + i];
      for (let j = i + 1; j < b; j++) {
        const v = 0.5 * (data[i * b + j] + data[j * b + i]);
        out[i * b + j] = v;
        out[j * b + i] = v;
      }
    }
    return out;
  } finally {
    g.dispose();
  }
}

/** One CholeskyQR pass; undefined when the (shifted) Gram matrix is not positive definite. */
function choleskyQrPass(y: tf.Tensor2D, shiftFraction: number): tf.Tensor2D | undefined {
  const b = y.shape[1];
  const g = gram(y);
  let trace = 0;
  for (let i = 0; i < b; i++) trace += g[i * b + i];
  const blocked = b > choleskyBlocking.threshold;
  const nb = choleskyBlocking.block;
  const r = blocked ? choleskyUpperBlocked(g, b, shiftFraction * trace, nb) : choleskyUpper(g, b, shiftFraction * trace);
  if (r === undefined) return undefined;
  const inv = blocked ? invertUpperBlocked(r, b, nb) : invertUpper(r, b);
  return tf.tidy(() => tf.matMul(y, tf.tensor2d(inv, [b, b])));
}

/**
 * Q with orthonormal columns spanning the columns of `y` ([m, b], m ≥ b; not disposed)
 * by CholeskyQR2 / shifted CholeskyQR3 in tfjs products: the JavaScript reference of
 * {@link orthonormalizeColumns}. ‖QᵀQ − I‖ is at float32 level (≈ 1e-6) for any y of
 * full numerical column rank.
 *
 * @throws NumericalError when y is numerically rank-deficient (cond ≳ 1e7) or holds NaN/Inf.
 */
export function choleskyQrOrthonormalize(y: tf.Tensor2D, where = 'orthonormalize'): tf.Tensor2D {
  const passes: Array<[number, number]> = [
    [0, 2], // CholeskyQR2
    [1e-5, 3], // shifted CholeskyQR3
  ];
  for (const [shift, count] of passes) {
    let current: tf.Tensor2D = y;
    let ok = true;
    for (let pass = 0; pass < count; pass++) {
      const next = choleskyQrPass(current, pass === 0 ? shift : 0);
      if (current !== y) current.dispose();
      if (next === undefined) {
        ok = false;
        break;
      }
      current = next;
    }
    if (ok) return current;
  }
  throw new NumericalError('columns are numerically linearly dependent', {
    where,
    expected: 'a matrix of full column rank',
    actual: `[${y.shape}] whose Gram matrix is not positive definite even after a shift`,
  });
}

/**
 * Q with orthonormal columns spanning the columns of `y` ([m, b], m ≥ b; not disposed):
 * the thin QR factor with diag(R) > 0, by the registered `LinalgProvider` when there
 * is one, else by {@link choleskyQrOrthonormalize}. ‖QᵀQ − I‖ ≈ 1e-6 either way. A matrix
 * the provider finds suspect (a column nearly in the span of the earlier ones) goes to
 * CholeskyQR, so both paths accept and reject the same matrices.
 *
 * @throws NumericalError when y is numerically rank-deficient (cond ≳ 1e7) or holds NaN/Inf.
 * @example
 * const q = orthonormalizeColumns(tf.randomNormal([1000, 32], 0, 1, 'float32', rng.nextSeed()));
 * // q: [1000, 32], qᵀq ≈ I
 */
export function orthonormalizeColumns(y: tf.Tensor2D, where = 'orthonormalize'): tf.Tensor2D {
  const provider = linalgProvider();
  const [rows, cols] = y.shape;
  if (provider === undefined || rows < cols) return choleskyQrOrthonormalize(y, where);
  // A copy: on the cpu backend dataSync returns the tensor's own storage.
  const data = Float32Array.from(y.dataSync());
  if (!provider.orthonormalizeColumns(data, rows, cols)) return choleskyQrOrthonormalize(y, where);
  return tf.tensor2d(data, [rows, cols]);
}

/**
 * A random `rows`×`cols` matrix with orthonormal rows when rows < cols and orthonormal
 * columns otherwise (Saxe et al. 2014), distributed uniformly (Haar) over such matrices:
 * G ~ N(0, 1) of the taller orientation [max, min] ({@link fillGaussian}, seeded by
 * `Rng.fromSeed(seed)`), Q with orthonormal columns from G, and Qᵀ when rows < cols.
 * With a provider (`LinalgProvider.haarOrthonormal`), Q is G's thin QR factor by one
 * Cholesky QR pass when G is tall (max ≥ 2·min: well conditioned, so float32 keeps it
 * orthonormal), the matrix of the path without a provider up to rounding; otherwise
 * Stewart's product of Householder reflectors of G's columns below the diagonal (only the
 * expansion of the reflectors, half the flops of a QR). Without one, Q =
 * {@link choleskyQrOrthonormalize}(G). All Haar, the same distribution; for a square-ish
 * G not the same matrix for a seed with and without a provider. The matrix reaches the
 * provider as the array it was drawn into and Qᵀ is taken in JavaScript: tfjs round trips
 * and the wasm backend's transpose of a 4096 × 9216 matrix took seconds (docs/RESULTS.md,
 * issue 16). The one orthonormal draw of the within-layer `orthogonal` method and LSUV's
 * pre-initialization. The caller owns the result.
 *
 * @throws NumericalError in the practically impossible case of a rank-deficient draw.
 * @example
 * const w = orthonormalDraw(128, 1200, rng.nextSeed()); // [128, 1200], w·wᵀ ≈ I
 */
export function orthonormalDraw(rows: number, cols: number, seed: number, where = 'orthonormalDraw'): tf.Tensor2D {
  const [tall, short] = [Math.max(rows, cols), Math.min(rows, cols)];
  const data = fillGaussian(new Float32Array(tall * short), Rng.fromSeed(seed));
  const shaped = (q: Float32Array): tf.Tensor2D => tf.tensor2d(rows >= cols ? q : transposeMatrices(q, new Float32Array(q.length), tall, short), [rows, cols]);
  const provider = linalgProvider();
  if (provider !== undefined && provider.haarOrthonormal(data, tall, short)) return shaped(data);
  const g = tf.tensor2d(data, [tall, short]);
  try {
    const q = choleskyQrOrthonormalize(g, where);
    if (rows >= cols) return q;
    try {
      return shaped(q.dataSync() as Float32Array);
    } finally {
      q.dispose();
    }
  } finally {
    g.dispose();
  }
}
