/**
 * The confusion matrix C of a classifier: C[t][p] = the number of examples of
 * true class t predicted as p (rows truth, columns prediction, as
 * scikit-learn's `confusion_matrix`). Examples whose truth is the ignore label
 * are dropped. Counts are float64, exact up to 2^53, so a segmentation
 * dataset's pixels can be summed into one matrix batch by batch.
 */
import { DataError } from '@ddinit/core';
import { checkClassCount, checkClassIndex, checkLength, type Numbers } from './input-checks';

export interface ConfusionMatrix {
  classes: number;
  /** `classes × classes`, row-major: counts[t · classes + p]. */
  counts: Float64Array;
}

export interface ConfusionOptions {
  /** A truth value that marks an example to leave out (255 for segmentation masks); never a class index. */
  ignore?: number;
}

/** An empty matrix to accumulate into with {@link addToConfusionMatrix}. */
export function emptyConfusionMatrix(classes: number): ConfusionMatrix {
  checkClassCount(classes, 'classes');
  return { classes, counts: new Float64Array(classes * classes) };
}

/**
 * Adds examples to `matrix` in place (so one matrix sums over a whole dataset).
 * @throws DataError when lengths disagree, or a truth (other than the ignore label) or a prediction is not a class index.
 */
export function addToConfusionMatrix(matrix: ConfusionMatrix, truth: Numbers, predicted: Numbers, options: ConfusionOptions = {}): ConfusionMatrix {
  const { classes, counts } = matrix;
  const { ignore } = options;
  if (ignore !== undefined && Number.isInteger(ignore) && ignore >= 0 && ignore < classes) {
    throw new DataError('the ignore label is a class index', { where: 'ignore', expected: `a value outside [0, ${classes})`, actual: ignore });
  }
  checkLength(predicted, truth.length, 'predicted (one per truth)');
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (t === ignore) continue;
    checkClassIndex(t, classes, `truth[${i}]`);
    checkClassIndex(predicted[i], classes, `predicted[${i}]`);
    counts[t * classes + predicted[i]] += 1;
  }
  return matrix;
}

/**
 * The confusion matrix of `predicted` against `truth`.
 * @example confusionMatrix([0, 1, 1], [0, 0, 1], 2).counts // [1, 0, 1, 1]
 */
export function confusionMatrix(truth: Numbers, predicted: Numbers, classes: number, options: ConfusionOptions = {}): ConfusionMatrix {
  return addToConfusionMatrix(emptyConfusionMatrix(classes), truth, predicted, options);
}
