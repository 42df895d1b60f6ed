import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choleskyQrOrthonormalize, orthonormalDraw, orthonormalizeColumns } from '../linalg/cholesky-qr';
import { linalgProvider, setLinalgProvider } from '../linalg/linalg-provider';
import { fillGaussian, javascriptGaussian } from '../linalg/gaussian-matrix';
import { kmeans } from '../linalg/kmeans';
import { seedKMeansPlusPlus } from '../linalg/kmeans-plus-plus';
import { findNearestCentres, rowSquaredNorms } from '../linalg/nearest-centres';
import { denseEigenpairs, javascriptEigenpairs } from '../linalg/symmetric-eigen';
import { topEigenpairs } from '../linalg/top-eigenpairs';
import { Rng } from '../rng';
import { expectNoLeakedTensors } from '../testing';
import { LAPACK_PROVIDER_NAME } from './lapack-provider';
import { selectBackend } from './select-backend';
import { nativeBlasForSpecs } from '../testing/backend-comparison';

const native = nativeBlasForSpecs();

/** max |QᵀQ − I| (float64). */
function orthonormalityError(q: ArrayLike<number>, rows: number, cols: number): number {
  let worst = 0;
  for (let a = 0; a < cols; a++)
    for (let b = a; b < cols; b++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += q[i * cols + a] * q[i * cols + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  return worst;
}

/** A random symmetric positive semidefinite n×n matrix XᵀX/k with a spread spectrum, float64. */
function covarianceLike(n: number, k: number, seed: number): Float64Array {
  const rng = Rng.fromSeed(seed);
  const x = Float64Array.from({ length: k * n }, (_, i) => rng.normal() * (1 + (i % n) / 4));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += x[r * n + i] * x[r * n + j];
      a[i * n + j] = a[j * n + i] = s / k;
    }
  return a;
}

describe.skipIf(native === undefined)('LAPACK behind @ddinit/core (native BLAS addon built)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });
  afterAll(() => setLinalgProvider(undefined));

  it('selectBackend registers it with the addon and says so, and removes it without', async () => {
    const on = await selectBackend('wasm');
    expect(on.nativeBlas).toMatchObject({ active: true, lapack: LAPACK_PROVIDER_NAME });
    expect(linalgProvider()?.name).toBe(LAPACK_PROVIDER_NAME);
    await selectBackend('wasm', { nativeBlas: false });
    expect(linalgProvider()).toBeUndefined();
    await selectBackend('wasm');
    expect(linalgProvider()?.name).toBe(LAPACK_PROVIDER_NAME);
  });

  it('orthonormalizeColumns: the Q of CholeskyQR up to rounding, orthonormal, reconstructing y, no tensor left', async () => {
    // Tall and square, the latter like CaffeNet fc7's draw (square Gaussian: cond ≈ n).
    for (const [rows, cols, seed] of [
      [500, 120, 1],
      [300, 300, 2],
    ]) {
      const y = tf.randomNormal([rows, cols], 0, 1, 'float32', seed) as tf.Tensor2D;
      await expectNoLeakedTensors(() => {
        const q = orthonormalizeColumns(y);
        const reference = choleskyQrOrthonormalize(y);
        const qd = q.dataSync();
        expect(orthonormalityError(qd, rows, cols)).toBeLessThan(1e-5);
        // R = QᵀY is upper triangular with a positive diagonal, and Q·R = Y.
        const [below, diagonal, reconstruction] = tf.tidy(() => {
          const r = tf.matMul(q, y, true, false);
          const lower = tf.sub(r, tf.linalg.bandPart(r, 0, -1));
          const error = tf.div(tf.max(tf.abs(tf.sub(tf.matMul(q, r), y))), tf.max(tf.abs(y)));
          return [
            tf.max(tf.abs(lower)).dataSync()[0] / tf.max(tf.abs(r)).dataSync()[0],
            tf.min(tf.sum(tf.mul(r, tf.eye(cols)), 1)).dataSync()[0],
            error.dataSync()[0],
          ];
        });
        expect(below).toBeLessThan(1e-5);
        expect(diagonal).toBeGreaterThan(0);
        expect(reconstruction).toBeLessThan(1e-5);
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(q, reference))).dataSync()[0])).toBeLessThan(cols === rows ? 5e-3 : 1e-4);
        tf.dispose([q, reference]);
      });
      y.dispose();
    }
  });

  it('orthonormalizeColumns is deterministic: the same draw gives bit-identical weights', () => {
    const y = tf.randomNormal([400, 100], 0, 1, 'float32', 11) as tf.Tensor2D;
    const [a, b] = [orthonormalizeColumns(y), orthonormalizeColumns(y)];
    expect(a.dataSync()).toEqual(b.dataSync());
    tf.dispose([y, a, b]);
  });

  it('orthonormalDraw (the Haar draw on LAPACK): orthonormal ‖QQᵀ − I‖ ≤ 3e-6 tall, square and wide, bit-identical for a seed, no tensor left', async () => {
    for (const [rows, cols] of [
      [600, 200],
      [300, 300],
      [150, 700],
    ]) {
      await expectNoLeakedTensors(() => {
        const [a, b] = [orthonormalDraw(rows, cols, 21), orthonormalDraw(rows, cols, 21)];
        const data = a.dataSync();
        const transposed = rows < cols ? tf.tidy(() => tf.transpose(a).dataSync()) : data;
        expect(orthonormalityError(transposed, Math.max(rows, cols), Math.min(rows, cols))).toBeLessThan(3e-6);
        expect(b.dataSync()).toEqual(data);
        tf.dispose([a, b]);
      });
    }
  });

  it('fillGaussian on the addon: the JavaScript reference’s values, value for value, tails and wedges included (4 seeds × 10⁶)', () => {
    for (const seed of [1, 2, 3, 4]) {
      const native = fillGaussian(new Float32Array(1_000_000), Rng.fromSeed(seed));
      const rng = Rng.fromSeed(seed);
      const state = Int32Array.from({ length: 4 }, () => rng.nextUint32() | 0);
      const reference = javascriptGaussian(new Float32Array(1_000_000), state);
      let [mismatches, tails] = [0, 0];
      for (let i = 0; i < native.length; i++) {
        if (native[i] !== reference[i]) mismatches++;
        if (Math.abs(reference[i]) > 3.442619855899) tails++; // drawn by the tail path's logarithms
      }
      expect(mismatches).toBe(0);
      expect(tails).toBeGreaterThan(300); // P(|z| > R) ≈ 5.8e-4: the slow paths ran
    }
  });

  /** With the provider and then without it (the JavaScript route), the provider restored. */
  async function bothRoutes<T>(fn: () => Promise<T>): Promise<[T, T]> {
    const provider = linalgProvider();
    const onAddon = await fn();
    setLinalgProvider(undefined);
    try {
      return [onAddon, await fn()];
    } finally {
      setLinalgProvider(provider);
    }
  }

  /** m rows of d around `clusters` well-separated centres. */
  function clustered(m: number, d: number, clusters: number, seed: number): Float32Array {
    const rng = Rng.fromSeed(seed);
    const centres = Float64Array.from({ length: clusters * d }, () => 10 * rng.normal());
    return Float32Array.from({ length: m * d }, (_, k) => centres[(Math.floor(k / d) % clusters) * d + (k % d)] + rng.normal());
  }

  it('k-means++ seeding on the addon: the JavaScript route’s seeds (Gram and per-step routes) from the same draws', async () => {
    const [m, d, k] = [600, 24, 40];
    const data = clustered(m, d, 12, 31);
    const norms = rowSquaredNorms(data, m, d);
    for (const gramLimit of [1 << 26, 0]) {
      const [onAddon, reference] = await bothRoutes(() => seedKMeansPlusPlus(data, norms, m, d, k, Rng.fromSeed(5), undefined, gramLimit));
      expect(Array.from(onAddon)).toEqual(Array.from(reference));
      expect(new Set(onAddon).size).toBe(k);
    }
    // Every row the same: after the first seed the potential is 0 and both draw ⌊u·m⌋.
    const same = new Float32Array(50 * 4).fill(1);
    const sameNorms = rowSquaredNorms(same, 50, 4);
    const [a, b] = await bothRoutes(() => seedKMeansPlusPlus(same, sameNorms, 50, 4, 6, Rng.fromSeed(9)));
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('nearest centres on the addon: the JavaScript route’s labels, distances to float32 rounding; a whole k-means run agrees', async () => {
    const [n, d, k] = [5000, 16, 9]; // n > 4096: two chunks in C
    const data = clustered(n, d, k, 8);
    const norms = rowSquaredNorms(data, n, d);
    const centres = data.slice(0, k * d);
    const [onAddon, reference] = await bothRoutes(() => findNearestCentres(data, n, d, norms, centres, k, 8192));
    expect(Array.from(onAddon.labels)).toEqual(Array.from(reference.labels));
    onAddon.distances.forEach((v, i) => expect(Math.abs(v - reference.distances[i])).toBeLessThan(1e-4 * (1 + reference.distances[i])));
    const x = tf.tensor2d(data, [n, d]);
    const [a, b] = await bothRoutes(() => kmeans(x, k, { seed: Rng.fromSeed(2), algorithm: 'lloyd' }));
    expect(a.iterations).toBe(b.iterations);
    expect(Math.abs(a.inertia / b.inertia - 1)).toBeLessThan(1e-6);
    tf.dispose([x, a.centres, b.centres]);
  });

  it('orthonormalizeColumns still rejects dependent columns and NaN, naming where', () => {
    const dependent = tf.ones([50, 3]) as tf.Tensor2D;
    expect(() => orthonormalizeColumns(dependent, 'layer fc6')).toThrow(/^layer fc6: columns are numerically linearly dependent/);
    const values = new Float32Array(60 * 4).map((_, i) => Math.sin(i));
    values[17] = Number.NaN;
    const broken = tf.tensor2d(values, [60, 4]);
    expect(() => orthonormalizeColumns(broken)).toThrow(/linearly dependent/);
    tf.dispose([dependent, broken]);
  });

  it('denseEigenpairs: the reference pairs to float32 accuracy (values, residual ‖AV − VΛ‖, each vector within ε₃₂·‖A‖/gap), descending, same signs', () => {
    const n = 150;
    const data = covarianceLike(n, 400, 3);
    const all = javascriptEigenpairs({ size: n, data }, n).values;
    const scale = all[0];
    for (const count of [n, 40]) {
      const got = denseEigenpairs({ size: n, data }, count);
      const reference = javascriptEigenpairs({ size: n, data }, count);
      for (let j = 0; j < count; j++) expect(Math.abs(got.values[j] - reference.values[j])).toBeLessThan(2e-6 * scale);
      for (let j = 1; j < count; j++) expect(got.values[j]).toBeLessThanOrEqual(got.values[j - 1]);
      for (let j = 0; j < count; j++) {
        const gap = Math.min(j > 0 ? all[j - 1] - all[j] : Infinity, j < n - 1 ? all[j] - all[j + 1] : Infinity);
        let diff = 0;
        for (let i = 0; i < n; i++) diff = Math.max(diff, Math.abs(got.vectors[i * count + j] - reference.vectors[i * count + j]));
        expect(diff).toBeLessThan(Math.min(1, (2e-6 * scale) / gap));
      }
      let residual = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < count; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += data[i * n + k] * got.vectors[k * count + j];
          residual = Math.max(residual, Math.abs(s - got.values[j] * got.vectors[i * count + j]));
        }
      expect(residual).toBeLessThan(2e-6 * scale);
      expect(orthonormalityError(got.vectors, n, count)).toBeLessThan(2e-6);
    }
    expect(topEigenpairs({ size: n, data }, 10).method).toBe('dense'); // auto: LAPACK's dense beats subspace iteration
  });
});
