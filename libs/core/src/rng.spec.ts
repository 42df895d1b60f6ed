import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(draws(Rng.fromSeed(7), 5)).toEqual(draws(Rng.fromSeed(7), 5));
    expect(draws(Rng.fromSeed(7), 5)).not.toEqual(draws(Rng.fromSeed(8), 5));
  });

  it('derives streams from the name only, not from draws made so far', () => {
    const a = Rng.fromSeed(1);
    const b = Rng.fromSeed(1);
    draws(b, 100);
    expect(draws(a.derive('conv1'), 4)).toEqual(draws(b.derive('conv1'), 4));
    expect(draws(a.derive('conv1'), 4)).not.toEqual(draws(a.derive('conv2'), 4));
    expect(draws(a.derive('x').derive('y'), 4)).not.toEqual(draws(a.derive('y').derive('x'), 4));
  });

  it('draws uniform numbers with the right moments', () => {
    const rng = Rng.fromSeed(3);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sumSq += u * u;
    }
    const mean = sum / n;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(sumSq / n - mean * mean).toBeCloseTo(1 / 12, 2);
  });

  it('draws standard normals with mean 0, variance 1 and light tails', () => {
    const rng = Rng.fromSeed(11);
    const x = rng.fillNormal(new Float32Array(200_000));
    let sum = 0;
    let sumSq = 0;
    let beyond3 = 0;
    for (const v of x) {
      sum += v;
      sumSq += v * v;
      if (Math.abs(v) > 3) beyond3++;
    }
    const mean = sum / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sumSq / x.length - mean * mean - 1)).toBeLessThan(0.02);
    // P(|z| > 3) = 0.0027
    expect(beyond3 / x.length).toBeGreaterThan(0.0018);
    expect(beyond3 / x.length).toBeLessThan(0.0036);
  });

  it('draws unbiased integers', () => {
    const rng = Rng.fromSeed(5);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(() => rng.int(0)).toThrow(/1 ≤ n/);
  });

  it('samples without replacement, sorted and distinct', () => {
    const rng = Rng.fromSeed(9);
    const s = rng.sampleWithoutReplacement(1_000_000, 1000);
    expect(s.length).toBe(1000);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(s[s.length - 1]).toBeLessThan(1_000_000);
    expect(Array.from(rng.sampleWithoutReplacement(5, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(() => rng.sampleWithoutReplacement(3, 4)).toThrow(/0 ≤ k ≤ n/);
  });

  it('shuffles into a permutation', () => {
    const p = Rng.fromSeed(2).permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('gives tfjs seeds in [0, 2^31)', () => {
    const rng = Rng.fromSeed(-1);
    for (let i = 0; i < 100; i++) {
      const s = rng.nextSeed();
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
    }
    expect(() => Rng.fromSeed(1.5)).toThrow(/finite integer/);
  });
});
