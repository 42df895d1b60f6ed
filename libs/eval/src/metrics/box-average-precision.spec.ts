import { describe, expect, it } from 'vitest';
import { vocBoxValues } from '../testing/detection-voc-values';
import { boxIoU, boxMeanAveragePrecision, matchDetections, type LabelledBox, type ScoredBox } from './box-average-precision';

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });
const det = (cls: number, score: number, x0: number, y0: number, x1: number, y1: number): ScoredBox => ({ class: cls, score, ...box(x0, y0, x1, y1) });
const gt = (cls: number, x0: number, y0: number, x1: number, y1: number, difficult = false): LabelledBox => ({ class: cls, ...box(x0, y0, x1, y1), difficult });

describe('box IoU (half-open pixels: area = (x1 − x0)(y1 − y0))', () => {
  it('matches hand-computed overlaps', () => {
    expect(boxIoU(box(0, 0, 4, 4), box(2, 2, 6, 6))).toBeCloseTo(4 / 28, 12); // 2·2 / (16 + 16 − 4)
    expect(boxIoU(box(0, 0, 10, 10), box(0, 0, 10, 5))).toBe(0.5); // 50 / 100
    expect(boxIoU(box(3, 4, 9, 7), box(3, 4, 9, 7))).toBe(1);
  });

  it('gives 0 for boxes that share only an edge (the inclusive +1 convention would overlap them)', () => {
    expect(boxIoU(box(0, 0, 2, 2), box(2, 0, 4, 2))).toBe(0);
    expect(boxIoU(box(0, 0, 0, 0), box(0, 0, 0, 0))).toBe(0); // empty union
  });
});

describe('matching detections to ground truth', () => {
  it('takes the unmatched box of highest IoU ≥ 0.5; a detection whose boxes are all taken is a duplicate (FP)', () => {
    // g_a and g_b overlap by 50/150. Ranked: d1 → g_a (IoU 1); d2 overlaps g_a 80/120 = 0.667 (taken) and g_b
    // 70/130 = 0.538 → TP on g_b (the VOC devkit would call it FP); d3 overlaps g_a 90/110 (taken), g_b 60/140 < 0.5 → FP.
    const truth = [[gt(0, 0, 0, 10, 10), gt(0, 0, 5, 10, 15)]];
    const detections = [[det(0, 0.7, 0, 1, 10, 11), det(0, 0.9, 0, 0, 10, 10), det(0, 0.8, 0, 2, 10, 12)]];
    expect(matchDetections(detections, truth)).toEqual([['fp', 'tp', 'tp']]);
  });

  it('ignores a detection on a difficult box (any number of them), counts one on nothing as FP', () => {
    const truth = [[gt(0, 40, 40, 50, 50, true)]];
    const detections = [[det(0, 0.9, 40, 40, 50, 50), det(0, 0.8, 41, 40, 50, 50), det(0, 0.7, 0, 0, 5, 5)]];
    expect(matchDetections(detections, truth)).toEqual([['ignored', 'ignored', 'fp']]);
  });

  it('never matches across images', () => {
    expect(matchDetections([[det(0, 0.9, 0, 0, 10, 10)], []], [[], [gt(0, 0, 0, 10, 10)]])).toEqual([['fp'], []]);
  });
});

describe('box average precision', () => {
  // Class 0 over two images; G = 3 boxes that are not difficult (g0, g1, g2), g1 is never found.
  const truth = [
    [gt(0, 0, 0, 10, 10), gt(0, 20, 20, 30, 30)],
    [gt(0, 0, 0, 10, 10), gt(0, 40, 40, 50, 50, true)],
  ];
  const detections = [
    [det(0, 0.9, 0, 0, 10, 10), det(0, 0.8, 1, 0, 11, 10)], // TP on g0; duplicate on g0 (IoU 90/110) → FP
    [det(0, 0.7, 40, 40, 50, 50), det(0, 0.6, 60, 60, 70, 70), det(0, 0.5, 0, 0, 10, 5)], // ignored (difficult); FP; TP on g2 (IoU exactly 0.5)
  ];

  it('scores missed boxes as lost recall: TP FP FP TP over G = 3 gives AP 0.5 by every method', () => {
    // Without the ignored detection: P = 1, 1/2, 1/3, 2/4 at R = 1/3, 1/3, 1/3, 2/3.
    // non-interpolated: 1/3·1 + 1/3·(1/2) = 0.5; envelope: the same (P rises nowhere after a recall step);
    // 11-point: r = 0…0.3 → 1 (4 levels), r = 0.4…0.6 → 1/2 (3 levels), r ≥ 0.7 → 0: (4 + 1.5) / 11 = 0.5.
    for (const method of ['non-interpolated', 'voc07-11point', 'voc-envelope'] as const) {
      const result = boxMeanAveragePrecision(detections, truth, 1, { method });
      expect(result.perClass[0].ap, method).toBeCloseTo(0.5, 12);
    }
    expect(boxMeanAveragePrecision(detections, truth, 1).perClass[0]).toEqual({
      class: 0,
      ap: 0.5,
      groundTruth: 3,
      difficult: 1,
      detections: 5,
      truePositives: 2,
      falsePositives: 2,
      ignored: 1,
    });
  });

  it('separates the three methods on TP FP TP TP over G = 3, and defaults to the VOC07 11-point one', () => {
    const truth3 = [[gt(0, 0, 0, 10, 10), gt(0, 20, 0, 30, 10), gt(0, 40, 0, 50, 10)]];
    const ranked = [[det(0, 0.9, 0, 0, 10, 10), det(0, 0.8, 60, 0, 70, 10), det(0, 0.7, 20, 0, 30, 10), det(0, 0.6, 40, 0, 50, 10)]];
    // P = 1, 1/2, 2/3, 3/4 at R = 1/3, 1/3, 2/3, 1.
    const ap = (method?: 'non-interpolated' | 'voc07-11point' | 'voc-envelope') => boxMeanAveragePrecision(ranked, truth3, 1, method ? { method } : {}).mean;
    expect(ap('non-interpolated')).toBeCloseTo((1 + 2 / 3 + 3 / 4) / 3, 12); // 0.8056
    expect(ap('voc-envelope')).toBeCloseTo((1 + 3 / 4 + 3 / 4) / 3, 12); // 0.8333: envelope 1, 3/4, 3/4, 3/4
    expect(ap('voc07-11point')).toBeCloseTo((4 * 1 + 7 * (3 / 4)) / 11, 12); // 0.8409
    expect(ap()).toBeCloseTo((4 * 1 + 7 * (3 / 4)) / 11, 12);
  });

  it('is 0 for a class whose boxes no detection finds, and 1 for perfect detections', () => {
    expect(boxMeanAveragePrecision([[det(0, 0.9, 50, 50, 60, 60)]], [[gt(0, 0, 0, 10, 10)]], 1).mean).toBe(0);
    expect(boxMeanAveragePrecision([[]], [[gt(0, 0, 0, 10, 10)]], 1).mean).toBe(0);
    expect(boxMeanAveragePrecision([[det(0, 0.3, 0, 0, 10, 10)], [det(0, 0.2, 5, 5, 9, 9)]], [[gt(0, 0, 0, 10, 10)], [gt(0, 5, 5, 9, 9)]], 1).mean).toBeCloseTo(
      1,
      12,
    );
  });

  it('leaves classes without ground truth (or with only difficult boxes) out of the mean and lists them', () => {
    const withClasses = [
      [...detections[0], det(1, 0.95, 0, 0, 10, 10)],
      [...detections[1], det(2, 0.4, 70, 70, 80, 80)],
    ];
    const truthWithClasses = [truth[0], [...truth[1], gt(2, 70, 70, 80, 80, true)]];
    const result = boxMeanAveragePrecision(withClasses, truthWithClasses, 3);
    expect(result.perClass.map((p) => p.ap)).toEqual([0.5, null, null]);
    expect(result.withoutGroundTruth).toEqual([1, 2]);
    expect(result.mean).toBe(0.5);
    expect(result.perClass[2]).toMatchObject({ groundTruth: 0, difficult: 1, ignored: 1 });
    expect(boxMeanAveragePrecision([[]], [[]], 2).mean).toBeNull();
  });

  it('names the image and box of bad input', () => {
    expect(() => boxMeanAveragePrecision([[]], [[], []], 2)).toThrow(/detections: detections and ground truth disagree in image count/);
    expect(() => boxMeanAveragePrecision([[]], [[gt(2, 0, 0, 1, 1)]], 2)).toThrow(/truth\[0\]\[0\]\.class: a class index is out of range/);
    expect(() => boxMeanAveragePrecision([[det(0, 0.5, 5, 0, 1, 1)]], [[]], 2)).toThrow(/detections\[0\]\[0\]: a box is not a finite/);
    expect(() => boxMeanAveragePrecision([[det(0, NaN, 0, 0, 1, 1)]], [[]], 2)).toThrow(/detections\[0\]\[0\]\.score/);
  });
});

describe('box average precision against the VOC devkit', () => {
  // scripts/voc-box-ap-values.py: the devkit's matching and APs (half-open IoU, levels exactly i/10) on random scenes
  // with difficult boxes, duplicates, wrong classes and detections on nothing.
  for (const [i, c] of vocBoxValues.cases.entries()) {
    it(`agrees to 1e-9 on case ${i} (${c.truth.length} images, ${c.classes} classes) by every method`, () => {
      for (const method of ['non-interpolated', 'voc07-11point', 'voc-envelope'] as const) {
        const result = boxMeanAveragePrecision(c.detections, c.truth, c.classes, { method });
        result.perClass.forEach((p, k) => {
          const expected = c.perClass[k];
          if (expected === null) expect(p.ap, `${method} class ${k}`).toBeNull();
          else expect(p.ap, `${method} class ${k}`).toBeCloseTo(expected[method], 9);
        });
        expect(result.mean, method).toBeCloseTo(c.mean[method], 9);
      }
    });
  }
});
