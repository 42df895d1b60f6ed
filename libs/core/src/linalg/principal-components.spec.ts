import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { principalComponents } from './principal-components';
import { orthonormalityError, subspaceDistance } from '../testing/spectrum-matrices';

function lowRankRows(n: number, f: number, rank: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  const basis = Array.from({ length: rank }, () => Array.from({ length: f }, () => rng.normal()));
  const out = new Float32Array(n * f);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < rank; k++) {
      const z = rng.normal() * (rank - k);
      for (let i = 0; i < f; i++) out[r * f + i] += z * basis[k][i];
    }
    for (let i = 0; i < f; i++) out[r * f + i] += 0.01 * rng.normal() + 2;
  }
  return out;
}

describe('principalComponents', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('the Gram route (n < F) matches the covariance route', () => {
    const n = 40;
    const f = 120;
    const x = tf.tensor2d(lowRankRows(n, f, 6, 1), [n, f]);
    const viaGram = principalComponents(x, 10);
    const viaCov = principalComponents(x, 10, { route: 'covariance' });
    x.dispose();
    expect(viaGram.route).toBe('gram');
    expect(viaCov.route).toBe('covariance');
    for (let j = 0; j < 10; j++) {
      expect(Math.abs(viaGram.eigen.values[j] - viaCov.eigen.values[j])).toBeLessThan(1e-5 * viaCov.eigen.values[0]);
    }
    for (let i = 0; i < f; i++) expect(viaGram.mean[i]).toBeCloseTo(viaCov.mean[i], 5);
    expect(orthonormalityError(viaGram.eigen.vectors, f, 10)).toBeLessThan(2e-6); // float32: one QR of the mapped vectors
    // the dominant 6-dimensional subspace agrees
    const top = (v: Float64Array) => {
      const out = new Float64Array(f * 6);
      for (let i = 0; i < f; i++) for (let j = 0; j < 6; j++) out[i * 6 + j] = v[i * 10 + j];
      return out;
    };
    expect(subspaceDistance(top(viaCov.eigen.vectors), top(viaGram.eigen.vectors), f, 6)).toBeLessThan(1e-3);
  });

  it('completes an orthonormal basis beyond the rank of the centred rows', () => {
    const n = 5;
    const f = 30;
    const x = tf.tensor2d(lowRankRows(n, f, 3, 2), [n, f]);
    const pcs = principalComponents(x, 8);
    x.dispose();
    // centred data of 5 rows has rank ≤ 4: the last 4 eigenvalues are 0
    for (let j = 4; j < 8; j++) expect(pcs.eigen.values[j]).toBe(0);
    expect(pcs.eigen.values[3]).toBeGreaterThan(0);
    expect(orthonormalityError(pcs.eigen.vectors, f, 8)).toBeLessThan(2e-6);
  });

  it('leaks no tensor and rejects bad input', async () => {
    const x = tf.tensor2d(lowRankRows(20, 10, 3, 3), [20, 10]);
    await expectNoLeakedTensors(() => {
      principalComponents(x, 4);
      principalComponents(x, 4, { route: 'gram' });
    });
    expect(() => principalComponents(x, 11)).toThrow(/integer in \[0, 10\]/);
    expect(() => principalComponents(x, 2, { route: 'svd' as never })).toThrow(/expected one of auto, covariance, gram/);
    x.dispose();
  });
});
