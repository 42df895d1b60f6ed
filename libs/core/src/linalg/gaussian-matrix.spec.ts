import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { fillGaussian, gaussianMatrix } from './gaussian-matrix';

/** Φ(x), the standard normal CDF (Abramowitz–Stegun 7.1.26 for erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('fillGaussian', () => {
  const n = 400_000;
  const values = fillGaussian(new Float32Array(n), Rng.fromSeed(3));

  it('has the moments of N(0, 1) within sampling error (mean, variance, skewness, kurtosis)', () => {
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of values) {
      m1 += v / n;
      m2 += (v * v) / n;
      m3 += (v * v * v) / n;
      m4 += (v * v * v * v) / n;
    }
    // Standard errors at n = 4e5: mean 1.6e-3, variance 2.2e-3, third moment 3.9e-3, fourth 1.5e-2; bounds ≈ 4–5 of them.
    expect(Math.abs(m1)).toBeLessThan(0.008);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.01);
    expect(Math.abs(m3)).toBeLessThan(0.02);
    expect(Math.abs(m4 - 3)).toBeLessThan(0.07);
  });

  it('follows the normal CDF (Kolmogorov–Smirnov distance below the 0.1 % critical value)', () => {
    const sorted = Float64Array.from(values).sort();
    let distance = 0;
    for (let i = 0; i < n; i += 7) distance = Math.max(distance, Math.abs(normalCdf(sorted[i]) - i / n), Math.abs(normalCdf(sorted[i]) - (i + 1) / n));
    expect(distance).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('has the normal tails: P(|z| > 2), P(|z| > R = 3.4426) (the tail block of the ziggurat) and P(|z| > 4) within 4.5 standard errors', () => {
    const big = fillGaussian(new Float32Array(4_000_000), Rng.fromSeed(11));
    for (const bound of [1, 2, 3.442619855899, 4]) {
      const expected = 2 * (1 - normalCdf(bound)) * big.length;
      const count = big.reduce((c, v) => c + (Math.abs(v) > bound ? 1 : 0), 0);
      expect(Math.abs(count - expected)).toBeLessThan(4.5 * Math.sqrt(expected));
    }
  });

  it('has the normal density on 64 bins of [−4, 4] (χ² below the 0.1 % critical value of 63 degrees of freedom)', () => {
    const bins = new Float64Array(64);
    let inside = 0;
    for (const v of values) {
      if (Math.abs(v) >= 4) continue;
      bins[Math.floor((v + 4) * 8)]++;
      inside++;
    }
    let chi2 = 0;
    const mass = normalCdf(4) - normalCdf(-4);
    bins.forEach((count, b) => {
      const expected = (inside * (normalCdf(-4 + (b + 1) / 8) - normalCdf(-4 + b / 8))) / mass;
      chi2 += (count - expected) ** 2 / expected;
    });
    expect(chi2).toBeLessThan(103.4);
  });

  it('has uncorrelated neighbours (consecutive values and every other value)', () => {
    let lag1 = 0;
    let lag2 = 0;
    for (let i = 0; i + 2 < n; i++) {
      lag1 += (values[i] * values[i + 1]) / n;
      lag2 += (values[i] * values[i + 2]) / n;
    }
    expect(Math.abs(lag1)).toBeLessThan(0.008);
    expect(Math.abs(lag2)).toBeLessThan(0.008);
  });

  it('is a function of the stream: same Rng state, same values; another stream, other values', () => {
    const again = fillGaussian(new Float32Array(1001), Rng.fromSeed(3));
    expect(Array.from(again)).toEqual(Array.from(values.subarray(0, 1001)));
    const other = fillGaussian(new Float32Array(1001), Rng.fromSeed(4));
    expect(other.some((v, i) => v !== again[i])).toBe(true);
    expect(again.every(Number.isFinite)).toBe(true);
  });
});

describe('gaussianMatrix', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('is the fill as a [rows, cols] tensor, and leaks nothing', async () => {
    await expectNoLeakedTensors(() => {
      const g = gaussianMatrix(3, 5, Rng.fromSeed(8));
      try {
        expect(g.shape).toEqual([3, 5]);
        expect(Array.from(g.dataSync())).toEqual(Array.from(fillGaussian(new Float32Array(15), Rng.fromSeed(8))));
      } finally {
        g.dispose();
      }
    });
  });
});
