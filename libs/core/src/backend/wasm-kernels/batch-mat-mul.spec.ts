import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

// Shapes chosen so that each rewrite of the kernel is taken at least once.
const CASES: Case[] = [
  { name: 'plain product', a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { name: 'A·Bᵀ, B transposed (dense dx with a small kernel)', a: [40, 9], b: [6, 9], transposeA: false, transposeB: true },
  { name: 'A·Bᵀ as (B·Aᵀ)ᵀ (dense dx at small batch)', a: [3, 50], b: [60, 50], transposeA: false, transposeB: true },
  { name: 'Aᵀ·B (dense dW)', a: [4, 33], b: [4, 21], transposeA: true, transposeB: false },
  { name: 'Aᵀ·Bᵀ as (B·A)ᵀ', a: [12, 5], b: [4, 12], transposeA: true, transposeB: true },
  { name: 'Aᵀ·Bᵀ with both transposed', a: [30, 40], b: [45, 30], transposeA: true, transposeB: true },
  { name: 'rank 3, batch 1, odd sizes', a: [1, 17, 13], b: [1, 11, 13], transposeA: false, transposeB: true },
  { name: 'batched (left to the wasm kernel)', a: [3, 6, 5], b: [3, 4, 5], transposeA: false, transposeB: true },
  { name: 'broadcast batch (left to the wasm kernel)', a: [2, 5, 6], b: [1, 5, 4], transposeA: true, transposeB: false },
];

function product(c: Case, a: Float32Array, b: Float32Array): tf.Tensor {
  return tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), c.transposeA, c.transposeB);
}

describe('BatchMatMul on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false }); // the portable kernels (native-kernels.spec.ts covers the addon)
  });

  it.each(CASES)('matches the cpu backend: $name', async (c) => {
    const a = normalData(c.a, 1);
    const b = normalData(c.b, 2);
    const [expected] = await runOnBackend('cpu', () => product(c, a, b));
    const [actual, shape] = await runOnBackend('wasm', () => {
      const out = product(c, a, b);
      return [out, tf.tensor(out.shape)];
    });
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    const [cpuShape] = await runOnBackend('cpu', () => tf.tensor(product(c, a, b).shape));
    expect(Array.from(shape)).toEqual(Array.from(cpuShape));
  });

  it('gives dense-layer gradients like the cpu backend', async () => {
    const x = normalData([4, 30], 3);
    const w = normalData([30, 20], 4);
    const grads = () =>
      tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.square(tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D))))([
        tf.tensor2d(x, [4, 30]),
        tf.tensor2d(w, [30, 20]),
      ]);
    const expected = await runOnBackend('cpu', grads);
    const actual = await runOnBackend('wasm', grads);
    for (let i = 0; i < 2; i++) expect(relativeError(actual[i], expected[i])).toBeLessThanOrEqual(1e-5);
  });

  it('frees every intermediate', async () => {
    for (const c of CASES) {
      const a = normalData(c.a, 5);
      const b = normalData(c.b, 6);
      await expectNoLeaks(() => tf.tidy(() => product(c, a, b).dataSync()));
    }
  });

  it('rejects mismatched inner dimensions, naming both shapes', () => {
    tf.tidy(() => {
      const run = () =>
        tf.engine().runKernel(
          tf.BatchMatMul,
          { a: tf.zeros([1, 3, 4]), b: tf.zeros([1, 5, 4]) },
          {
            transposeA: true,
            transposeB: true,
          },
        );
      expect(run).toThrow(/inner dimensions of matMul do not match .*got a \[1,3,4\], b \[1,5,4\]/);
    });
  });
});
