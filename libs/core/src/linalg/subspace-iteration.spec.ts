import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../logger';
import { Rng } from '../rng';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { orthonormalizeColumns } from './cholesky-qr';
import { linalgProvider, setLinalgProvider } from './linalg-provider';
import { subspaceEigenpairs } from './subspace-iteration';
import { denseEigenpairs } from './symmetric-eigen';
import { matrixWithSpectrum, orthonormalityError, randomOrthogonal, reconstructionError, subspaceDistance } from '../testing/spectrum-matrices';
import { chooseEigenMethod, topEigenpairs } from './top-eigenpairs';

describe('subspaceEigenpairs', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const f = 200;
  const n = 24;
  // power-law spectrum with a clear gap after the top N (λ_25/λ_24 = 0.5)
  const spectrum = Array.from({ length: f }, (_, i) => (i < n ? 1 / (1 + i) : 0.5 / (1 + i)));
  const q = randomOrthogonal(f, Rng.fromSeed(21));
  const a = matrixWithSpectrum(spectrum, q);

  it('agrees with the dense solver on the top-N values and subspace', () => {
    const dense = denseEigenpairs(a, n);
    const result = subspaceEigenpairs(a, n, { seed: 1, tolerance: 1e-5 });
    expect(result.converged).toBe(true);
    expect(result.residual).toBeLessThanOrEqual(1e-5);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(result.values[i] - spectrum[i])).toBeLessThan(2e-6 * spectrum[0]);
      expect(Math.abs(result.values[i] - dense.values[i])).toBeLessThan(2e-6 * spectrum[0]);
    }
    expect(orthonormalityError(result.vectors, f, n)).toBeLessThan(1e-5);
    expect(subspaceDistance(dense.vectors, result.vectors, f, n)).toBeLessThan(1e-3);
    // each vector matches the dense one (signs are normalized the same way)
    let worst = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < f; i++) worst = Math.max(worst, Math.abs(result.vectors[i * n + j] - dense.vectors[i * n + j]));
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('reconstructs a matrix of rank N and is deterministic for a seed', () => {
    const rank = 10;
    const lowRank = matrixWithSpectrum(
      Array.from({ length: 120 }, (_, i) => (i < rank ? 5 - 0.4 * i : 0)),
      randomOrthogonal(120, Rng.fromSeed(4)),
    );
    const first = subspaceEigenpairs(lowRank, rank, { seed: Rng.fromSeed(9) });
    const second = subspaceEigenpairs(lowRank, rank, { seed: Rng.fromSeed(9) });
    expect(Array.from(second.vectors)).toEqual(Array.from(first.vectors));
    expect(reconstructionError(lowRank, first.values, first.vectors)).toBeLessThan(1e-5);
    expect(orthonormalityError(first.vectors, 120, rank)).toBeLessThan(1e-5);
  });

  it('copes with repeated eigenvalues and a rank-deficient matrix when N exceeds the rank', () => {
    const size = 150;
    const spec = Array.from({ length: size }, (_, i) => (i < 6 ? 3 : i < 12 ? 1 : 0));
    const m = matrixWithSpectrum(spec, randomOrthogonal(size, Rng.fromSeed(8)));
    const result = subspaceEigenpairs(m, 16, { seed: 2 });
    expect(result.converged).toBe(true);
    for (let i = 0; i < 16; i++) expect(Math.abs(result.values[i] - spec[i])).toBeLessThan(1e-5);
    expect(orthonormalityError(result.vectors, size, 16)).toBeLessThan(1e-5);
    expect(reconstructionError(m, result.values, result.vectors)).toBeLessThan(1e-5);
  });

  it('rejects an indefinite matrix and warns when the iteration cap stops it', () => {
    const indefinite = matrixWithSpectrum(
      Array.from({ length: 60 }, (_, i) => (i < 30 ? 1 : -2)),
      randomOrthogonal(60, Rng.fromSeed(6)),
    );
    expect(() => subspaceEigenpairs(indefinite, 4)).toThrow(/not positive semidefinite/);
    const logger = createMemoryLogger();
    const capped = subspaceEigenpairs(a, n, { seed: 1, maxIterations: 1, tolerance: 1e-9, logger });
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(1);
    expect(logger.records.some((r) => r.level === 'warn' && /before convergence/.test(r.message))).toBe(true);
  });

  it('stops at the float32 floor instead of running to the cap when the tolerance is unreachable', () => {
    const logger = createMemoryLogger();
    const result = subspaceEigenpairs(a, n, { seed: 1, tolerance: 1e-12, maxIterations: 100, logger });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBeLessThan(40);
    expect(result.residual).toBeLessThan(1e-5); // still as good as float32 allows
    expect(logger.records.some((r) => r.level === 'warn' && /stagnated/.test(r.message))).toBe(true);
  });

  it('leaks no tensor', async () => {
    await expectNoLeakedTensors(() => subspaceEigenpairs(a, 5, { seed: 3 }));
  });

  it('rejects bad options', () => {
    expect(() => subspaceEigenpairs(a, n, { tolerance: 0 })).toThrow(/tolerance must be a positive number/);
    expect(() => subspaceEigenpairs(a, n, { oversampling: -1 })).toThrow(/oversampling/);
    expect(() => subspaceEigenpairs(a, f + 1)).toThrow(/integer in \[0, 200\]/);
  });
});

describe('topEigenpairs', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('without LAPACK, chooses dense for small F or large N, subspace for the big CaffeNet conv shapes; with it, dense', () => {
    const registered = linalgProvider(); // LAPACK when the addon is built (useBackend('wasm'))
    setLinalgProvider(undefined);
    try {
      expect(chooseEigenMethod(363, 96)).toBe('dense');
      expect(chooseEigenMethod(1200, 128)).toBe('subspace');
      expect(chooseEigenMethod(2304, 384)).toBe('subspace');
      expect(chooseEigenMethod(1728, 192)).toBe('subspace');
      expect(chooseEigenMethod(9216, 4096)).toBe('dense');
    } finally {
      setLinalgProvider(registered);
    }
    if (registered !== undefined) expect(chooseEigenMethod(2304, 384)).toBe('dense');
  });

  it('runs the chosen or the requested method and rejects an unknown one', () => {
    const a = matrixWithSpectrum(
      Array.from({ length: 40 }, (_, i) => 40 - i),
      randomOrthogonal(40, Rng.fromSeed(2)),
    );
    const auto = topEigenpairs(a, 5);
    expect(auto.method).toBe('dense');
    const forced = topEigenpairs(a, 5, { method: 'subspace', seed: 4 });
    expect(forced.method).toBe('subspace');
    for (let i = 0; i < 5; i++) expect(forced.values[i]).toBeCloseTo(auto.values[i], 3);
    expect(() => topEigenpairs(a, 5, { method: 'lanczos' as never })).toThrow(/expected one of auto, dense, subspace/);
  });
});

describe('orthonormalizeColumns', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('orthonormalizes an ill-conditioned block (cond ≈ 1e5) and keeps its span', async () => {
    const m = 300;
    const b = 8;
    const rng = Rng.fromSeed(12);
    const values = new Float32Array(m * b);
    // column 0 random; columns 1.. = one shared column + 1e-4 noise: nearly dependent
    const base = Array.from({ length: m }, () => rng.normal());
    for (let i = 0; i < m; i++) {
      values[i * b] = rng.normal();
      for (let j = 1; j < b; j++) values[i * b + j] = base[i] + 1e-4 * rng.normal();
    }
    const y = tf.tensor2d(values, [m, b]);
    await expectNoLeakedTensors(() => {
      const q = orthonormalizeColumns(y);
      const qd = Float64Array.from(q.dataSync());
      q.dispose();
      expect(orthonormalityError(qd, m, b)).toBeLessThan(1e-5);
    });
    y.dispose();
    const dependent = tf.tensor2d(new Float32Array(m * 2).fill(1), [m, 2]);
    expect(() => orthonormalizeColumns(dependent)).toThrow(/linearly dependent/);
    dependent.dispose();
  });
});
