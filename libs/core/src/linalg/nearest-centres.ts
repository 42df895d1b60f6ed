/**
 * Nearest centre of every row, in row chunks through tfjs products:
 *   ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²
 * (argmin over c of ‖c‖² − 2 x·c, then the squared distance clamped at 0). Memory stays
 * at chunkRows × (d + k) floats whatever n is.
 *
 * With a LinalgProvider registered (the OpenBLAS addon) the same runs in C on sgemm, with no
 * tensor round trips (libs/native-blas/src/kmeans.h).
 *
 * Chunks are uploaded from a JavaScript copy of the rows rather than cut with
 * `tf.slice`: the tfjs 4.22 wasm backend's slice kernel copies its whole input to
 * JavaScript on every call (readSync), which made one pass over 100k × 363 rows cost
 * seconds instead of milliseconds.
 */
import * as tf from '@tensorflow/tfjs';
import { linalgProvider } from './linalg-provider';

/** For each row: the index of its nearest centre and the squared distance to it. */
export interface NearestCentres {
  labels: Int32Array;
  distances: Float64Array;
}

/** Squared Euclidean norms of the rows of a row-major [n, d] array (float64). */
export function rowSquaredNorms(data: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) s += data[o + j] * data[o + j];
    out[i] = s;
  }
  return out;
}

/**
 * Nearest centres of the rows of `data` (row-major [n, d]) among `centres`
 * ([k, d] row-major float32), `chunkRows` rows per product (the provider chunks on its own).
 */
export async function findNearestCentres(
  data: Float32Array,
  n: number,
  d: number,
  rowNorms: Float64Array,
  centres: Float32Array,
  k: number,
  chunkRows: number,
): Promise<NearestCentres> {
  const provider = linalgProvider();
  if (provider !== undefined) return provider.nearestCentres(data, n, d, rowNorms, centres, k);
  const labels = new Int32Array(n);
  const distances = new Float64Array(n);
  const [centresT, centreNorms] = tf.tidy(() => {
    const c = tf.tensor2d(centres, [k, d]);
    return [c, tf.sum(tf.square(c), 1)];
  });
  try {
    for (let start = 0; start < n; start += chunkRows) {
      const rows = Math.min(chunkRows, n - start);
      const [arg, min] = tf.tidy(() => {
        const part = tf.tensor2d(data.subarray(start * d, (start + rows) * d), [rows, d]);
        const scores = tf.sub(centreNorms, tf.mul(tf.matMul(part, centresT, false, true), 2));
        return [tf.argMin(scores, 1), tf.min(scores, 1)];
      });
      try {
        const [a, m] = await Promise.all([arg.data(), min.data()]);
        for (let i = 0; i < rows; i++) {
          labels[start + i] = a[i];
          distances[start + i] = Math.max(0, rowNorms[start + i] + m[i]);
        }
      } finally {
        arg.dispose();
        min.dispose();
      }
    }
  } finally {
    centresT.dispose();
    centreNorms.dispose();
  }
  return { labels, distances };
}
