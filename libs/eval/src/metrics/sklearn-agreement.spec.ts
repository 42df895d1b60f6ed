import { describe, expect, it } from 'vitest';
import { sklearnValues as fixture } from '../testing/sklearn-values';
import { AVERAGE_PRECISION_METHODS, averagePrecision } from './average-precision';
import { confusionMatrix } from './confusion-matrix';
import { meanAveragePrecision } from './mean-average-precision';
import { SEGMENTATION_IGNORE, meanIoU } from './mean-iou';
import { perClassPrecisionRecall } from './precision-recall';
import { topKAccuracy } from './top-k-accuracy';

const TOLERANCE = 1e-6;

/** Equal nulls, numbers within the tolerance. */
function expectClose(actual: (number | null)[], expected: (number | null)[], what: string): void {
  expect(
    actual.map((v) => v === null),
    what,
  ).toEqual(expected.map((v) => v === null));
  actual.forEach((v, i) => {
    if (v !== null) expect(Math.abs(v - (expected[i] as number)), `${what}[${i}]`).toBeLessThan(TOLERANCE);
  });
}

describe(`the metrics agree with scikit-learn ${fixture.sklearn} on seeded random inputs (seed ${fixture.seed})`, () => {
  it('average precision, three ways, with and without tied scores and ignored examples', () => {
    for (const [i, c] of fixture.ranking.entries()) {
      for (const method of AVERAGE_PRECISION_METHODS) {
        expectClose([averagePrecision(c.scores, c.labels, method)], [c.ap[method]], `ranking case ${i} (${c.n} examples, ties ${c.ties}), ${method}`);
      }
    }
    expect(fixture.ranking.some((c) => c.ties && c.labels.includes(-1))).toBe(true);
  });

  it('mean average precision, a class without positives left out', () => {
    const { scores, labels, classes, perClass, mean } = fixture.map;
    for (const method of AVERAGE_PRECISION_METHODS) {
      const result = meanAveragePrecision(scores, labels, classes, method);
      expectClose(
        result.perClass.map((p) => p.ap),
        perClass.map((p) => (p === null ? null : p[method])),
        `per-class AP (${method})`,
      );
      expectClose([result.mean], [mean[method]], `mAP (${method})`);
      expect(result.withoutPositives).toEqual(perClass.flatMap((p, c) => (p === null ? [c] : [])));
    }
  });

  it('confusion matrix, per-class precision and recall, IoU and mIoU with the ignore label 255 and an absent class', () => {
    const c = fixture.confusion;
    const matrix = confusionMatrix(c.truth, c.predicted, c.classes, { ignore: SEGMENTATION_IGNORE });
    expect(Array.from(matrix.counts)).toEqual(c.confusion);
    const pr = perClassPrecisionRecall(matrix);
    expectClose(pr.precision, c.precision, 'precision');
    expectClose(pr.recall, c.recall, 'recall');
    const iou = meanIoU(matrix);
    expectClose(iou.perClass, c.iou, 'IoU');
    expectClose([iou.mean], [c.meanIoU], 'mIoU');
    expect(iou.absent).toEqual(c.absent);
    expect(c.absent.length).toBeGreaterThan(0);
  });

  it('top-k accuracy, including rows full of tied scores', () => {
    for (const [i, c] of fixture.topK.entries()) {
      for (const [k, expected] of Object.entries(c.accuracy)) {
        expectClose([topKAccuracy(c.scores, c.truth, c.classes, Number(k))], [expected], `top-k case ${i} (ties ${c.ties}), k = ${k}`);
      }
    }
  });
});
