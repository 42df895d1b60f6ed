import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { dot, expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  name: string;
  x: [number, number, number, number];
  /** [KH, KW, C, multiplier] */
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
}

const CASES: Case[] = [
  { name: '3×3 multiplier 1, stride 1 same, batch 1', x: [1, 6, 7, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same' },
  { name: '3×3 multiplier 2, stride 2 valid', x: [2, 9, 8, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'valid' },
  { name: '5×3 multiplier 3, strides [2,1] same', x: [3, 10, 7, 2], filter: [5, 3, 2, 3], strides: [2, 1], pad: 'same' },
  {
    name: 'explicit padding',
    x: [2, 5, 6, 3],
    filter: [3, 3, 3, 1],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
  },
];

const DILATED: Case = { name: 'dilation 2', x: [2, 9, 9, 3], filter: [3, 3, 3, 2], strides: 1, pad: 'same', dilations: 2 };

function outShape(c: Case): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad, undefined, true).outShape;
}

function attrs(c: Case, shapeAttr: object): tf.NamedAttrMap {
  return { strides: c.strides, pad: c.pad, dilations: c.dilations ?? 1, ...shapeAttr } as unknown as tf.NamedAttrMap;
}

function backpropFilter(c: Case, x: Float32Array, dy: Float32Array): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x: tf.tensor(x, c.x), dy: tf.tensor(dy, outShape(c)) },
      attrs(c, { filterShape: c.filter }),
    ) as tf.Tensor;
}

function backpropInput(c: Case, dy: Float32Array, w: Float32Array): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy: tf.tensor(dy, outShape(c)), filter: tf.tensor(w, c.filter) },
      attrs(c, { inputShape: c.x }),
    ) as tf.Tensor;
}

describe('depthwise conv2d backprop kernels on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it.each(CASES)('match the cpu backend: $name', async (c) => {
    const x = normalData(c.x, 1);
    const w = normalData(c.filter, 2);
    const dy = normalData(outShape(c), 3);
    const expected = await runOnBackend('cpu', () => [backpropFilter(c, x, dy), backpropInput(c, dy, w)]);
    const actual = await runOnBackend('wasm', () => [backpropFilter(c, x, dy), backpropInput(c, dy, w)]);
    expect(relativeError(actual[0], expected[0])).toBeLessThanOrEqual(1e-4);
    expect(relativeError(actual[1], expected[1])).toBeLessThanOrEqual(1e-4);
  });

  // The cpu backend's depthwise backprop loops ignore dilations (tfjs only reaches
  // them with dilation 1), so dilated kernels are checked as adjoints of the forward.
  it.each([...CASES, DILATED])('are adjoints of depthwiseConv2d: $name', async (c) => {
    const x = normalData(c.x, 4);
    const w = normalData(c.filter, 5);
    const dy = normalData(outShape(c), 6);
    const [y, dW, dx] = await runOnBackend('wasm', () => [
      tf.depthwiseConv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad, 'NHWC', c.dilations ?? 1),
      backpropFilter(c, x, dy),
      backpropInput(c, dy, w),
    ]);
    const reference = Math.abs(dot(dy, y));
    expect(Math.abs(dot(dW, w) - dot(dy, y)) / reference).toBeLessThan(1e-4);
    expect(Math.abs(dot(dx, x) - dot(dy, y)) / reference).toBeLessThan(1e-4);
  });

  it('give separableConv2d gradients like the cpu backend', async () => {
    const x = normalData([2, 7, 7, 3], 7);
    const dw = normalData([3, 3, 3, 2], 8);
    const pw = normalData([1, 1, 6, 4], 9);
    const grads = () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.square(tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 1, 'same'))),
      )([tf.tensor4d(x, [2, 7, 7, 3]), tf.tensor4d(dw, [3, 3, 3, 2]), tf.tensor4d(pw, [1, 1, 6, 4])]);
    const expected = await runOnBackend('cpu', grads);
    const actual = await runOnBackend('wasm', grads);
    for (let i = 0; i < 3; i++) expect(relativeError(actual[i], expected[i])).toBeLessThanOrEqual(1e-4);
  });

  it('free every intermediate', async () => {
    const c = CASES[2];
    const x = normalData(c.x, 10);
    const w = normalData(c.filter, 11);
    const dy = normalData(outShape(c), 12);
    await expectNoLeaks(() => tf.tidy(() => [backpropFilter(c, x, dy).dataSync(), backpropInput(c, dy, w).dataSync()]));
  });

  it('reject a dy of the wrong shape, naming both shapes', () => {
    const c = CASES[0];
    tf.tidy(() => {
      const run = () =>
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: tf.zeros(c.x), dy: tf.zeros([1, 6, 7, 3]) }, attrs(c, { filterShape: c.filter }));
      expect(run).toThrow(/dy shape does not match the convolution \(expected \[1,6,7,4\], got \[1,6,7,3\]\)/);
    });
  });
});
