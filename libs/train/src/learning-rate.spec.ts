import { describe, expect, it } from 'vitest';
import { learningRateAt, type LearningRatePlan } from './learning-rate';

const plan = (over: Partial<LearningRatePlan>): LearningRatePlan => ({
  learningRate: 0.1,
  schedule: { kind: 'constant' },
  warmupSteps: 0,
  steps: 100,
  ...over,
});

describe('learningRateAt', () => {
  it('step: multiplies by gamma at every boundary', () => {
    const p = plan({ schedule: { kind: 'step', every: 10, gamma: 0.5 } });
    expect([0, 9, 10, 19, 20, 35].map((t) => learningRateAt(t, p))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
  });

  it('cosine: the base rate at the first step, minFactor × base at the last, the mean of both halfway', () => {
    const p = plan({ schedule: { kind: 'cosine', minFactor: 0.1 }, steps: 101 });
    expect(learningRateAt(0, p)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(50, p)).toBeCloseTo(0.055, 12);
    expect(learningRateAt(100, p)).toBeCloseTo(0.01, 12);
    for (let t = 1; t <= 100; t++) expect(learningRateAt(t, p)).toBeLessThanOrEqual(learningRateAt(t - 1, p));
  });

  it('warm-up: rises linearly to the scheduled rate, then follows it', () => {
    const p = plan({ warmupSteps: 4 });
    [0.025, 0.05, 0.075, 0.1, 0.1].forEach((rate, t) => expect(learningRateAt(t, p)).toBeCloseTo(rate, 12));
  });
});
