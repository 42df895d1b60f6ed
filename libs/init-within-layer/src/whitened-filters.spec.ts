import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, computeCovariance, linalgProvider, principalComponents, setLinalgProvider, whiteningScales, type LinalgProvider } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { randomFilters } from './random-filters';
import { eigenMethodFor, whitenedFilters, type WhitenedFilterOptions } from './whitened-filters';

const OPTIONS: WhitenedFilterOptions = { epsilon: 1e-3, minEigenvalue: 1e-6, kmeans: { algorithm: 'auto', maxIterations: 20, batchSize: 256 }, where: 'test' };

/** Correlated rows: x = g·A with a fixed mixing matrix (covariance AᵀA, well spread spectrum). */
function correlatedRows(n: number, f: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.add(tf.randomNormal([f, f], 0, 1, 'float32', seed), tf.mul(tf.eye(f), 3));
    return tf.add(tf.matMul(tf.randomNormal([n, f], 0, 1, 'float32', seed + 1), a), 2) as tf.Tensor2D;
  });
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('whitenedFilters', () => {
  it('pca filters decorrelate the patches: responses have covariance diag(λ_j/(λ_j + ε))', async () => {
    const x = correlatedRows(4000, 12, 1);
    const r = await whitenedFilters('pca', x, 8, Rng.fromSeed(1), OPTIONS);
    if (!r.ok) throw new Error('degenerate');
    const responses = tf.matMul(x, r.filters, false, true) as tf.Tensor2D;
    const cov = computeCovariance(responses).covariance;
    const { eigen } = principalComponents(x, 8);
    const s = whiteningScales(eigen.values);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const expected = i === j ? eigen.values[i] * s[i] * s[i] : 0;
        expect(Math.abs(cov.data[i * 8 + j] - expected)).toBeLessThan(1e-3);
      }
    }
    tf.dispose([x, r.filters, responses]);
  });

  it('pca with more filters than patch elements repeats components with the opposite sign', async () => {
    const x = correlatedRows(500, 4, 2);
    const r = await whitenedFilters('pca', x, 6, Rng.fromSeed(1), OPTIONS);
    if (!r.ok) throw new Error('degenerate');
    const f = r.filters.arraySync();
    expect(f.length).toBe(6);
    for (let j = 0; j < 4; j++) {
      expect(f[4][j]).toBeCloseTo(-f[0][j], 6);
      expect(f[5][j]).toBeCloseTo(-f[1][j], 6);
    }
    tf.dispose([x, r.filters]);
  });

  it('reports a degenerate covariance instead of returning zero filters', async () => {
    // Rank 2 data in 4 dimensions: pca needs 3 components.
    const x = tf.tidy(() => tf.matMul(tf.randomNormal([200, 2], 0, 1, 'float32', 4), tf.randomNormal([2, 4], 0, 1, 'float32', 5))) as tf.Tensor2D;
    const r = await whitenedFilters('pca', x, 3, Rng.fromSeed(1), OPTIONS);
    expect(r).toEqual({ ok: false, reason: 'degenerate', rank: 2, needed: 3 });
    const constant = tf.ones([50, 4]) as tf.Tensor2D;
    expect(await whitenedFilters('kmeans', constant, 3, Rng.fromSeed(1), OPTIONS)).toMatchObject({ ok: false, rank: 0, needed: 1 });
    tf.dispose([x, constant]);
  });
});

describe('eigenMethodFor', () => {
  it('uses subspace iteration for few components of a large covariance in JavaScript, the dense solver whenever a LAPACK provider is registered', () => {
    const previous = linalgProvider();
    try {
      setLinalgProvider(undefined);
      expect([eigenMethodFor(400, 32), eigenMethodFor(363, 96), eigenMethodFor(2400, 256)]).toEqual(['subspace', 'dense', 'subspace']);
      const lapack: LinalgProvider = {
        name: 'stand-in',
        orthonormalizeColumns: () => false,
        haarOrthonormal: () => false,
        symmetricEigenpairs: () => undefined,
        fillGaussian: () => undefined,
        kmeansPlusPlus: () => new Int32Array(0),
        nearestCentres: () => ({ labels: new Int32Array(0), distances: new Float64Array(0) }),
      };
      setLinalgProvider(lapack);
      expect([eigenMethodFor(400, 32), eigenMethodFor(363, 96), eigenMethodFor(2400, 256)]).toEqual(['dense', 'dense', 'dense']);
    } finally {
      setLinalgProvider(previous);
    }
  });
});

describe('randomFilters', () => {
  it('orthogonal rows (N ≤ F) and columns (N > F); gaussian is seeded', () => {
    const rng = Rng.fromSeed(1);
    const tall = randomFilters('orthogonal', 2, 5, 12, rng);
    const wide = randomFilters('orthogonal', 1, 12, 5, rng);
    const gram = tf.tidy(() =>
      tf.matMul(tf.squeeze(tf.slice(tall, [1, 0, 0], [1, -1, -1]), [0]), tf.squeeze(tf.slice(tall, [1, 0, 0], [1, -1, -1]), [0]), false, true),
    );
    const gramWide = tf.tidy(() => tf.matMul(tf.squeeze(wide, [0]), tf.squeeze(wide, [0]), true, false));
    for (const [g, n] of [
      [gram, 5],
      [gramWide, 5],
    ] as const) {
      const d = g.arraySync() as number[][];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(d[i][j] - (i === j ? 1 : 0))).toBeLessThan(1e-4);
    }
    const a = randomFilters('gaussian', 1, 3, 4, Rng.fromSeed(9));
    const b = randomFilters('gaussian', 1, 3, 4, Rng.fromSeed(9));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([tall, wide, gram, gramWide, a, b]);
  });
});
