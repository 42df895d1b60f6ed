import { describe, expect, it } from 'vitest';
import { averagePrecision } from './average-precision';
import { IGNORE } from './precision-recall-curve';

// Ranked labels 1 0 0 1 1: P = 1, 1/2, 1/3, 2/4, 3/5 at R = 1/3, 1/3, 1/3, 2/3, 1.
const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
const labels = [1, 0, 0, 1, 1];

describe('average precision', () => {
  it('without interpolation is Σ ΔR·P: (1 + 1/2 + 3/5) / 3', () => {
    expect(averagePrecision(scores, labels, 'non-interpolated')).toBeCloseTo(0.7, 12);
  });

  it('by VOC07 11-point interpolation is the mean of the best precision at recall ≥ 0, 0.1, …, 1: (4·1 + 7·3/5) / 11', () => {
    expect(averagePrecision(scores, labels, 'voc07-11point')).toBeCloseTo(8.2 / 11, 12);
  });

  it('under the monotone precision envelope lifts the precision 1/2 at R = 2/3 to the 3/5 after it: (1 + 3/5 + 3/5) / 3', () => {
    expect(averagePrecision(scores, labels, 'voc-envelope')).toBeCloseTo(2.2 / 3, 12);
  });

  it('is 1 for a perfect ranking under every method, and the same whatever the input order of tied scores', () => {
    for (const method of ['non-interpolated', 'voc07-11point', 'voc-envelope'] as const) {
      expect(averagePrecision([3, 2, 1], [1, 1, 0], method)).toBeCloseTo(1, 12);
      expect(averagePrecision([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1], method)).toBeCloseTo(averagePrecision([0.9, 0.5, 0.5, 0.1], [0, 0, 1, 1], method), 12);
    }
    expect(averagePrecision([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1])).toBeCloseTo(5 / 12, 12); // (1/2)(1/3) + (1/2)(1/2)
  });

  it('does not change when an ignored example ranks first', () => {
    expect(averagePrecision([1, ...scores], [IGNORE, ...labels], 'voc-envelope')).toBeCloseTo(averagePrecision(scores, labels, 'voc-envelope'), 12);
  });
});
