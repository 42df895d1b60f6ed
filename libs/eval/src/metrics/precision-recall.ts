/**
 * Per-class precision and recall from a confusion matrix C (rows truth):
 *
 *   precision_c = C[c][c] / Σ_t C[t][c]   (of the examples predicted c, the share that are c)
 *   recall_c    = C[c][c] / Σ_p C[c][p]   (of the examples that are c, the share predicted c)
 *
 * A class never predicted has no precision and a class without examples no
 * recall: those are `null`, not 0 (scikit-learn's `zero_division=np.nan`).
 */
import type { ConfusionMatrix } from './confusion-matrix';

export interface ClassPrecisionRecall {
  /** Per class; null when the class was never predicted. */
  precision: (number | null)[];
  /** Per class; null when the class has no examples. */
  recall: (number | null)[];
  /** Examples of each class (Σ_p C[c][p]). */
  support: number[];
  /** Examples predicted as each class (Σ_t C[t][c]). */
  predicted: number[];
}

/** @example perClassPrecisionRecall(confusionMatrix([0, 1, 1], [0, 0, 1], 2)) // precision [0.5, 1], recall [1, 0.5] */
export function perClassPrecisionRecall(matrix: ConfusionMatrix): ClassPrecisionRecall {
  const { classes, counts } = matrix;
  const support = new Array<number>(classes).fill(0);
  const predicted = new Array<number>(classes).fill(0);
  for (let t = 0; t < classes; t++) {
    for (let p = 0; p < classes; p++) {
      support[t] += counts[t * classes + p];
      predicted[p] += counts[t * classes + p];
    }
  }
  const diagonal = (c: number): number => counts[c * classes + c];
  return {
    precision: predicted.map((m, c) => (m > 0 ? diagonal(c) / m : null)),
    recall: support.map((m, c) => (m > 0 ? diagonal(c) / m : null)),
    support,
    predicted,
  };
}
