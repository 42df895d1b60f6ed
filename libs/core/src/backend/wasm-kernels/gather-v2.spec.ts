import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';

describe('GatherV2 on wasm (copies in the heap)', () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  const CASES: { name: string; shape: number[]; indices: number[]; indexShape?: number[]; axis: number }[] = [
    { name: 'pixels of 3 channels (patch cutting)', shape: [40, 3], indices: [5, 0, 39, 5, 12], axis: 0 },
    { name: 'rows of 20 values (copyWithin)', shape: [6, 20], indices: [2, 2, 5, 0], axis: 0 },
    { name: 'a middle axis, 2-D indices', shape: [2, 7, 3], indices: [6, 0, 1, 1, 3, 2], indexShape: [2, 3], axis: 1 },
    { name: 'the last axis', shape: [3, 5], indices: [4, 0], axis: -1 },
    {
      name: 'runs of consecutive indices copied as blocks (patch rows), a run ending at the last row',
      shape: [30, 3],
      indices: [3, 4, 5, 6, 4, 5, 9, 27, 28, 29],
      axis: 0,
    },
    { name: 'runs under an outer axis', shape: [2, 12, 2], indices: [0, 1, 2, 7, 8, 11], axis: 1 },
  ];

  it.each(CASES)('matches the cpu backend exactly: $name', async (c) => {
    const x = normalData(c.shape, 7);
    const run = () => tf.gather(tf.tensor(x, c.shape), tf.tensor(c.indices, c.indexShape ?? [c.indices.length], 'int32'), c.axis);
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    await expectNoLeaks(() => tf.tidy(() => run().dataSync()));
  });

  it('moves int32 values bit for bit (NaN patterns of a float included) and refuses an index out of range', () => {
    const ints = tf.tensor1d([-1, 2143289344, 7], 'int32'); // 2143289344 is a float32 quiet-NaN bit pattern
    expect(Array.from(tf.tidy(() => tf.gather(ints, tf.tensor1d([1, 0, 2, 1], 'int32')).dataSync()))).toEqual([2143289344, -1, 7, 2143289344]);
    expect(() => tf.tidy(() => tf.gather(ints, tf.tensor1d([3], 'int32')))).toThrow(
      'wasm kernel GatherV2: a gather index is out of range (expected an index in [0, 2], got 3)',
    );
    ints.dispose();
  });
});
