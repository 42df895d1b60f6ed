/**
 * k-nearest-neighbour classification of feature vectors: no training, a quick
 * signal of how well a trunk's features separate the classes.
 *
 * Neighbours: the k reference vectors most similar to a query under
 * - `cosine`: s(q, r) = q·r / (‖q‖ ‖r‖) (zero vectors count as similarity 0);
 * - `l2`: s(q, r) = −‖q − r‖₂ (nearest = largest s).
 * Votes for class c: Σ over the k neighbours of class c of a weight w_j,
 * - `majority`: w_j = 1;
 * - `exp-similarity`: w_j = exp(s_j / τ) (Wu et al., CVPR 2018, τ = 0.07 for cosine), computed as
 *   exp((s_j − s_1) / τ), s_1 the nearest neighbour's: one factor for all classes,
 *   so no decision changes, and far L2 neighbours do not underflow to 0.
 * The prediction is the class with the most votes; a tie goes to the tied class
 * whose best neighbour ranks first (references at exactly equal similarity are
 * ranked as `tf.topk` ranks them).
 *
 * Memory: queries go in blocks of ⌊blockElements / references⌋ (at least 1), so
 * the similarity matrix held at once has at most about `blockElements` entries.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import { checkClassCount, checkClassIndex, checkLength, type Numbers } from '../metrics/input-checks';

export type KnnMetric = 'cosine' | 'l2';
export type KnnVote = 'majority' | 'exp-similarity';

export interface KnnOptions {
  k: number;
  metric: KnnMetric;
  vote: KnnVote;
  classes: number;
  /** τ of `exp-similarity` (default 0.07). */
  temperature?: number;
  /** Entries of the query × reference similarity block computed at once (default 2²²: 16 MB of float32). */
  blockElements?: number;
}

export interface KnnResult {
  /** The predicted class of each query. */
  predicted: Int32Array;
  /** `[queries, classes]` row-major: each class's votes (`exp-similarity`: relative to the nearest neighbour's weight, 1). */
  votes: Float64Array;
}

/** s(q, r) for a block of queries against all references: `[block, references]`. */
function similarities(queries: tf.Tensor2D, references: tf.Tensor2D, metric: KnnMetric): tf.Tensor2D {
  return tf.tidy((): tf.Tensor2D => {
    if (metric === 'cosine') {
      const unit = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
      return tf.matMul(unit(queries), unit(references), false, true);
    }
    // ‖q − r‖² = ‖q‖² − 2 q·r + ‖r‖², clamped at 0 against rounding.
    const squared = tf.add(
      tf.sub(tf.sum(tf.square(queries), 1, true), tf.mul(2, tf.matMul(queries, references, false, true))),
      tf.sum(tf.square(references), 1).expandDims(0),
    );
    return tf.neg(tf.sqrt(tf.relu(squared))) as tf.Tensor2D;
  });
}

function checkInputs(references: tf.Tensor2D, labels: Numbers, queries: tf.Tensor2D, options: KnnOptions): void {
  checkClassCount(options.classes, 'classes');
  if (references.rank !== 2 || queries.rank !== 2 || references.shape[1] !== queries.shape[1]) {
    throw new ShapeError('references and queries must be matrices of features of the same length', {
      where: 'k-nearest-neighbour features',
      expected: `[references, d] and [queries, d]`,
      actual: `[${references.shape.join(', ')}] and [${queries.shape.join(', ')}]`,
    });
  }
  checkLength(labels, references.shape[0], 'reference labels (one per reference)');
  for (let i = 0; i < labels.length; i++) checkClassIndex(labels[i], options.classes, `reference labels[${i}]`);
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > references.shape[0]) {
    throw new ConfigError('k must be an integer from 1 to the number of references', { where: 'k', expected: `1…${references.shape[0]}`, actual: options.k });
  }
}

/**
 * Classifies each query row by its k nearest reference rows.
 * @throws ShapeError for feature matrices that do not match; DataError for labels out of range; ConfigError for k.
 */
export function knnClassify(references: tf.Tensor2D, referenceLabels: Numbers, queries: tf.Tensor2D, options: KnnOptions): KnnResult {
  checkInputs(references, referenceLabels, queries, options);
  const { k, classes } = options;
  const tau = options.temperature ?? 0.07;
  const count = queries.shape[0];
  const block = Math.max(1, Math.floor((options.blockElements ?? 2 ** 22) / references.shape[0]));
  const predicted = new Int32Array(count);
  const votes = new Float64Array(count * classes);
  for (let start = 0; start < count; start += block) {
    const size = Math.min(block, count - start);
    const { values, indices } = tf.tidy(() => {
      const top = tf.topk(similarities(tf.slice(queries, [start, 0], [size, -1]), references, options.metric), k);
      return { values: top.values.dataSync(), indices: top.indices.dataSync() };
    });
    for (let q = 0; q < size; q++) {
      const row = (start + q) * classes;
      const firstRank = new Array<number>(classes).fill(k);
      for (let j = 0; j < k; j++) {
        const c = referenceLabels[indices[q * k + j]];
        votes[row + c] += options.vote === 'majority' ? 1 : Math.exp((values[q * k + j] - values[q * k]) / tau);
        firstRank[c] = Math.min(firstRank[c], j);
      }
      let best = 0;
      for (let c = 1; c < classes; c++) {
        if (votes[row + c] > votes[row + best] || (votes[row + c] === votes[row + best] && firstRank[c] < firstRank[best])) best = c;
      }
      predicted[start + q] = best;
    }
  }
  return { predicted, votes };
}
