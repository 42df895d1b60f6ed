import { describe, expect, it } from 'vitest';
import { averagePrecision } from './average-precision';
import { meanAveragePrecision } from './mean-average-precision';

describe('mean average precision', () => {
  it('averages the classes with positives and reports a class without any instead of counting it', () => {
    // 4 examples × 3 classes, row-major; class 2 has only a negative and ignored examples.
    const scores = [0.9, 0.1, 0.5, 0.8, 0.7, 0.4, 0.3, 0.2, 0.9, 0.6, 0.9, 0.1];
    const labels = [1, 0, 0, 0, 1, -1, 1, 0, -1, 0, 1, -1];
    const result = meanAveragePrecision(scores, labels, 3);
    const class0 = averagePrecision([0.9, 0.8, 0.3, 0.6], [1, 0, 1, 0]); // P 1, 1/2, 1/3, 2/4 → (1 + 1/2) / 2
    expect(class0).toBeCloseTo(0.75, 12);
    expect(result.perClass[0].ap).toBeCloseTo(0.75, 12);
    expect(result.perClass[1].ap).toBeCloseTo(1, 12); // positives 0.7 and 0.9 rank above the negatives 0.1, 0.2
    expect(result.perClass[2]).toEqual({ class: 2, ap: null, positives: 0, negatives: 1, ignored: 3 });
    expect(result.withoutPositives).toEqual([2]);
    expect(result.mean).toBeCloseTo(0.875, 12);
  });

  it('has no mean, rather than 0 or NaN, when no class has a positive', () => {
    const result = meanAveragePrecision([0.1, 0.2], [0, 0], 2);
    expect(result.mean).toBeNull();
    expect(result.withoutPositives).toEqual([0, 1]);
  });

  it('names the class of a bad label', () => {
    expect(() => meanAveragePrecision([0.1, 0.2, 0.3, 0.4], [1, 0, 0, 3], 2)).toThrow(/labels of class 1\[1\]: a ranking label must be/);
    expect(() => meanAveragePrecision([0.1, 0.2, 0.3], [1, 0, 0], 2)).toThrow(/labels do not fill whole rows/);
  });
});
