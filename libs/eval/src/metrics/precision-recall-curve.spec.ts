import { DataError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { IGNORE, precisionRecallCurve } from './precision-recall-curve';

describe('the precision–recall curve', () => {
  it('has a point per example when scores are distinct, in descending score order', () => {
    const curve = precisionRecallCurve([0.5, 0.9, 0.7, 0.8, 0.6], [1, 1, 0, 0, 1]);
    expect(curve.thresholds).toEqual([0.9, 0.8, 0.7, 0.6, 0.5]);
    expect(curve.precision).toEqual([1, 1 / 2, 1 / 3, 2 / 4, 3 / 5]);
    expect(curve.recall).toEqual([1 / 3, 1 / 3, 1 / 3, 2 / 3, 1]);
  });

  it('makes one point of tied scores, whatever their order in the input', () => {
    const a = precisionRecallCurve([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1]);
    const b = precisionRecallCurve([0.9, 0.5, 0.5, 0.1], [0, 0, 1, 1]);
    expect(a.thresholds).toEqual([0.9, 0.5, 0.1]);
    expect(a.precision).toEqual([0, 1 / 3, 1 / 2]);
    expect(a.recall).toEqual([0, 1 / 2, 1]);
    expect(b).toEqual(a);
  });

  it('leaves ignored examples out of both positives and negatives', () => {
    const curve = precisionRecallCurve([0.99, 0.9, 0.8, 0.7], [IGNORE, 1, IGNORE, 0]);
    expect(curve).toMatchObject({ positives: 1, negatives: 1, ignored: 2, thresholds: [0.9, 0.7], precision: [1, 0.5], recall: [1, 1] });
  });

  it('refuses a class without positives, labels other than 1/0/−1 and non-finite scores, naming the element', () => {
    expect(() => precisionRecallCurve([0.1, 0.2], [0, IGNORE])).toThrow(/labels: precision and recall are undefined without positives/);
    expect(() => precisionRecallCurve([0.1, 0.2], [1, 2])).toThrow(/labels\[1\]: a ranking label must be 1 \(positive\), 0 \(negative\) or -1 \(ignored\)/);
    expect(() => precisionRecallCurve([0.1, Number.POSITIVE_INFINITY], [1, 0])).toThrow(/scores\[1\]: a score is not a finite number/);
    expect(() => precisionRecallCurve([0.1], [1, 0])).toThrow(DataError);
  });
});
