import { describe, expect, it } from 'vitest';
import { confusionMatrix } from './confusion-matrix';
import { perClassPrecisionRecall } from './precision-recall';

describe('per-class precision and recall', () => {
  it('divides the diagonal by the column (precision) and by the row (recall)', () => {
    // rows (truth): [1 0 0] [0 1 1] [0 1 1]
    const result = perClassPrecisionRecall(confusionMatrix([0, 1, 2, 2, 1], [0, 2, 2, 1, 1], 3));
    expect(result.precision).toEqual([1, 0.5, 0.5]);
    expect(result.recall).toEqual([1, 0.5, 0.5]);
    expect(result.support).toEqual([1, 2, 2]);
  });

  it('reports null, not 0, for a class never predicted (precision) or without examples (recall)', () => {
    const result = perClassPrecisionRecall(confusionMatrix([0, 0, 1], [0, 1, 1], 3));
    expect(result.precision).toEqual([1, 0.5, null]);
    expect(result.recall).toEqual([0.5, 1, null]);
  });
});
