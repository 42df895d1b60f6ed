import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { expectNoLeakedTensors, relativeError, useBackend } from '../testing';
import { computeCovariance, createCovarianceAccumulator } from './covariance';

/** Reference mean and covariance in float64 (two-pass). */
function referenceCovariance(values: Float32Array, n: number, f: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(f);
  for (let r = 0; r < n; r++) for (let i = 0; i < f; i++) mean[i] += values[r * f + i];
  for (let i = 0; i < f; i++) mean[i] /= n;
  const cov = new Float64Array(f * f);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < f; i++) {
      const a = values[r * f + i] - mean[i];
      for (let j = 0; j < f; j++) cov[i * f + j] += a * (values[r * f + j] - mean[j]);
    }
  }
  for (let i = 0; i < f * f; i++) cov[i] /= n;
  return { mean, cov };
}

function randomRows(n: number, f: number, seed: number, offset = 0): Float32Array {
  const rng = Rng.fromSeed(seed);
  const out = new Float32Array(n * f);
  // correlated columns: x_i = z_i + 0.5 z_{i-1}, plus a per-column offset
  for (let r = 0; r < n; r++) {
    let previous = 0;
    for (let i = 0; i < f; i++) {
      const z = rng.normal();
      out[r * f + i] = offset + i + z + 0.5 * previous;
      previous = z;
    }
  }
  return out;
}

describe('computeCovariance', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('matches a float64 two-pass reference, whatever the block size', () => {
    const n = 1000;
    const f = 12;
    const values = randomRows(n, f, 1);
    const ref = referenceCovariance(values, n, f);
    const x = tf.tensor2d(values, [n, f]);
    for (const blockRows of [1000, 257, 64, 7]) {
      const result = computeCovariance(x, { blockRows });
      expect(result.count).toBe(n);
      expect(relativeError(result.mean, ref.mean)).toBeLessThan(1e-6);
      expect(relativeError(result.covariance.data, ref.cov)).toBeLessThan(2e-6);
      // exactly symmetric
      for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) expect(result.covariance.data[i * f + j]).toBe(result.covariance.data[j * f + i]);
    }
    x.dispose();
  });

  it('keeps float32-level accuracy when the mean dwarfs the spread (offset 1e4)', () => {
    const n = 4000;
    const f = 6;
    const values = randomRows(n, f, 2, 1e4);
    const ref = referenceCovariance(values, n, f);
    const x = tf.tensor2d(values, [n, f]);
    const result = computeCovariance(x, { blockRows: 500 });
    x.dispose();
    // the spread is O(1): naive float32 Σxxᵀ/n − μμᵀ would lose every digit here
    expect(relativeError(result.covariance.data, ref.cov)).toBeLessThan(1e-5);
    expect(result.covariance.data[0]).toBeGreaterThan(0.9);
  });

  it('streams blocks through an accumulator with the same result as one call', () => {
    const n = 900;
    const f = 10;
    const values = randomRows(n, f, 3);
    const whole = tf.tensor2d(values, [n, f]);
    const expected = computeCovariance(whole);
    whole.dispose();
    const accumulator = createCovarianceAccumulator(f, { blockRows: 128 });
    for (const [start, rows] of [
      [0, 100],
      [100, 1],
      [101, 499],
      [600, 300],
    ]) {
      const block = tf.tensor2d(values.subarray(start * f, (start + rows) * f), [rows, f]);
      accumulator.add(block);
      block.dispose();
    }
    expect(accumulator.count).toBe(n);
    const streamed = accumulator.finish();
    expect(relativeError(streamed.mean, expected.mean)).toBeLessThan(1e-6);
    expect(relativeError(streamed.covariance.data, expected.covariance.data)).toBeLessThan(1e-5);
  });

  it('gives the known covariance of a two-point sample', () => {
    const x = tf.tensor2d([1, 2, 3, 6], [2, 2]);
    const { mean, covariance } = computeCovariance(x);
    x.dispose();
    expect(Array.from(mean)).toEqual([2, 4]);
    expect(Array.from(covariance.data)).toEqual([1, 2, 2, 4]);
  });

  it('leaks no tensor and does not dispose its input', async () => {
    const x = tf.tensor2d(randomRows(300, 5, 4), [300, 5]);
    await expectNoLeakedTensors(() => {
      computeCovariance(x, { blockRows: 64 });
      const acc = createCovarianceAccumulator(5);
      acc.add(x);
      acc.finish();
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('rejects wrong shapes, non-finite rows, empty input and bad options', () => {
    const acc = createCovarianceAccumulator(3, { where: 'layer conv1 patches' });
    const wrong = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => acc.add(wrong)).toThrow(/layer conv1 patches: row block has the wrong shape \(expected \[rows, 3\], got \[4,2\]\)/);
    wrong.dispose();
    const bad = tf.tensor2d([1, NaN, 3], [1, 3]);
    expect(() => acc.add(bad)).toThrow(/NaN or Inf/);
    bad.dispose();
    expect(() => acc.finish()).toThrow(/no rows/);
    expect(() => createCovarianceAccumulator(0)).toThrow(/positive integer/);
    expect(() => createCovarianceAccumulator(3, { blockRows: 0 })).toThrow(/blockRows/);
  });
});
