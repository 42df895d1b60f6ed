/**
 * Mean and covariance of patch rows, streamed over row blocks.
 *
 * For rows x_1 … x_n (n × F) the result is the mean μ = Σ x_r / n and the covariance
 * of the centred rows C = Σ (x_r − μ)(x_r − μ)ᵀ / n = X̃ᵀX̃ / n (population
 * normalization, as the paper's C = XᵀX/n on centred X).
 *
 * Accuracy: each block is shifted by the running mean, centred on its own mean and
 * multiplied by tfjs `matMul` (or, on the OpenBLAS addon, in one `DdinitCentredScatter` call:
 * ssyrk, the block mean summed in double; ../backend/centred-scatter.ts)
 * (float32, at most `blockRows` rows per product), and the blocks are merged in float64
 * with the pairwise update of Chan, Golub & LeVeque (1979):
 *   M = M_a + M_b + δδᵀ·n_a·n_b/n,  δ = μ_b − μ_a,
 * so neither a large mean nor a large n costs precision: the error is that of one
 * float32 block product (≈ 1e-7·√blockRows relative), not of n rows in float32.
 */
import * as tf from '@tensorflow/tfjs';
import { centredScatter } from '../backend/centred-scatter';
import { ConfigError, DataError, NumericalError, ShapeError } from '../errors';
import type { SymmetricMatrix } from './symmetric-matrix';

/** Mean and covariance of n rows of length F (float64). */
export interface CovarianceResult {
  /** n, the number of rows seen. */
  readonly count: number;
  /** μ, length F. */
  readonly mean: Float64Array;
  /** C = X̃ᵀX̃/n, F×F. */
  readonly covariance: SymmetricMatrix;
}

/** A running covariance: feed row blocks with `add`, read the result with `finish`. */
export interface CovarianceAccumulator {
  /** F, the row length. */
  readonly features: number;
  /** Rows added so far. */
  readonly count: number;
  /** Adds the rows of a [rows, F] tensor (not disposed). */
  add(rows: tf.Tensor2D): void;
  /** The mean and covariance of everything added (the accumulator stays usable). */
  finish(): CovarianceResult;
}

export interface CovarianceOptions {
  /** Rows per float32 product (default 8192); smaller bounds memory, larger is faster. */
  blockRows?: number;
  /** Names the data in errors, e.g. `layer conv2 patches`. */
  where?: string;
}

const DEFAULT_BLOCK_ROWS = 8192;

function checkBlockRows(blockRows: number, where: string): number {
  if (!Number.isInteger(blockRows) || blockRows < 1) {
    throw new ConfigError('blockRows must be a positive integer', { where, expected: 'integer ≥ 1', actual: blockRows });
  }
  return blockRows;
}

/**
 * Starts a streaming covariance over rows of length `features`.
 *
 * @throws ConfigError for a bad `features` or `blockRows`; `add` throws ShapeError for a
 *   block of the wrong shape and NumericalError when a block holds NaN/Inf; `finish`
 *   throws DataError when no row was added.
 * @example
 * const acc = createCovarianceAccumulator(363);
 * for (const block of patchBlocks) acc.add(block);   // blocks: tf.Tensor2D [rows, 363]
 * const { mean, covariance } = acc.finish();          // covariance.size === 363
 */
export function createCovarianceAccumulator(features: number, options: CovarianceOptions = {}): CovarianceAccumulator {
  const where = options.where ?? 'covariance';
  if (!Number.isInteger(features) || features < 1) {
    throw new ConfigError('features must be a positive integer', { where, expected: 'integer ≥ 1', actual: features });
  }
  const blockRows = checkBlockRows(options.blockRows ?? DEFAULT_BLOCK_ROWS, where);
  const f = features;
  const mean = new Float64Array(f);
  // Σ (x − μ)(x − μ)ᵀ with the upper triangle kept current. The first block's float32 product is
  // kept as it is until a second block arrives: most calls have one block, and `finish` reads it
  // once, so a float64 copy of it (42 MB for CaffeNet's conv3) would be fresh memory for nothing.
  let scatter: Float64Array | Float32Array = new Float32Array(0);
  let count = 0;

  const blockMoments = (block: tf.Tensor2D): [Float64Array, Float32Array] => {
    // Shift by the running mean (the first row for the first block) before summing, so
    // the float32 block mean is taken over values of the size of the spread, not the mean.
    const [shift, blockMean, blockScatter] = tf.tidy(() => {
      const s: tf.Tensor1D = count > 0 ? tf.tensor1d(Float32Array.from(mean)) : tf.reshape(tf.gather(block, [0]), [f]);
      const kernel = centredScatter(block, s); // one native call where the backend has it
      if (kernel !== undefined) return [s, ...kernel];
      const shifted = tf.sub(block, s);
      const m = tf.mean(shifted, 0);
      const centred = tf.sub(shifted, m);
      return [s, m, tf.matMul(centred, centred, true, false)];
    });
    try {
      const [s, m] = [shift.dataSync(), blockMean.dataSync()];
      return [Float64Array.from(m, (v, i) => s[i] + v), blockScatter.dataSync() as Float32Array];
    } finally {
      tf.dispose([shift, blockMean, blockScatter]);
    }
  };

  const addBlock = (block: tf.Tensor2D, rows: number): void => {
    const [mb, sb] = blockMoments(block);
    if (count === 0) {
      [scatter, count] = [sb, rows];
      mean.set(mb);
      return;
    }
    if (scatter instanceof Float32Array) scatter = Float64Array.from(scatter);
    const na = count;
    const n = na + rows;
    const weight = (na * rows) / n;
    const delta = new Float64Array(f);
    for (let i = 0; i < f; i++) delta[i] = mb[i] - mean[i];
    for (let i = 0; i < f; i++) {
      const row = i * f;
      const di = delta[i] * weight;
      for (let j = i; j < f; j++) scatter[row + j] += sb[row + j] + di * delta[j];
    }
    for (let i = 0; i < f; i++) mean[i] += (delta[i] * rows) / n;
    count = n;
  };

  return {
    features: f,
    get count() {
      return count;
    },
    add(rows: tf.Tensor2D): void {
      if (rows.rank !== 2 || rows.shape[1] !== f) {
        throw new ShapeError('row block has the wrong shape', { where, expected: `[rows, ${f}]`, actual: rows.shape });
      }
      const total = rows.shape[0];
      const finite = tf.tidy(() => tf.all(tf.isFinite(rows)).dataSync()[0]);
      if (total > 0 && !finite) {
        throw new NumericalError('row block holds NaN or Inf', { where, expected: 'finite values', actual: 'non-finite' });
      }
      if (total <= blockRows) {
        if (total > 0) addBlock(rows, total);
        return;
      }
      // Blocks are uploaded from one JavaScript copy instead of cut with tf.slice: the
      // tfjs 4.22 wasm slice kernel copies its whole input to JavaScript on every call.
      const values = rows.dataSync() as Float32Array;
      for (let start = 0; start < total; start += blockRows) {
        const size = Math.min(blockRows, total - start);
        const part = tf.tensor2d(values.subarray(start * f, (start + size) * f), [size, f]);
        try {
          addBlock(part, size);
        } finally {
          part.dispose();
        }
      }
    },
    finish(): CovarianceResult {
      if (count === 0) {
        throw new DataError('no rows to compute a covariance from', { where, expected: 'at least 1 row', actual: 0 });
      }
      const data = new Float64Array(f * f);
      for (let i = 0; i < f; i++) {
        for (let j = i; j < f; j++) {
          const c = scatter[i * f + j] / count;
          data[i * f + j] = c;
          data[j * f + i] = c;
        }
      }
      return { count, mean: Float64Array.from(mean), covariance: { size: f, data } };
    },
  };
}

/**
 * Mean and covariance C = X̃ᵀX̃/n of the rows of `x` ([n, F], float32; not disposed),
 * computed in row blocks (see {@link createCovarianceAccumulator}).
 *
 * @throws ShapeError when `x` is not 2-D; DataError when it has no rows;
 *   NumericalError on NaN/Inf.
 * @example
 * const { mean, covariance } = computeCovariance(patches); // patches: [n, F]
 */
export function computeCovariance(x: tf.Tensor2D, options: CovarianceOptions = {}): CovarianceResult {
  const where = options.where ?? 'covariance';
  if (x.rank !== 2) {
    throw new ShapeError('expected a matrix of rows', { where, expected: '[n, F]', actual: x.shape });
  }
  const accumulator = createCovarianceAccumulator(x.shape[1], options);
  accumulator.add(x);
  return accumulator.finish();
}
