import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { dot, expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';
import { flipAndSwapFilter } from './conv2d-backprop-input';
import { CONV_CASES, convOutputShape as outputShape, type ConvCase } from '../../testing/conv-cases';
import { chunkBudget } from './image-chunks';

function backpropInput(c: ConvCase, dy: Float32Array, w: Float32Array): tf.Tensor {
  return tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.tensor(dy, outputShape(c)), filter: tf.tensor(w, c.filter) }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    inputShape: c.x,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('flipAndSwapFilter', () => {
  it("writes W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]", () => {
    const shape: [number, number, number, number] = [2, 3, 4, 5];
    const w = normalData(shape, 1);
    const out = flipAndSwapFilter(w, new Float32Array(w.length), shape);
    const [KH, KW, CI, CO] = shape;
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++)
        for (let ci = 0; ci < CI; ci++)
          for (let co = 0; co < CO; co++) {
            const src = ((kh * KW + kw) * CI + ci) * CO + co;
            const dst = (((KH - 1 - kh) * KW + (KW - 1 - kw)) * CO + co) * CI + ci;
            expect(out[dst]).toBe(w[src]);
          }
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false }); // the portable kernels (native-kernels.spec.ts covers the addon)
  });
  afterEach(() => {
    chunkBudget.maxElements = 1 << 24;
  });

  it.each(CONV_CASES)('matches the cpu backend: $name', async (c) => {
    const dy = normalData(outputShape(c), 1);
    const w = normalData(c.filter, 2);
    const [expected] = await runOnBackend('cpu', () => backpropInput(c, dy, w));
    const [actual] = await runOnBackend('wasm', () => backpropInput(c, dy, w));
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('is the adjoint of conv2d: <dy, conv2d(x, w)> = <dx, x>', async () => {
    for (const c of [CONV_CASES[0], CONV_CASES[2]]) {
      const x = normalData(c.x, 3);
      const w = normalData(c.filter, 4);
      const dy = normalData(outputShape(c), 5);
      const [y, dx] = await runOnBackend('wasm', () => [
        tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad as 'same'),
        backpropInput(c, dy, w),
      ]);
      expect(Math.abs(dot(dy, y) - dot(dx, x)) / Math.abs(dot(dy, y))).toBeLessThan(1e-4);
    }
  });

  it('computes conv2dTranspose (whose forward is this kernel) like the cpu backend', async () => {
    const x = normalData([2, 5, 6, 4], 6);
    const w = normalData([3, 3, 3, 4], 7);
    const op = () => tf.conv2dTranspose(tf.tensor4d(x, [2, 5, 6, 4]), tf.tensor4d(w, [3, 3, 3, 4]), [2, 10, 12, 3], 2, 'same');
    const [expected] = await runOnBackend('cpu', op);
    const [actual] = await runOnBackend('wasm', op);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('gives the same result over image chunks (col2im path)', async () => {
    const c = CONV_CASES[1];
    const dy = normalData(outputShape(c), 8);
    const w = normalData(c.filter, 9);
    const [whole] = await runOnBackend('wasm', () => backpropInput(c, dy, w));
    chunkBudget.maxElements = 1;
    const [chunked] = await runOnBackend('wasm', () => backpropInput(c, dy, w));
    expect(relativeError(chunked, whole)).toBeLessThanOrEqual(1e-6);
  });

  it('frees every intermediate on both paths', async () => {
    for (const c of [CONV_CASES[0], CONV_CASES[4], CONV_CASES[6]]) {
      const dy = normalData(outputShape(c), 10);
      const w = normalData(c.filter, 11);
      await expectNoLeaks(() => tf.tidy(() => backpropInput(c, dy, w).dataSync()));
      chunkBudget.maxElements = 1;
      await expectNoLeaks(() => tf.tidy(() => backpropInput(c, dy, w).dataSync()));
      chunkBudget.maxElements = 1 << 24;
    }
  });

  it('rejects a dy of the wrong shape, naming both shapes', () => {
    const c = CONV_CASES[0];
    tf.tidy(() => {
      const run = () =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.zeros([1, 6, 7, 4]), filter: tf.zeros(c.filter) }, {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          inputShape: c.x,
        } as unknown as tf.NamedAttrMap);
      expect(run).toThrow(/dy shape does not match the convolution \(expected \[1,7,7,4\], got \[1,6,7,4\]\)/);
    });
  });
});
