import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptivePool2d, defaultPoolBudget, pooledSize } from './adaptive-pool';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('adaptive pooling', () => {
  it('pools a 5×5 map to 2×2 with overlapping bins rows/columns 0–2 and 2–4', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 25 }, (_, i) => i),
      [1, 5, 5, 1],
    );
    await expectNoLeakedTensors(() => {
      const average = adaptivePool2d(x, [2, 2], 'average');
      const max = adaptivePool2d(x, [2, 2], 'max');
      // Bin (0,0) = rows 0–2 × columns 0–2: mean of {0,1,2,5,6,7,10,11,12} = 6, max 12.
      expect(Array.from(average.dataSync())).toEqual([6, 8, 16, 18]);
      expect(Array.from(max.dataSync())).toEqual([12, 14, 22, 24]);
      tf.dispose([average, max]);
    });
    x.dispose();
  });

  it('keeps a map that already has the size, and pools channels independently', async () => {
    const x = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
    await expectNoLeakedTensors(() => {
      const same = adaptivePool2d(x, [3, 4], 'max');
      expect(Array.from(same.dataSync())).toEqual(Array.from(x.dataSync()));
      const global = adaptivePool2d(x, [1, 1], 'average');
      const reference = tf.mean(x, [1, 2], true);
      expect(relativeError(global.dataSync(), reference.dataSync())).toBeLessThan(1e-6);
      tf.dispose([same, global, reference]);
    });
    x.dispose();
  });

  it("reproduces the protocol's sizes at 227 px and scales the budget with the input side", () => {
    expect(pooledSize(55, 55, 96, 9000)).toEqual([10, 10]); // conv1: 9,600 values
    expect(pooledSize(27, 27, 256, 9000)).toEqual([6, 6]); // conv2: 9,216
    expect(pooledSize(13, 13, 384, 9000)).toEqual([5, 5]); // conv3, conv4: 9,600
    expect(pooledSize(13, 13, 256, 9000)).toEqual([6, 6]); // conv5: 9,216
    expect(pooledSize(3, 3, 16, 9000)).toEqual([3, 3]); // never larger than the map
    expect(pooledSize(6, 6, 5000, 9000)).toEqual([1, 1]); // never below one cell
    expect(defaultPoolBudget(227, 227)).toBe(9000);
    expect(defaultPoolBudget(28, 28)).toBe(1110);
    expect(defaultPoolBudget(512, 300)).toBe(9000);
    expect(() => pooledSize(5, 5, 3, 0)).toThrow(ConfigError);
  });
});
