/**
 * Detection average precision (PASCAL VOC's box mAP): per class, the detections
 * of every image ranked by score, each matched to a ground-truth box, and AP
 * by one of the three methods of {@link averagePrecision} on the resulting
 * precision–recall curve:
 *
 *   P_n = TP_n / (TP_n + FP_n),  R_n = TP_n / G_c,
 *
 * G_c = the class's ground-truth boxes that are not difficult, so a box no
 * detection finds lowers recall. The default method is the VOC07 11-point
 * interpolation, the score of the VOC2007 detection protocol (which the paper's
 * detection results follow); `voc-envelope` is the VOC2010+ devkit's.
 *
 * Matching, in decreasing score (a detection with the same class and image only):
 * - to the still unmatched, not difficult box of highest IoU ≥ threshold: true positive;
 * - else, when a difficult box overlaps it by IoU ≥ threshold: ignored, neither TP nor FP
 *   (VOC's rule for difficult objects);
 * - else a false positive: no box overlaps enough, or every such box is already
 *   taken (a duplicate).
 * The VOC devkit instead takes the single box of highest IoU, matched or not, so a
 * detection whose best box is taken is a false positive even if a second box also
 * overlaps it by ≥ threshold; we match it to the second box (as COCO does). The
 * two agree whenever boxes of a class overlap each other by less than the
 * threshold (composed scenes: never overlap at all).
 *
 * Tied scores form one threshold of the curve ({@link precisionRecallCurve}),
 * where the devkit ranks ties one by one in sort order.
 *
 * IoU uses the half-open pixel convention of the data: a box covers
 * x0 ≤ x < x1, y0 ≤ y < y1, so area = (x1 − x0)(y1 − y0) (the VOC devkit's
 * inclusive coordinates add 1 to each side instead).
 *
 * mAP = mean of AP_c over the classes with at least one box that is not
 * difficult; the others are reported with `ap: null` and listed, never counted as 0.
 */
import { DataError } from '@ddinit/core';
import { averagePrecisionOfCurve, type AveragePrecisionMethod } from './average-precision';
import { checkClassCount, checkClassIndex } from './input-checks';
import { IGNORE, precisionRecallCurve } from './precision-recall-curve';

/** A box in pixels covering x0 ≤ x < x1, y0 ≤ y < y1. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A ground-truth box. */
export interface LabelledBox extends PixelBox {
  class: number;
  /** Neither a positive nor a negative (PASCAL VOC's `difficult`). */
  difficult?: boolean;
}

/** A detection. */
export interface ScoredBox extends PixelBox {
  class: number;
  score: number;
}

/** What became of one detection. */
export type MatchOutcome = 'tp' | 'fp' | 'ignored';

export interface BoxAPOptions {
  /** Least IoU of a match. Default 0.5 (VOC). */
  iouThreshold?: number;
  /** Default `voc07-11point`. */
  method?: AveragePrecisionMethod;
}

export interface ClassBoxAveragePrecision {
  class: number;
  /** null when the class has no box that is not difficult. */
  ap: number | null;
  /** Boxes that are not difficult (G_c). */
  groundTruth: number;
  difficult: number;
  detections: number;
  truePositives: number;
  falsePositives: number;
  ignored: number;
}

export interface BoxMeanAveragePrecision {
  method: AveragePrecisionMethod;
  iouThreshold: number;
  /** Mean over the classes with ground truth; null when no class has any. */
  mean: number | null;
  perClass: ClassBoxAveragePrecision[];
  /** Classes left out of the mean because they have no box that is not difficult. */
  withoutGroundTruth: number[];
}

/** IoU = |A ∩ B| / |A ∪ B| with area (x1 − x0)(y1 − y0); 0 when the union is empty. */
export function boxIoU(a: PixelBox, b: PixelBox): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  const intersection = w > 0 && h > 0 ? w * h : 0;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Matches one class's detections to its ground truth (see the module doc).
 * @param detections per image, of this class only. @param truth per image, of this class only.
 * @returns per image, the outcome of each detection (in its input order).
 */
export function matchDetections(
  detections: readonly (readonly ScoredBox[])[],
  truth: readonly (readonly LabelledBox[])[],
  iouThreshold = 0.5,
): MatchOutcome[][] {
  const outcomes = detections.map((list) => list.map((): MatchOutcome => 'fp'));
  const ranked = detections.flatMap((list, image) => list.map((d, index) => ({ image, index, score: d.score })));
  // Stable: equal scores keep image order, then input order, so the outcome never depends on the sort algorithm.
  ranked.sort((a, b) => b.score - a.score);
  const taken = truth.map((list) => list.map(() => false));
  for (const { image, index } of ranked) {
    const detection = detections[image][index];
    let best = -1;
    let bestIoU = -1;
    let overlapsDifficult = false;
    truth[image].forEach((box, g) => {
      const iou = boxIoU(detection, box);
      if (iou < iouThreshold) return;
      if (box.difficult === true) overlapsDifficult = true;
      else if (!taken[image][g] && iou > bestIoU) [best, bestIoU] = [g, iou];
    });
    if (best >= 0) {
      taken[image][best] = true;
      outcomes[image][index] = 'tp';
    } else if (overlapsDifficult) outcomes[image][index] = 'ignored';
  }
  return outcomes;
}

/** @throws DataError naming the box whose class, score or coordinates are not valid. */
function checkBoxes(lists: readonly (readonly (LabelledBox | ScoredBox)[])[], classes: number, where: string): void {
  lists.forEach((list, image) =>
    list.forEach((box, b) => {
      const at = `${where}[${image}][${b}]`;
      checkClassIndex(box.class, classes, `${at}.class`);
      const coordinates = [box.x0, box.y0, box.x1, box.y1];
      if (!coordinates.every(Number.isFinite) || box.x1 < box.x0 || box.y1 < box.y0) {
        throw new DataError('a box is not a finite x0 ≤ x1, y0 ≤ y1 rectangle', {
          where: at,
          expected: 'x0 ≤ x1, y0 ≤ y1, finite',
          actual: coordinates.join(', '),
        });
      }
      if ('score' in box && !Number.isFinite(box.score)) throw new DataError('a score is not a finite number', { where: `${at}.score`, actual: box.score });
    }),
  );
}

/** AP of one class from its match outcomes: the curve of the TP/FP ranking with recall rescaled to TP_n / G_c. */
function classAP(scores: number[], outcomes: MatchOutcome[], groundTruth: number, method: AveragePrecisionMethod): number {
  const labels = outcomes.map((o) => (o === 'tp' ? 1 : o === 'fp' ? 0 : IGNORE));
  const truePositives = labels.filter((y) => y === 1).length;
  if (truePositives === 0) return 0; // precision is 0 wherever recall is defined, or nothing was detected
  const curve = precisionRecallCurve(scores, labels, 'box matches');
  // precisionRecallCurve's recall counts only the matched boxes; missed boxes count too.
  const recall = curve.recall.map((r) => (r * truePositives) / groundTruth);
  return averagePrecisionOfCurve({ ...curve, recall, positives: groundTruth }, method);
}

/**
 * Box AP per class and their mean.
 * @param detections per image, every class. @param truth per image (same number of images).
 * @throws DataError for image counts that disagree, classes out of range, non-finite scores or malformed boxes.
 */
export function boxMeanAveragePrecision(
  detections: readonly (readonly ScoredBox[])[],
  truth: readonly (readonly LabelledBox[])[],
  classes: number,
  options: BoxAPOptions = {},
): BoxMeanAveragePrecision {
  const iouThreshold = options.iouThreshold ?? 0.5;
  const method = options.method ?? 'voc07-11point';
  checkClassCount(classes, 'classes');
  if (!(iouThreshold > 0 && iouThreshold <= 1))
    throw new DataError('the IoU threshold is out of range', { where: 'iouThreshold', expected: 'in (0, 1]', actual: iouThreshold });
  if (detections.length !== truth.length) {
    throw new DataError('detections and ground truth disagree in image count', {
      where: 'detections',
      expected: `${truth.length} images`,
      actual: detections.length,
    });
  }
  checkBoxes(truth, classes, 'truth');
  checkBoxes(detections, classes, 'detections');
  const perClass: ClassBoxAveragePrecision[] = [];
  for (let c = 0; c < classes; c++) {
    const classDetections = detections.map((list) => list.filter((d) => d.class === c));
    const classTruth = truth.map((list) => list.filter((t) => t.class === c));
    const difficult = classTruth.reduce((n, list) => n + list.filter((t) => t.difficult === true).length, 0);
    const groundTruth = classTruth.reduce((n, list) => n + list.length, 0) - difficult;
    const outcomes = matchDetections(classDetections, classTruth, iouThreshold).flat();
    const scores = classDetections.flat().map((d) => d.score);
    const count = (o: MatchOutcome): number => outcomes.filter((x) => x === o).length;
    perClass.push({
      class: c,
      ap: groundTruth > 0 ? classAP(scores, outcomes, groundTruth, method) : null,
      groundTruth,
      difficult,
      detections: outcomes.length,
      truePositives: count('tp'),
      falsePositives: count('fp'),
      ignored: count('ignored'),
    });
  }
  const defined = perClass.filter((p) => p.ap !== null).map((p) => p.ap as number);
  return {
    method,
    iouThreshold,
    mean: defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : null,
    perClass,
    withoutGroundTruth: perClass.filter((p) => p.ap === null).map((p) => p.class),
  };
}
