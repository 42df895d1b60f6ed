import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { dot, expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';
import { CONV_CASES, convOutputShape as outputShape, type ConvCase as Case } from '../../testing/conv-cases';
import { chunkBudget } from './image-chunks';

function backpropFilter(c: Case, x: Float32Array, dy: Float32Array): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: tf.tensor(x, c.x), dy: tf.tensor(dy, outputShape(c)) }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    filterShape: c.filter,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('Conv2DBackpropFilter on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false }); // the portable kernels (native-kernels.spec.ts covers the addon)
  });
  afterEach(() => {
    chunkBudget.maxElements = 1 << 24;
  });

  it.each(CONV_CASES)('matches the cpu backend: $name', async (c) => {
    const x = normalData(c.x, 1);
    const dy = normalData(outputShape(c), 2);
    const [expected] = await runOnBackend('cpu', () => backpropFilter(c, x, dy));
    const [actual] = await runOnBackend('wasm', () => backpropFilter(c, x, dy));
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('is the adjoint of conv2d: <dy, conv2d(x, w)> = <dW, w>', async () => {
    const c = CONV_CASES[2];
    const x = normalData(c.x, 3);
    const w = normalData(c.filter, 4);
    const dy = normalData(outputShape(c), 5);
    const [y, dW] = await runOnBackend('wasm', () => [
      tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad as 'same'),
      backpropFilter(c, x, dy),
    ]);
    expect(Math.abs(dot(dy, y) - dot(dW, w)) / Math.abs(dot(dy, y))).toBeLessThan(1e-4);
  });

  it('sums over image chunks when im2col would exceed its memory budget', async () => {
    const c = CONV_CASES[1];
    const x = normalData(c.x, 6);
    const dy = normalData(outputShape(c), 7);
    const [whole] = await runOnBackend('wasm', () => backpropFilter(c, x, dy));
    chunkBudget.maxElements = 1; // one image per chunk
    const [chunked] = await runOnBackend('wasm', () => backpropFilter(c, x, dy));
    expect(relativeError(chunked, whole)).toBeLessThanOrEqual(1e-6);
  });

  it('frees every intermediate, also when chunking', async () => {
    const c = CONV_CASES[6];
    const x = normalData(c.x, 8);
    const dy = normalData(outputShape(c), 9);
    await expectNoLeaks(() => tf.tidy(() => backpropFilter(c, x, dy).dataSync()));
    chunkBudget.maxElements = 1;
    await expectNoLeaks(() => tf.tidy(() => backpropFilter(c, x, dy).dataSync()));
  });

  it('rejects NCHW data and a dy of the wrong shape, naming both', () => {
    const c = CONV_CASES[0];
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: c.filter };
    tf.tidy(() => {
      const x = tf.tensor(normalData(c.x, 10), c.x);
      const run =
        (dy: tf.Tensor, extra: object = {}) =>
        () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, ...extra } as unknown as tf.NamedAttrMap);
      expect(run(tf.zeros([1, 7, 7, 5]))).toThrow(/dy shape does not match the convolution \(expected \[1,7,7,4\], got \[1,7,7,5\]\)/);
      expect(run(tf.zeros([1, 7, 7, 4]), { dataFormat: 'NCHW' })).toThrow(/expected NHWC, got NCHW/);
    });
  });
});
