import { describe, expect, it } from 'vitest';
import { MEAN_SHIFT_LIMIT, STD_RATIO_LIMIT, strays } from './held-out-check';

describe('the held-out stray rule', () => {
  const sample = { mean: 0.1, std: 2 };
  it('flags a held-out std beyond ×STD_RATIO_LIMIT either way, in units of the in-sample std', () => {
    expect(strays(sample, { mean: 0.1, std: 2 * STD_RATIO_LIMIT * 0.99 })).toBe(false);
    expect(strays(sample, { mean: 0.1, std: 2 * STD_RATIO_LIMIT * 1.01 })).toBe(true);
    expect(strays(sample, { mean: 0.1, std: (2 / STD_RATIO_LIMIT) * 1.01 })).toBe(false);
    expect(strays(sample, { mean: 0.1, std: (2 / STD_RATIO_LIMIT) * 0.99 })).toBe(true);
  });

  it('flags a mean shift beyond MEAN_SHIFT_LIMIT in-sample stds, and a non-finite held-out value', () => {
    expect(strays(sample, { mean: 0.1 - 2 * MEAN_SHIFT_LIMIT * 0.99, std: 2 })).toBe(false);
    expect(strays(sample, { mean: 0.1 + 2 * MEAN_SHIFT_LIMIT * 1.01, std: 2 })).toBe(true);
    expect(strays(sample, { mean: Number.NaN, std: 2 })).toBe(true);
    expect(strays(sample, { mean: 0.1, std: Number.POSITIVE_INFINITY })).toBe(true);
  });

  it('never flags a layer without an in-sample std to compare with', () => {
    expect(strays({ mean: 0, std: 0 }, { mean: 5, std: 5 })).toBe(false);
  });
});
