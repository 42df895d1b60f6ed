/**
 * Top-k accuracy: the share of examples whose true class is among the k
 * highest-scored classes,
 *
 *   acc_k = (1/n) Σ_i [ rank_i(y_i) < k ],
 *   rank_i(c) = #{ j : s_ij > s_ic } + #{ j > c : s_ij = s_ic },
 *
 * so tied scores are ranked by class index, the higher index first — the order
 * scikit-learn's `top_k_accuracy_score` gives them (a stable ascending argsort,
 * reversed). k = 1 is top-1 accuracy under the same rule.
 */
import { ConfigError, DataError } from '@ddinit/core';
import { checkClassCount, checkClassIndex, checkFinite, checkLength, type Numbers } from './input-checks';

/**
 * @param scores `[n, classes]` row-major (logits, probabilities: any order-preserving score).
 * @param truth `n` class indices.
 * @throws DataError for lengths that disagree, non-finite scores or labels out of range; ConfigError for k outside [1, classes].
 * @example topKAccuracy([0.1, 0.7, 0.2, 0.5, 0.3, 0.2], [2, 0], 3, 2) // 0.5
 */
export function topKAccuracy(scores: Numbers, truth: Numbers, classes: number, k: number): number {
  checkClassCount(classes, 'classes');
  if (!Number.isInteger(k) || k < 1 || k > classes)
    throw new ConfigError('k must be an integer from 1 to the number of classes', { where: 'k', expected: `1…${classes}`, actual: k });
  const n = truth.length;
  if (n === 0) throw new DataError('top-k accuracy of no examples is undefined', { where: 'truth', expected: 'at least one example', actual: 0 });
  checkLength(scores, n * classes, 'scores (n × classes)');
  checkFinite(scores, 'scores');
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const y = truth[i];
    checkClassIndex(y, classes, `truth[${i}]`);
    const row = i * classes;
    const own = scores[row + y];
    let rank = 0;
    for (let j = 0; j < classes && rank < k; j++) {
      const s = scores[row + j];
      if (s > own || (s === own && j > y)) rank++;
    }
    if (rank < k) hits++;
  }
  return hits / n;
}
