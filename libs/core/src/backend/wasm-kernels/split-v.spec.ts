import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';

describe('SplitV on wasm (block copies)', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  const CASES: { name: string; shape: number[]; splits: number | number[]; axis: number }[] = [
    { name: 'channels of NHWC in two groups (grouped conv)', shape: [2, 5, 4, 6], splits: 2, axis: 3 },
    { name: 'uneven sizes with −1 on a middle axis', shape: [3, 7, 2], splits: [2, -1, 1], axis: 1 },
    { name: 'first axis', shape: [5, 3], splits: [1, 4], axis: 0 },
    { name: 'negative axis, a zero-size part', shape: [2, 3, 4], splits: [0, 4], axis: -1 },
  ];

  it.each(CASES)('matches the cpu backend exactly: $name', async (c) => {
    const x = normalData(c.shape, 1);
    const run = () => tf.split(tf.tensor(x, c.shape), c.splits, c.axis);
    const expected = await runOnBackend('cpu', run);
    const actual = await runOnBackend('wasm', run);
    expect(actual.length).toBe(expected.length);
    actual.forEach((part, i) => expect(Array.from(part)).toEqual(Array.from(expected[i])));
  });

  it('splits int32 tensors and hands bool tensors to the wasm kernel', async () => {
    const ints = await runOnBackend('wasm', () => tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [1, 2], 1));
    expect(ints.map((p) => Array.from(p))).toEqual([
      [1, 4],
      [2, 3, 5, 6],
    ]);
    const bools = await runOnBackend('wasm', () => tf.split(tf.tensor1d([true, false, true, true], 'bool'), 2));
    expect(bools.map((p) => Array.from(p))).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  it('has the gradient of concat and leaves no buffer behind', async () => {
    const x = normalData([2, 3, 3, 4], 2);
    const grad = () =>
      tf.grad((t: tf.Tensor) =>
        tf
          .concat(tf.split(t, 2, 3).reverse(), 3)
          .mul(tf.range(0, 72).reshape([2, 3, 3, 4]))
          .sum(),
      )(tf.tensor(x, [2, 3, 3, 4]));
    const [expected] = await runOnBackend('cpu', grad);
    const [actual] = await runOnBackend('wasm', grad);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    await expectNoLeaks(() => tf.tidy(() => tf.split(tf.tensor(x, [2, 3, 3, 4]), [1, 3], 3).forEach((t) => t.dataSync())));
  });
});
