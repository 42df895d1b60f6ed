/**
 * Greedy k-means++ seeding (Arthur & Vassilvitskii, SODA 2007; greedy variant with
 * 2 + ⌊ln k⌋ candidates per step as in scikit-learn): each new centre is drawn with
 * probability proportional to the squared distance to the nearest centre chosen so far,
 * keeping the candidate that lowers the potential most. Distances come from the rows'
 * Gram matrix XXᵀ, one tfjs product for the whole seeding, when it holds at most
 * GRAM_LIMIT values (3640 Gaussian rows of 384, CaffeNet's conv3 shape, 384 seeds: 216 ms
 * against 416 ms for a product per seed; docs/RESULTS.md, issue 16); otherwise through one
 * small product per step. With a LinalgProvider registered (the OpenBLAS addon) the seeding
 * runs in C on the same two routes (libs/native-blas/src/kmeans.h): at conv3's shape 119–162 ms
 * against 303–308 ms here (docs/RESULTS.md, issue 16).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { linalgProvider } from './linalg-provider';

/** The largest Gram matrix (values) the seeding computes: 64 Mi floats, 256 MB. */
export const GRAM_LIMIT = 1 << 26;

async function gramMatrix(sample: tf.Tensor2D): Promise<Float32Array> {
  const product = tf.matMul(sample, sample, false, true);
  try {
    return (await product.data()) as Float32Array;
  } finally {
    product.dispose();
  }
}

/** ‖x_i − x_c‖² = ‖x_i‖² + ‖x_c‖² − 2 x_i·x_c for every row i and candidate c, as s[i·L + c]. */
function distancesFromGram(gram: Float32Array, norms: Float64Array, m: number, indices: number[]): Float32Array {
  const l = indices.length;
  const s = new Float32Array(m * l);
  indices.forEach((row, c) => {
    const dots = gram.subarray(row * m, row * m + m);
    for (let i = 0; i < m; i++) s[i * l + c] = Math.max(0, norms[i] + norms[row] - 2 * dots[i]);
  });
  return s;
}

/**
 * Row indices (into `data`, row-major [m, d]) of k seeds. The random draws are taken first: the
 * first seed `rng.int(m)`, then `trials` uniforms per further seed, each drawing one candidate
 * (⌊u·m⌋ when every remaining row coincides with a chosen centre, potential 0); so the
 * registered provider's `kmeansPlusPlus` (C on sgemm) and the loop here draw the same candidates.
 * `gramLimit`: see GRAM_LIMIT (0: a product per step).
 */
export async function seedKMeansPlusPlus(
  data: Float32Array,
  norms: Float64Array,
  m: number,
  d: number,
  k: number,
  rng: Rng,
  trials = 2 + Math.floor(Math.log(k)),
  gramLimit = GRAM_LIMIT,
): Promise<Int32Array> {
  const first = rng.int(m);
  const uniforms = Float64Array.from({ length: Math.max(0, k - 1) * trials }, () => rng.uniform());
  const provider = linalgProvider();
  if (provider !== undefined && k > 0) return provider.kmeansPlusPlus(data, norms, m, d, k, first, uniforms, m * m <= gramLimit);
  return javascriptSeeds(data, norms, m, d, k, first, uniforms, trials, gramLimit);
}

/** The candidate row of uniform u: the first i with cumulative[i] > u·total (potential 0: ⌊u·m⌋). */
function drawCandidate(cumulative: Float64Array, m: number, total: number, u: number): number {
  if (!(total > 0)) return Math.min(m - 1, Math.floor(u * m));
  const r = u * total;
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] <= r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** {@link seedKMeansPlusPlus} in JavaScript and tfjs products: the reference, and the route without a provider. */
async function javascriptSeeds(
  data: Float32Array,
  norms: Float64Array,
  m: number,
  d: number,
  k: number,
  first: number,
  uniforms: Float64Array,
  trials: number,
  gramLimit: number,
): Promise<Int32Array> {
  const chosen = new Int32Array(k);
  const closest = new Float64Array(m);
  const cumulative = new Float64Array(m);
  const sample = tf.tensor2d(data, [m, d]);
  const gram = m * m <= gramLimit ? await gramMatrix(sample) : undefined;
  try {
    const distancesTo = async (indices: number[]): Promise<Float32Array> => {
      if (gram !== undefined) return distancesFromGram(gram, norms, m, indices);
      const cand = new Float32Array(indices.length * d);
      indices.forEach((row, c) => cand.set(data.subarray(row * d, row * d + d), c * d));
      const scores = tf.tidy(() => tf.mul(tf.matMul(sample, tf.tensor2d(cand, [indices.length, d]), false, true), -2));
      try {
        const s = (await scores.data()) as Float32Array;
        // s[i * L + c] = −2 x_i·y_c → ‖x_i − y_c‖²
        for (let i = 0; i < m; i++) {
          for (let c = 0; c < indices.length; c++) {
            s[i * indices.length + c] = Math.max(0, norms[i] + norms[indices[c]] + s[i * indices.length + c]);
          }
        }
        return s;
      } finally {
        scores.dispose();
      }
    };

    if (k === 0) return chosen;
    chosen[0] = first;
    const distancesToFirst = await distancesTo([first]);
    for (let i = 0; i < m; i++) closest[i] = distancesToFirst[i];
    for (let c = 1; c < k; c++) {
      let total = 0;
      for (let i = 0; i < m; i++) {
        total += closest[i];
        cumulative[i] = total;
      }
      const candidates = Array.from({ length: trials }, (_, t) => drawCandidate(cumulative, m, total, uniforms[(c - 1) * trials + t]));
      const dist = await distancesTo(candidates);
      const l = candidates.length;
      let best = 0;
      let bestPotential = Infinity;
      for (let t = 0; t < l; t++) {
        let p = 0;
        for (let i = 0; i < m; i++) p += Math.min(closest[i], dist[i * l + t]);
        if (p < bestPotential) {
          bestPotential = p;
          best = t;
        }
      }
      chosen[c] = candidates[best];
      for (let i = 0; i < m; i++) closest[i] = Math.min(closest[i], dist[i * l + best]);
    }
    return chosen;
  } finally {
    sample.dispose();
  }
}
