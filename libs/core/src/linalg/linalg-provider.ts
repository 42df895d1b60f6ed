/**
 * The seam between @ddinit/core's dense linear algebra and a faster implementation
 * of it. By default nothing is registered and {@link orthonormalizeColumns} and
 * {@link denseEigenpairs} run their JavaScript / tfjs algorithms (CholeskyQR, Householder
 * + QL), which stay the reference in specs. `@ddinit/core/backend`'s `selectBackend`
 * registers LAPACK routines (from the OpenBLAS addon) when that addon is active and
 * removes them otherwise, so stage libraries keep calling the same functions.
 *
 * This module is pure: it imports nothing, and a provider works on plain typed arrays. Besides
 * the linear algebra it draws the large Gaussian matrices those routines start from.
 * The contracts are those of the functions dispatching to it, with deterministic signs
 * (diag(R) > 0 for QR; eigenvector signs are fixed by the caller), so a seed gives the
 * same weights on every run of one provider.
 */

/** Dense routines a provider supplies; arrays are row-major. */
export interface LinalgProvider {
  /** Short name for logs and reports, e.g. `LAPACK (sgeqrf/slarfb, ssytrd/dstemr)`. */
  readonly name: string;
  /**
   * data (rows×cols, rows ≥ cols) ← Q of the thin QR A = QR with diag(R) > 0 (the unique
   * one). Returns false, leaving `data` unchanged, when A may be numerically rank-deficient
   * or is not finite; the caller then decides with the JavaScript reference.
   */
  orthonormalizeColumns(data: Float32Array, rows: number, cols: number): boolean;
  /**
   * data (rows×cols, rows ≥ cols, independent N(0, 1) values on entry; only those on and
   * below the diagonal are read) ← a matrix with orthonormal columns, Haar-distributed (the
   * distribution of `orthonormalizeColumns` of a Gaussian matrix). Returns false, leaving
   * `data` unchanged, when the routine failed.
   */
  haarOrthonormal(data: Float32Array, rows: number, cols: number): boolean;
  /**
   * The top `count` eigenpairs of (A + Aᵀ)/2 for the size×size matrix A = `data` (finite and
   * symmetric up to rounding, as the caller has checked; not modified), at float32 accuracy or
   * better (errors of a few ε₃₂·‖A‖): values descending, vectors size×count with unit
   * columns, any signs. Undefined when the solver failed.
   */
  symmetricEigenpairs(data: Float64Array, size: number, count: number): { values: Float64Array; vectors: Float64Array } | undefined;
  /**
   * out ← `javascriptGaussian(out, state)`'s values (gaussian-matrix.ts): the same generator from
   * the same state (s0 … s3, int32, not all 0) and the same ziggurat `tables`, so a seed draws
   * the same weights with and without the provider.
   */
  fillGaussian(out: Float32Array, state: Int32Array, tables: Float64Array): void;
  /**
   * Greedy k-means++ seeds (row indices into `data`, m × d row-major; `norms` its squared row norms):
   * `first`, then per seed `trials` candidates drawn by the next uniforms of `uniforms`
   * ((k − 1)·trials values), as `seedKMeansPlusPlus` (kmeans-plus-plus.ts) defines them, the products
   * from the Gram matrix when `gram` (else one per step). Distances come from the provider's own
   * products, so on another backend than its own a near tie may resolve otherwise.
   */
  kmeansPlusPlus(data: Float32Array, norms: Float64Array, m: number, d: number, k: number, first: number, uniforms: Float64Array, gram: boolean): Int32Array;
  /** `findNearestCentres` (nearest-centres.ts) of the n × d rows among the k × d centres; the same contract. */
  nearestCentres(
    data: Float32Array,
    n: number,
    d: number,
    norms: Float64Array,
    centres: Float32Array,
    k: number,
  ): { labels: Int32Array; distances: Float64Array };
}

let current: LinalgProvider | undefined;

/** Registers `provider` for every later call (undefined: back to the JavaScript algorithms). */
export function setLinalgProvider(provider: LinalgProvider | undefined): void {
  current = provider;
}

/** The registered provider, or undefined when the JavaScript algorithms run. */
export function linalgProvider(): LinalgProvider | undefined {
  return current;
}
