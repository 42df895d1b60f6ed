import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, nativeBlasForSpecs, normalData, runOnBackend } from '../../testing/backend-comparison';

/**
 * A small network with every layer type of the reference models (dropout left
 * out: its mask differs between backends): conv + batch norm (batch
 * statistics) + relu, max pooling, LRN, grouped conv (split → conv → concat) with stride 2, depthwise conv, average
 * pooling, a dense layer and the softmax cross-entropy loss.
 */
const SHAPES = {
  x: [2, 16, 16, 3],
  w1: [3, 3, 3, 8],
  gamma: [8],
  beta: [8],
  w2: [3, 3, 4, 6],
  w3: [3, 3, 6, 2],
  w4: [48, 5],
  b4: [5],
} as const;

type Params = Record<keyof typeof SHAPES, tf.Tensor>;

function loss(p: Params, labels: tf.Tensor): tf.Scalar {
  // No bias before batch norm: its gradient is zero, so only rounding noise would be compared.
  let h = tf.conv2d(p.x as tf.Tensor4D, p.w1 as tf.Tensor4D, 1, 'same');
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.relu(tf.batchNorm(h, mean, variance, p.beta, p.gamma, 1e-3)) as tf.Tensor4D;
  h = tf.maxPool(h, 3, 2, 'same');
  h = tf.localResponseNormalization(h, 2, 1, 1e-2, 0.75);
  const groups = tf.split(h, 2, 3);
  const filters = tf.split(p.w2, 2, 3);
  h = tf.concat(
    groups.map((g, i) => tf.conv2d(g as tf.Tensor4D, filters[i] as tf.Tensor4D, 2, 'same')),
    3,
  );
  h = tf.relu(h);
  h = tf.depthwiseConv2d(h, p.w3 as tf.Tensor4D, 1, 'same');
  h = tf.avgPool(h, 2, 2, 'valid');
  const logits = tf.matMul(tf.reshape(h, [2, -1]) as tf.Tensor2D, p.w4 as tf.Tensor2D).add(p.b4);
  // Softmax cross-entropy spelled out: tf.losses.softmaxCrossEntropy is a customGrad
  // op, which tfjs's IS_TEST leak check flags on every backend.
  const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 1, true));
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), 1)));
}

const native = nativeBlasForSpecs();

describe.each([
  { kernels: 'portable', nativeBlas: false, skip: false },
  { kernels: 'native BLAS', nativeBlas: true, skip: native === undefined },
])('training gradients on wasm with ddinit kernels ($kernels)', ({ nativeBlas, skip }) => {
  beforeAll(async () => {
    if (!skip) expect((await useBackend('wasm', { nativeBlas })).nativeBlas?.active).toBe(nativeBlas);
  });

  const names = Object.keys(SHAPES) as (keyof typeof SHAPES)[];
  const data = names.map((name, i) => normalData([...SHAPES[name]], 100 + i));
  const gradients = () =>
    tf.tidy(() => {
      const labels = tf.oneHot(tf.tensor1d([1, 4], 'int32'), 5);
      const f = (...args: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, args[i]])) as Params, labels);
      return tf.grads(f)(names.map((n, i) => tf.tensor(data[i], [...SHAPES[n]])));
    });

  it.skipIf(skip)('match the cpu backend for the input and every parameter', async () => {
    const expected = await runOnBackend('cpu', gradients);
    const actual = await runOnBackend('wasm', gradients);
    names.forEach((name, i) => {
      expect(actual[i].length, name).toBe(expected[i].length);
      expect(relativeError(actual[i], expected[i]), name).toBeLessThanOrEqual(1e-4);
    });
  });

  it.skipIf(skip)('leave nothing behind', async () => {
    await expectNoLeaks(() => tf.tidy(() => gradients().map((g) => g.dataSync())));
  });
});
