import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';

describe('Sum on wasm over leading axes (column sums)', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  const CASES: { name: string; shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
    { name: "a conv bias's gradient: batch, height, width", shape: [4, 5, 6, 7], axis: [0, 1, 2] },
    { name: 'the batch axis of a matrix, kept', shape: [9, 5], axis: 0, keepDims: true },
    { name: 'negative and unordered leading axes', shape: [3, 4, 5], axis: [-2, 0] },
    { name: 'every axis (wasm’s own)', shape: [3, 4, 5], axis: [0, 1, 2] },
    { name: 'inner axes (wasm’s own)', shape: [3, 4, 5], axis: [1, 2] },
    { name: 'a middle axis (wasm’s own)', shape: [3, 4, 5], axis: 1, keepDims: true },
  ];

  it.each(CASES)('matches the cpu backend: $name', async (c) => {
    const x = normalData(c.shape, 3);
    const run = () => tf.sum(tf.tensor(x, c.shape), c.axis, c.keepDims ?? false);
    const [expected] = await runOnBackend('cpu', run);
    const shapes = await Promise.all(['cpu', 'wasm'].map((b) => runShape(b as 'cpu' | 'wasm', run)));
    const [actual] = await runOnBackend('wasm', run);
    expect(shapes[1]).toEqual(shapes[0]);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-6);
    await expectNoLeaks(() => tf.tidy(() => run().dataSync()));
  });

  it('accumulates in float64: the sum is rounded once', () => {
    // 2²⁴ and four 1s, 4 rows apart (the same SIMD lane): exactly 2²⁴ + 4; added one by one in float32 every 1 is lost.
    const values = Array.from({ length: 17 }, (_, i) => (i === 0 ? 16777216 : i % 4 === 0 ? 1 : 0));
    const sum = tf.tidy(() => tf.sum(tf.tensor2d(values, [17, 1]), 0).dataSync());
    expect(Array.from(sum)).toEqual([16777220]);
  });

  it('gives a bias its gradient as the cpu backend does, and int32 sums to wasm’s own', async () => {
    const x = normalData([2, 3, 3, 4], 5);
    const grad = () => tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.tensor(x, [2, 3, 3, 4]), b), tf.range(0, 72).reshape([2, 3, 3, 4]))))(tf.zeros([4]));
    const [expected] = await runOnBackend('cpu', grad);
    const [actual] = await runOnBackend('wasm', grad);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-6);
    expect(Array.from(tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0).dataSync()))).toEqual([4, 6]);
  });
});

async function runShape(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<number[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => fn().shape);
  } finally {
    await tf.setBackend(previous);
  }
}
