import { describe, expect, it } from 'vitest';
import { ConfigError, NumericalError, ShapeError } from '../errors';
import { Rng } from '../rng';
import { denseEigenpairs } from './symmetric-eigen';
import { matrixWithSpectrum, orthonormalityError, randomOrthogonal, reconstructionError } from '../testing/spectrum-matrices';

describe('denseEigenpairs', () => {
  it('solves the 2×2 example of its doc comment', () => {
    const { values, vectors } = denseEigenpairs({ size: 2, data: Float64Array.of(2, 1, 1, 2) });
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expect(vectors[0]).toBeCloseTo(Math.SQRT1_2, 14); // column 0 = [1, 1]/√2
    expect(vectors[2]).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it('returns a diagonal matrix’s entries in descending order with unit vectors', () => {
    const diag = [3, -1, 7, 0, 2.5];
    const n = diag.length;
    const data = new Float64Array(n * n);
    diag.forEach((v, i) => (data[i * n + i] = v));
    const { values, vectors } = denseEigenpairs({ size: n, data });
    expect(Array.from(values)).toEqual([7, 3, 2.5, 0, -1]);
    // column j is the unit vector e_{index of values[j]}
    const index = [2, 0, 4, 3, 1];
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) expect(vectors[i * n + j]).toBe(i === index[j] ? 1 : 0);
  });

  it('recovers a known spectrum rotated by a seeded random orthogonal matrix', () => {
    const n = 60;
    const rng = Rng.fromSeed(7);
    const spectrum = Array.from({ length: n }, (_, i) => 10 * Math.exp(-i / 8) - 0.5);
    const q = randomOrthogonal(n, rng);
    const a = matrixWithSpectrum(spectrum, q);
    const { values, vectors } = denseEigenpairs(a);
    for (let i = 0; i < n; i++) expect(Math.abs(values[i] - spectrum[i])).toBeLessThan(1e-12);
    expect(orthonormalityError(vectors, n, n)).toBeLessThan(1e-12);
    expect(reconstructionError(a, values, vectors)).toBeLessThan(1e-12);
    // eigenvectors are the columns of q up to sign
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * n + j] * q[i * n + j];
      expect(Math.abs(dot)).toBeGreaterThan(1 - 1e-9);
    }
  });

  it('handles repeated eigenvalues: orthonormal vectors spanning each eigenspace', () => {
    const n = 40;
    const spectrum = Array.from({ length: n }, (_, i) => (i < 10 ? 5 : i < 30 ? 2 : 1));
    const a = matrixWithSpectrum(spectrum, randomOrthogonal(n, Rng.fromSeed(3)));
    const { values, vectors } = denseEigenpairs(a);
    for (let i = 0; i < n; i++) expect(values[i]).toBeCloseTo(spectrum[i], 12);
    expect(orthonormalityError(vectors, n, n)).toBeLessThan(1e-12);
    expect(reconstructionError(a, values, vectors)).toBeLessThan(1e-12);
  });

  it('handles a rank-deficient matrix and returns only the top N pairs', () => {
    const n = 50;
    const rank = 12;
    const spectrum = Array.from({ length: n }, (_, i) => (i < rank ? rank - i : 0));
    const a = matrixWithSpectrum(spectrum, randomOrthogonal(n, Rng.fromSeed(11)));
    const top = denseEigenpairs(a, rank);
    expect(top.count).toBe(rank);
    expect(top.vectors.length).toBe(n * rank);
    for (let i = 0; i < rank; i++) expect(top.values[i]).toBeCloseTo(spectrum[i], 12);
    expect(orthonormalityError(top.vectors, n, rank)).toBeLessThan(1e-12);
    expect(reconstructionError(a, top.values, top.vectors)).toBeLessThan(1e-12);
    const all = denseEigenpairs(a);
    for (let i = rank; i < n; i++) expect(Math.abs(all.values[i])).toBeLessThan(1e-12);
  });

  it('fixes each eigenvector’s sign: largest-magnitude entry positive', () => {
    const n = 20;
    const a = matrixWithSpectrum(
      Array.from({ length: n }, (_, i) => n - i),
      randomOrthogonal(n, Rng.fromSeed(5)),
    );
    const { vectors } = denseEigenpairs(a);
    for (let j = 0; j < n; j++) {
      let best = 0;
      for (let i = 0; i < n; i++) if (Math.abs(vectors[i * n + j]) > Math.abs(vectors[best * n + j])) best = i;
      expect(vectors[best * n + j]).toBeGreaterThan(0);
    }
  });

  it('handles the empty and 1×1 matrices', () => {
    expect(denseEigenpairs({ size: 0, data: new Float64Array(0) }).values.length).toBe(0);
    const one = denseEigenpairs({ size: 1, data: Float64Array.of(-4) });
    expect(Array.from(one.values)).toEqual([-4]);
    expect(Array.from(one.vectors)).toEqual([1]);
  });

  it('rejects bad input with errors naming what was expected', () => {
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, 2, 3) })).toThrow(ShapeError);
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, 2, 3, 4) })).toThrow(/not symmetric/);
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, NaN, NaN, 1) })).toThrow(NumericalError);
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, 0, 0, 1) }, 3)).toThrow(ConfigError);
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, 0, 0, 1) }, 1.5)).toThrow(/integer in \[0, 2\]/);
  });
});
