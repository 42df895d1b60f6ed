/**
 * Mean average precision over classes (multi-label classification, PASCAL VOC):
 *
 *   mAP = (1/|D|) Σ_{c ∈ D} AP_c,   D = the classes with at least one positive,
 *
 * AP_c by the named method of {@link averagePrecision}. A class without
 * positives (after ignored examples are removed) has no AP: it is reported
 * with `ap: null` and listed in `withoutPositives`, never counted as 0 or NaN.
 */
import { DataError } from '@ddinit/core';
import { averagePrecisionOfCurve, type AveragePrecisionMethod } from './average-precision';
import { checkClassCount, checkLength, type Numbers } from './input-checks';
import { countLabels, precisionRecallCurve } from './precision-recall-curve';

export interface ClassAveragePrecision {
  class: number;
  /** null when the class has no positives. */
  ap: number | null;
  positives: number;
  negatives: number;
  ignored: number;
}

export interface MeanAveragePrecision {
  method: AveragePrecisionMethod;
  /** Mean over the classes with positives; null when no class has any. */
  mean: number | null;
  perClass: ClassAveragePrecision[];
  /** Classes left out of the mean because they have no positives. */
  withoutPositives: number[];
}

/**
 * @param scores `[n, classes]` row-major.
 * @param labels `[n, classes]` row-major: 1 positive, 0 negative, −1 ignored (VOC's "difficult").
 * @throws DataError for lengths that disagree, non-finite scores or labels other than 1, 0, −1.
 */
export function meanAveragePrecision(
  scores: Numbers,
  labels: Numbers,
  classes: number,
  method: AveragePrecisionMethod = 'non-interpolated',
): MeanAveragePrecision {
  checkClassCount(classes, 'classes');
  checkLength(scores, labels.length, 'scores (one per label)');
  if (labels.length % classes !== 0)
    throw new DataError('labels do not fill whole rows', { where: 'labels', expected: `a multiple of ${classes}`, actual: labels.length });
  const n = labels.length / classes;
  const perClass: ClassAveragePrecision[] = [];
  for (let c = 0; c < classes; c++) {
    const column = (values: Numbers): Float64Array => Float64Array.from({ length: n }, (_, i) => values[i * classes + c]);
    const classLabels = column(labels);
    const counts = countLabels(classLabels, `labels of class ${c}`);
    const ap = counts.positives > 0 ? averagePrecisionOfCurve(precisionRecallCurve(column(scores), classLabels, `labels of class ${c}`), method) : null;
    perClass.push({ class: c, ap, ...counts });
  }
  const defined = perClass.filter((p) => p.ap !== null).map((p) => p.ap as number);
  return {
    method,
    mean: defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : null,
    perClass,
    withoutPositives: perClass.filter((p) => p.ap === null).map((p) => p.class),
  };
}
