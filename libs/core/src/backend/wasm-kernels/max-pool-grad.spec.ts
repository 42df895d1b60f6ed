import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, nativeBlasForSpecs, normalData, runOnBackend } from '../../testing/backend-comparison';

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
}

const CASES: Case[] = [
  { name: '3×3 stride 2 valid (CaffeNet), batch 1', x: [1, 13, 13, 5], filter: 3, strides: 2, pad: 'valid' },
  { name: '2×2 stride 2 valid (VGG)', x: [3, 8, 8, 4], filter: 2, strides: 2, pad: 'valid' },
  { name: '3×3 stride 1 same', x: [2, 6, 7, 3], filter: 3, strides: 1, pad: 'same' },
  { name: '3×2 strides [2,1] same, odd sizes', x: [2, 9, 7, 6], filter: [3, 2], strides: [2, 1], pad: 'same' },
  { name: 'numeric padding 1', x: [2, 7, 7, 2], filter: 3, strides: 2, pad: 1 },
];

/** Gradient of Σ w·maxPool(relu(x)) with respect to x; relu and rounding make ties, which must break alike. */
function poolGradient(c: Case, x: Float32Array, w: Float32Array, roundInputs: boolean): tf.Tensor {
  return tf.grad((xs: tf.Tensor) => {
    const pooled = tf.maxPool(tf.relu(xs) as tf.Tensor4D, c.filter, c.strides, c.pad);
    return tf.sum(tf.mul(pooled, tf.tensor(w, pooled.shape)));
  })(roundInputs ? tf.round(tf.tensor(x, c.x)) : tf.tensor(x, c.x));
}

function outShape(c: Case): number[] {
  return tf.backend_util.computePool2DInfo(c.x, c.filter, c.strides, 1, c.pad).outShape;
}

const native = nativeBlasForSpecs();

describe.each([
  { kernels: 'portable (JS)', nativeBlas: false, skip: false },
  { kernels: 'native (C)', nativeBlas: true, skip: native === undefined },
])('MaxPoolGrad on wasm, $kernels', ({ nativeBlas, skip }) => {
  beforeAll(async () => {
    if (!skip) expect((await useBackend('wasm', { nativeBlas })).nativeBlas?.active).toBe(nativeBlas);
  });

  it.skipIf(skip).each(CASES)('matches the cpu backend, ties included: $name', async (c) => {
    const x = normalData(c.x, 1);
    const w = normalData(outShape(c), 2);
    for (const roundInputs of [false, true]) {
      const [expected] = await runOnBackend('cpu', () => poolGradient(c, x, w, roundInputs));
      const [actual] = await runOnBackend('wasm', () => poolGradient(c, x, w, roundInputs));
      expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-6);
    }
  });

  it.skipIf(skip)('frees every intermediate', async () => {
    const c = CASES[3];
    const x = normalData(c.x, 3);
    const w = normalData(outShape(c), 4);
    await expectNoLeaks(() => tf.tidy(() => poolGradient(c, x, w, true).dataSync()));
  });

  it.skipIf(skip)('rejects a dy of the wrong shape, naming both shapes', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 13, 13, 5]);
      const run = () =>
        tf.engine().runKernel(
          tf.MaxPoolGrad,
          { dy: tf.zeros([1, 5, 6, 5]), input: x, output: tf.zeros([1, 6, 6, 5]) },
          {
            filterSize: 3,
            strides: 2,
            pad: 'valid',
          },
        );
      expect(run).toThrow(/dy shape does not match the convolution \(expected \[1,6,6,5\], got \[1,5,6,5\]\)/);
    });
  });
});
