import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { expectNoLeakedTensors, relativeError, useBackend } from '../testing';
import { computeCovariance } from './covariance';
import { denseEigenpairs, type Eigenpairs } from './symmetric-eigen';
import { pcaFilters, projectWhitened, whitenedToFilters, whiteningScales, zcaFilters } from './whitening';

/** Correlated rows with a spread of variances (n × f). */
function correlatedRows(n: number, f: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  const out = new Float32Array(n * f);
  for (let r = 0; r < n; r++) {
    let previous = 0;
    for (let i = 0; i < f; i++) {
      const z = rng.normal() * (1 + i);
      out[r * f + i] = 3 + z + 0.8 * previous;
      previous = z;
    }
  }
  return out;
}

describe('whitening', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('computes s_j = (λ_j + ε)^(−1/2) and zeroes λ_j below the threshold', () => {
    const s = whiteningScales(Float64Array.of(1, 0.25, 1e-6, 9.99e-7, -1e-9));
    expect(s[0]).toBeCloseTo(1 / Math.sqrt(1.001), 15);
    expect(s[1]).toBeCloseTo(1 / Math.sqrt(0.251), 15);
    expect(s[2]).toBeCloseTo(1 / Math.sqrt(1e-6 + 1e-3), 12);
    expect(s[3]).toBe(0);
    expect(s[4]).toBe(0);
    const custom = whiteningScales([4, 0.5], { epsilon: 0, minEigenvalue: 1 });
    expect(Array.from(custom)).toEqual([0.5, 0]);
    expect(() => whiteningScales([1], { epsilon: -1 })).toThrow(/epsilon must be a finite number ≥ 0/);
    expect(() => whiteningScales([1], { epsilon: 0, minEigenvalue: 0 })).toThrow(/cannot both be 0/);
  });

  it('PCA projection whitens: the covariance of Y = (X − μ)VS is diag(λ/(λ + ε))', () => {
    const n = 3000;
    const f = 8;
    const x = tf.tensor2d(correlatedRows(n, f, 1), [n, f]);
    const cov = computeCovariance(x);
    const eigen = denseEigenpairs(cov.covariance, 5);
    const y = projectWhitened(x, eigen, { mean: cov.mean });
    expect(y.shape).toEqual([n, 5]);
    const cy = computeCovariance(y);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        const expected = i === j ? eigen.values[i] / (eigen.values[i] + 1e-3) : 0;
        expect(Math.abs(cy.covariance.data[i * 5 + j] - expected)).toBeLessThan(1e-4);
      }
      expect(Math.abs(cy.mean[i])).toBeLessThan(1e-4);
    }
    // the PCA filters applied to the centred rows give the same Y
    const filters = pcaFilters(eigen);
    expect(filters.shape).toEqual([5, f]);
    const viaFilters = tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(Float32Array.from(cov.mean))), filters, false, true));
    expect(relativeError(viaFilters.dataSync(), y.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, y, filters, viaFilters]);
  });

  it('ZCA filters V·S·Vᵀ are symmetric and whiten every direction; N < F is rejected', () => {
    const n = 3000;
    const f = 6;
    const x = tf.tensor2d(correlatedRows(n, f, 2), [n, f]);
    const cov = computeCovariance(x);
    const eigen = denseEigenpairs(cov.covariance);
    const zca = zcaFilters(eigen, { epsilon: 1e-6 });
    const w = zca.dataSync();
    for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) expect(w[i * f + j]).toBeCloseTo(w[j * f + i], 5);
    const white = tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(Float32Array.from(cov.mean))), zca)) as tf.Tensor2D;
    const cw = computeCovariance(white);
    for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) expect(Math.abs(cw.covariance.data[i * f + j] - (i === j ? 1 : 0))).toBeLessThan(1e-3);
    expect(() => zcaFilters(denseEigenpairs(cov.covariance, 3))).toThrow(/ZCA needs every eigenpair \(N = F\) \(expected 6 eigenpairs, got 3\)/);
    tf.dispose([x, zca, white]);
  });

  it('maps whitened rows back to filters C·S·Vᵀ (identity rows give the PCA filters)', () => {
    const eigen: Eigenpairs = { size: 3, count: 2, values: Float64Array.of(4, 1), vectors: Float64Array.of(1, 0, 0, 1, 0, 0) };
    const rows = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
    const filters = whitenedToFilters(rows, eigen, { epsilon: 0 });
    expect(Array.from(filters.dataSync())).toEqual([0.5, 0, 0, 0, 1, 0, 0.5, 1, 0]);
    const pca = pcaFilters(eigen, { epsilon: 0 });
    expect(Array.from(pca.dataSync())).toEqual([0.5, 0, 0, 0, 1, 0]);
    expect(() => whitenedToFilters(tf.zeros([2, 3]) as tf.Tensor2D, eigen)).toThrow(/expected \[k, 2\], got \[2,3\]/);
    tf.dispose([rows, filters, pca]);
  });

  it('leaks no tensor and leaves its inputs alive', async () => {
    const eigen: Eigenpairs = { size: 2, count: 2, values: Float64Array.of(2, 1), vectors: Float64Array.of(1, 0, 0, 1) };
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    await expectNoLeakedTensors(() => {
      tf.dispose([pcaFilters(eigen), zcaFilters(eigen), projectWhitened(x, eigen, { mean: [1, 1] }), whitenedToFilters(x, eigen)]);
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});
