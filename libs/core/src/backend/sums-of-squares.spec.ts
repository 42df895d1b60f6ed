import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { expectNoLeaks, nativeBlasForSpecs, normalData } from '../testing/backend-comparison';
import { sumsOfSquares } from './sums-of-squares';

describe('sumsOfSquares', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  const SHAPES = [[5, 5, 16, 32], [32], [7], [1], [3, 3], [0, 4]];

  it('is Σ x² of each tensor, in order, within float32 rounding, leaving nothing behind', async () => {
    const data = SHAPES.map((shape, i) => normalData(shape, i + 1));
    const expected = data.map((d) => d.reduce((s, v) => s + v * v, 0));
    const tensors = data.map((d, i) => tf.tensor(d, SHAPES[i]));
    const actual = sumsOfSquares(tensors);
    expect(actual).toHaveLength(SHAPES.length);
    actual?.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, expected[i])));
    await expectNoLeaks(() => sumsOfSquares(tensors));
    tf.dispose(tensors);
    expect(sumsOfSquares([])).toEqual(new Float32Array(0));
  });

  it('refuses a tensor that is not float32, naming the dtype', () => {
    const t = tf.tensor1d([1, 2], 'int32');
    expect(() => sumsOfSquares([t])).toThrow('wasm kernel DdinitSumsOfSquares: sums of squares are taken of float32 tensors (expected float32, got int32)');
    t.dispose();
  });

  it('is undefined on a backend without the kernel (the caller keeps its own ops)', async () => {
    await tf.setBackend('cpu');
    try {
      expect(sumsOfSquares([tf.tensor1d([1, 2])])).toBeUndefined();
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

describe.skipIf(nativeBlasForSpecs() === undefined)('sumsOfSquares with the native addon', () => {
  it('gives the JavaScript loop’s sums bit for bit (the tail of every length mod 4 included)', async () => {
    const shapes = [[5, 5, 16, 32], [33], [7], [1], [6, 1], [2, 2, 3]];
    const data = shapes.map((shape, i) => normalData(shape, 40 + i).map((v, k) => v * (1 + (k % 5))));
    const sums = async (nativeBlas: boolean): Promise<Float32Array | undefined> => {
      await useBackend('wasm', { nativeBlas });
      const tensors = data.map((d, i) => tf.tensor(d, shapes[i]));
      try {
        return sumsOfSquares(tensors);
      } finally {
        tf.dispose(tensors);
      }
    };
    const javascript = await sums(false);
    expect(Array.from((await sums(true)) ?? [])).toEqual(Array.from(javascript ?? [0]));
  });
});
