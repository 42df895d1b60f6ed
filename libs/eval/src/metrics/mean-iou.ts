/**
 * Mean intersection over union from one confusion matrix C summed over the
 * whole dataset (pixels labelled with the ignore value, 255 by convention, left
 * out when it was accumulated — see {@link addToConfusionMatrix}):
 *
 *   IoU_c = C[c][c] / (Σ_p C[c][p] + Σ_t C[t][c] − C[c][c])   = TP / (TP + FP + FN)
 *   mIoU  = mean of IoU_c over the classes with TP + FP + FN > 0.
 *
 * A class absent from both truth and prediction has an empty union and no IoU:
 * it is listed in `absent` and left out of the mean. A class predicted but
 * never true scores 0 and counts. Summing over the dataset first (not averaging
 * per-image IoUs) is the PASCAL VOC protocol.
 */
import type { ConfusionMatrix } from './confusion-matrix';

/** The ignore label of segmentation masks (PASCAL VOC's object borders). */
export const SEGMENTATION_IGNORE = 255;

export interface MeanIoU {
  /** Mean over the classes with a non-empty union; null when every class is absent. */
  mean: number | null;
  /** Per class; null for absent classes. */
  perClass: (number | null)[];
  /** Classes absent from both truth and prediction, left out of the mean. */
  absent: number[];
  /** Σ_c C[c][c] / Σ C: the share of (not ignored) pixels labelled right. */
  pixelAccuracy: number | null;
}

/** @example meanIoU(confusionMatrix([0, 0, 1, 255], [0, 1, 1, 0], 3, { ignore: 255 })) // mean 0.5, perClass [0.5, 0.5, null], absent [2] */
export function meanIoU(matrix: ConfusionMatrix): MeanIoU {
  const { classes, counts } = matrix;
  const perClass: (number | null)[] = [];
  const absent: number[] = [];
  let total = 0;
  let correct = 0;
  for (let c = 0; c < classes; c++) {
    let truth = 0;
    let predicted = 0;
    for (let k = 0; k < classes; k++) {
      truth += counts[c * classes + k];
      predicted += counts[k * classes + c];
    }
    const intersection = counts[c * classes + c];
    const union = truth + predicted - intersection;
    perClass.push(union > 0 ? intersection / union : null);
    if (union === 0) absent.push(c);
    total += truth;
    correct += intersection;
  }
  const present = perClass.filter((v): v is number => v !== null);
  return {
    mean: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null,
    perClass,
    absent,
    pixelAccuracy: total > 0 ? correct / total : null,
  };
}
