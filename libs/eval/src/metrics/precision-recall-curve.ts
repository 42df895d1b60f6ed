/**
 * The precision–recall curve of one class over a ranked list, the input of every
 * average precision. Examples are ranked by score, highest first; examples with
 * the same score form one threshold (scikit-learn's `precision_recall_curve`
 * does the same), so the curve has a point per distinct score θ_1 > θ_2 > …:
 *
 *   TP_n = #{ positives with s ≥ θ_n },  FP_n = #{ negatives with s ≥ θ_n },
 *   P_n = TP_n / (TP_n + FP_n),  R_n = TP_n / #positives.
 *
 * Grouping ties makes the curve independent of the input order; ranking tied
 * examples one by one (the VOC devkit's sort) would make AP depend on it.
 * Labels: 1 positive, 0 negative, {@link IGNORE} (−1, VOC's "difficult")
 * neither — an ignored example is removed from the list before ranking.
 */
import { DataError } from '@ddinit/core';
import { checkFinite, checkLength, type Numbers } from './input-checks';

/** The label of an example that counts neither as a positive nor as a negative. */
export const IGNORE = -1;

export interface PrecisionRecallCurve {
  /** Distinct scores of the ranked examples, descending. */
  thresholds: number[];
  /** P_n at each threshold. */
  precision: number[];
  /** R_n at each threshold (non-decreasing, ending at 1). */
  recall: number[];
  positives: number;
  negatives: number;
  ignored: number;
}

/** Positives, negatives and ignored examples of a label vector, checked to hold only 1, 0 and IGNORE. */
export function countLabels(labels: Numbers, where: string): { positives: number; negatives: number; ignored: number } {
  let positives = 0;
  let negatives = 0;
  let ignored = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === 1) positives++;
    else if (y === 0) negatives++;
    else if (y === IGNORE) ignored++;
    else
      throw new DataError('a ranking label must be 1 (positive), 0 (negative) or -1 (ignored)', { where: `${where}[${i}]`, expected: '1, 0 or -1', actual: y });
  }
  return { positives, negatives, ignored };
}

/**
 * @param scores one per example, higher = more confidently positive.
 * @param labels one per example: 1, 0 or IGNORE.
 * @throws DataError for lengths that disagree, non-finite scores, other labels, or no positives (recall is undefined).
 */
export function precisionRecallCurve(scores: Numbers, labels: Numbers, where = 'labels'): PrecisionRecallCurve {
  checkLength(scores, labels.length, 'scores (one per label)');
  checkFinite(scores, 'scores');
  const counts = countLabels(labels, where);
  if (counts.positives === 0) {
    throw new DataError('precision and recall are undefined without positives', { where, expected: 'at least one label 1', actual: '0 positives' });
  }
  const order: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] !== IGNORE) order.push(i);
  order.sort((a, b) => scores[b] - scores[a]);
  const curve: PrecisionRecallCurve = { thresholds: [], precision: [], recall: [], ...counts };
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < order.length; r++) {
    if (labels[order[r]] === 1) tp++;
    else fp++;
    const score = scores[order[r]];
    if (r + 1 < order.length && scores[order[r + 1]] === score) continue; // the tie continues
    curve.thresholds.push(score);
    curve.precision.push(tp / (tp + fp));
    curve.recall.push(tp / counts.positives);
  }
  return curve;
}
