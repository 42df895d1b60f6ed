import { describe, expect, it } from 'vitest';
import {
  lossAfter,
  mean,
  meanLossCurve,
  regularizedIncompleteBeta,
  sampleStd,
  smoothingWindow,
  studentTCdf,
  studentTQuantile,
  tInterval,
  thin,
} from './study-statistics';

// Reference values from mpmath at 30 digits (/usr/bin/python3: the root of ½·I_{df/(df+t²)}(df/2, ½) = 1 − p,
// betainc) — scipy.stats.t.ppf agrees only to ~1e-9 — and scipy's t.cdf / special.betainc for the CDF.
const T_975: [number, number][] = [
  [1, 12.7062047361747],
  [2, 4.30265272974946],
  [3, 3.18244630528371],
  [4, 2.77644510519779],
  [5, 2.57058183563631],
  [10, 2.22813885198627],
  [30, 2.04227245630124],
  [100, 1.98397151852355],
];

describe('Student t', () => {
  it('quantiles at 0.975 match the textbook table (12.706, 4.303, 2.776, 2.042) to 1e-9', () => {
    for (const [df, t] of T_975) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 9);
  });

  it('quantiles at other levels and below ½ match scipy (symmetric about 0)', () => {
    expect(studentTQuantile(0.995, 3)).toBeCloseTo(5.84090930973336, 9);
    expect(studentTQuantile(0.9, 7)).toBeCloseTo(1.41492392765051, 9);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.77644510519779, 9);
    expect(studentTQuantile(0.5, 6)).toBeCloseTo(0, 9);
  });

  it('CDF matches scipy on both sides of 0', () => {
    expect(studentTCdf(1.5, 1)).toBeCloseTo(0.8128329581890013, 12);
    expect(studentTCdf(1.5, 4)).toBeCloseTo(0.896, 12);
    expect(studentTCdf(1.5, 30)).toBeCloseTo(0.927967035435677, 12);
    expect(studentTCdf(-2.0, 3)).toBeCloseTo(0.06966298427942155, 12);
    expect(studentTCdf(0.7, 1)).toBeCloseTo(0.6944001122142147, 12);
  });

  it('the incomplete beta function matches scipy on both sides of the continued fraction switch', () => {
    expect(regularizedIncompleteBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.01892712407194565, 12);
    expect(regularizedIncompleteBeta(0.9, 0.5, 3)).toBeCloseTo(0.9996750253207289, 12);
    expect(regularizedIncompleteBeta(0.5, 10, 10)).toBeCloseTo(0.5, 12);
  });

  it('refuses a probability outside (0, 1)', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.5, 0)).toThrow(RangeError);
  });
});

describe('mean, sample std and the t-interval', () => {
  it('the sample std divides by n − 1 and is null for one value', () => {
    expect(mean([0.81, 0.78, 0.84])).toBeCloseTo(0.81, 12);
    expect(sampleStd([0.81, 0.78, 0.84])).toBeCloseTo(0.03, 12);
    expect(sampleStd([0.5])).toBeNull();
    expect(Number.isNaN(mean([]))).toBe(true);
  });

  it('the 95 % interval of four paired differences matches scipy.stats.t.interval and mpmath', () => {
    const interval = tInterval([0.031, 0.012, 0.047, 0.025]);
    expect(interval?.df).toBe(3);
    expect(interval?.t).toBeCloseTo(3.18244630528371, 9);
    expect(interval?.low).toBeCloseTo(0.00564071339532288, 9);
    expect(interval?.high).toBeCloseTo(0.0518592866046771, 9);
  });

  it('one value gives no interval', () => {
    expect(tInterval([0.02])).toBeNull();
  });
});

describe('the loss after k steps', () => {
  const curve = Array.from({ length: 100 }, (_, step) => ({ step, loss: 100 - step }));

  it('averages the window of steps k − w … k − 1 (steps count from 0)', () => {
    expect(smoothingWindow(100)).toBe(5);
    expect(smoothingWindow(7)).toBe(1);
    // After 50 steps: steps 45…49, losses 55…51.
    expect(lossAfter(curve, 50, 5)).toBeCloseTo(53, 12);
    expect(lossAfter(curve, 100, 1)).toBeCloseTo(1, 12);
  });

  it('is null where the curve has no finite point (a resumed or diverged run)', () => {
    expect(lossAfter(curve.slice(60), 50, 5)).toBeNull();
    expect(lossAfter([{ step: 9, loss: Number.NaN }], 10, 1)).toBeNull();
  });

  it('the mean curve averages the steps every curve has, then smooths over the window', () => {
    const a = [0, 1, 2, 3].map((step) => ({ step, loss: 4 }));
    const b = [1, 2, 3].map((step) => ({ step, loss: 2 * step }));
    // Common steps 1, 2, 3: means 3, 4, 5; trailing window 2: 3, 3.5, 4.5.
    expect(meanLossCurve([a, b], 2)).toEqual([
      [1, 3],
      [2, 3.5],
      [3, 4.5],
    ]);
    expect(meanLossCurve([curve], 1, 10)).toHaveLength(10);
    expect(meanLossCurve([curve], 1, 10).at(-1)).toEqual([99, 1]);
  });
});

describe('thin', () => {
  it('keeps every ⌈n / max⌉-th point and the last, or all of few points', () => {
    const points = Array.from({ length: 10 }, (_, i) => i);
    expect(thin(points, 4)).toEqual([2, 5, 8, 9]);
    expect(thin(points, 10)).toEqual(points);
    expect(thin([], 3)).toEqual([]);
  });
});
